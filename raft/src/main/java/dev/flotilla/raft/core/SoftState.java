package dev.flotilla.raft.core;

/** Volatile state worth telling the application about: who leads (0 = unknown) and our role. */
public record SoftState(long lead, Role role) {}

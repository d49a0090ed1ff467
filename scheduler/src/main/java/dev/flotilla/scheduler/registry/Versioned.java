package dev.flotilla.scheduler.registry;

/**
 * A value read from the store with the revision of its last change, for compare-and-set writes
 * (every write the engine makes is conditional, so a deposed leader's late writes fail).
 */
public record Versioned<T>(T value, long modRevision) {}

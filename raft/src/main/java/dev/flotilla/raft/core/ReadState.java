package dev.flotilla.raft.core;

/**
 * The answer to {@link RawNode#readIndex}: once this member has applied up to {@code index}, a read
 * of its state is linearizable with respect to the request identified by {@code context}.
 */
public record ReadState(long index, byte[] context) {}

package dev.flotilla.kv.client;

/** A granted lease: its ID and the TTL the store gave it (etcd raises small TTLs). */
public record LeaseGrant(long id, long ttlSeconds, long revision) {}

package dev.flotilla.raft.wal;

/** Everything a WAL record can hold; {@link RecordCodec} maps each to a type byte. */
sealed interface WalRecord permits WalEntry, HardState, SnapshotMarker, SegmentHeader {}

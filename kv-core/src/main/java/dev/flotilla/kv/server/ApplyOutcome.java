package dev.flotilla.kv.server;

import dev.flotilla.kv.v2.V2Error;
import dev.flotilla.kv.v2.V2Event;

/** What applying one log command produced, handed back to the client that proposed it. */
public sealed interface ApplyOutcome {
  /** Log index and term of the command: X-Raft-Index / X-Raft-Term. */
  long index();

  record V2Done(long index, V2Event event) implements ApplyOutcome {}

  record V2Failed(long index, V2Error error) implements ApplyOutcome {}

  record V3Done(long index, com.google.protobuf.Message response) implements ApplyOutcome {}

  record V3Failed(long index, dev.flotilla.kv.v3.V3Error error) implements ApplyOutcome {}

  /** A command with nothing to tell a client (expiry ticks). */
  record Done(long index) implements ApplyOutcome {}
}

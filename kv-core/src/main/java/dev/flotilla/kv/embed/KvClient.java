package dev.flotilla.kv.embed;

import dev.flotilla.kv.mvcc.ReadView;
import dev.flotilla.kv.server.ApplyOutcome;
import dev.flotilla.kv.server.StoreMember;
import dev.flotilla.kv.v2.V2Error;
import dev.flotilla.kv.v2.V2Event;
import dev.flotilla.kv.v2.V2Path;
import dev.flotilla.kv.v2.V2Reader;
import dev.flotilla.proto.store.StoreCommand;
import dev.flotilla.proto.store.V2Method;
import dev.flotilla.proto.store.V2Write;
import java.util.concurrent.ExecutionException;

/**
 * An in-process client of an embedded member, speaking the v2 keys model without sockets.
 * Keys and values here are ordinary text (UTF-8 on the wire of the HTTP API).
 */
public final class KvClient {
  private final StoreMember member;

  KvClient(StoreMember member) {
    this.member = member;
  }

  /** Reads a key or directory (children one level deep), linearizably. */
  public V2Event get(String key) throws V2Error {
    member.log().readBarrier().join();
    try (ReadView view = member.store().snapshot()) {
      return V2Reader.get(view, V2Path.fromText(key), false, member.nowNanos());
    }
  }

  public V2Event set(String key, String value) throws V2Error {
    return write(V2Write.newBuilder().setMethod(V2Method.V2_PUT)
        .setPath(V2Path.clean(V2Path.fromText(key))).setValue(V2Path.fromText(value)));
  }

  public V2Event delete(String key, boolean recursive) throws V2Error {
    return write(V2Write.newBuilder().setMethod(V2Method.V2_DELETE)
        .setPath(V2Path.clean(V2Path.fromText(key))).setRecursive(recursive));
  }

  private V2Event write(V2Write.Builder w) throws V2Error {
    w.setNowUnixNanos(member.nowNanos());
    byte[] cmd = StoreCommand.newBuilder().setV2Write(w).build().toByteArray();
    ApplyOutcome o;
    try {
      o = member.log().propose(cmd).get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for the store", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("the store failed the write: " + e.getCause().getMessage(), e.getCause());
    }
    if (o instanceof ApplyOutcome.V2Failed f) {
      throw f.error();
    }
    return ((ApplyOutcome.V2Done) o).event();
  }
}

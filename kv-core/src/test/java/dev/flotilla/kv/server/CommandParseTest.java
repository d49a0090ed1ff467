package dev.flotilla.kv.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.flotilla.proto.etcd.etcdserverpb.PutRequest;
import dev.flotilla.proto.etcd.etcdserverpb.RequestOp;
import dev.flotilla.proto.etcd.etcdserverpb.TxnRequest;
import dev.flotilla.proto.store.RequestAuth;
import dev.flotilla.proto.store.StoreCommand;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * How apply reads a log entry's command: a plain v3 put's value shares the entry's bytes (no copy
 * per put), every other command is copied out, so that a key of a large txn kept in the store's
 * cache does not keep the whole entry alive. Both read exactly what was written.
 */
class CommandParseTest {
  private static PutRequest put(String key, int valueBytes) {
    byte[] v = new byte[valueBytes];
    Arrays.fill(v, (byte) 'v');
    return PutRequest.newBuilder().setKey(ByteString.copyFromUtf8(key)).setValue(ByteString.copyFrom(v)).build();
  }

  @Test
  void aPutsValueSharesTheEntrysBytes() throws Exception {
    StoreCommand written = StoreCommand.newBuilder().setV3Put(put("k", 1024))
        .setRequestAuth(RequestAuth.newBuilder().setUsername("u")).build();
    byte[] entry = written.toByteArray();
    StoreCommand read = StoreStateMachine.parse(entry);
    assertThat(read).isEqualTo(written);
    // the value is a view of the entry: what the entry holds there is what the value reads
    int at = indexOf(entry, read.getV3Put().getValue().toByteArray());
    entry[at] = 'x';
    assertThat(read.getV3Put().getValue().byteAt(0)).isEqualTo((byte) 'x');
  }

  @Test
  void aTxnsValuesAreCopies() throws Exception {
    TxnRequest.Builder txn = TxnRequest.newBuilder();
    for (int i = 0; i < 3; i++) {
      txn.addSuccess(RequestOp.newBuilder().setRequestPut(put("k" + i, 512)));
    }
    StoreCommand written = StoreCommand.newBuilder().setV3Txn(txn).build();
    byte[] entry = written.toByteArray();
    StoreCommand read = StoreStateMachine.parse(entry);
    assertThat(read).isEqualTo(written);
    Arrays.fill(entry, (byte) 0);
    assertThat(read.getV3Txn().getSuccess(2).getRequestPut().getValue().byteAt(0)).isEqualTo((byte) 'v');
  }

  @Test
  void aDamagedEntryIsRefused() {
    byte[] entry = StoreCommand.newBuilder().setV3Put(put("k", 100)).build().toByteArray();
    byte[] cut = Arrays.copyOf(entry, entry.length - 10);
    assertThatThrownBy(() -> StoreStateMachine.parse(cut)).isInstanceOf(java.io.IOException.class);
  }

  private static int indexOf(byte[] in, byte[] part) {
    for (int i = 0; i + part.length <= in.length; i++) {
      if (Arrays.equals(in, i, i + part.length, part, 0, part.length)) {
        return i;
      }
    }
    throw new AssertionError("not found");
  }
}

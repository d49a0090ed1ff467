package dev.flotilla.kv.mvcc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.flotilla.proto.store.ChangeRecord;
import dev.flotilla.proto.store.KeyRecord;
import org.junit.jupiter.api.Test;

/**
 * A PUT's version record in {@code revs} is framed around the kv record's encoding instead of
 * encoding the version again: its bytes must be exactly what protobuf writes for
 * {@code ChangeRecord{type: PUT, kv}}, so that stores written before and after read alike.
 */
class PutVersionEncodingTest {
  @Test
  void framedVersionIsProtobufsOwnEncoding() {
    for (int size : new int[] {0, 1, 100, 127, 128, 1024, 16_384, 300_000}) {
      KeyRecord rec = KeyRecord.newBuilder()
          .setKey(ByteString.copyFrom(new byte[] {3, 'k', 'e', 'y'}))
          .setCreateRevision(7).setModRevision(9).setVersion(3).setLease(size)
          .setValue(ByteString.copyFrom(new byte[size]))
          .build();
      byte[] expected = ChangeRecord.newBuilder().setType(ChangeRecord.Type.PUT).setKv(rec).build().toByteArray();
      assertThat(WriteTxn.putVersion(rec.toByteArray())).as("value of %d bytes", size).isEqualTo(expected);
    }
  }

  @Test
  void anEmptyRecordStillCarriesItsKvField() throws Exception {
    byte[] framed = WriteTxn.putVersion(KeyRecord.getDefaultInstance().toByteArray());
    assertThat(ChangeRecord.parseFrom(framed).hasKv()).isTrue(); // as ChangeRecord.setKv(empty) writes it
    assertThat(framed).isEqualTo(ChangeRecord.newBuilder().setKv(KeyRecord.getDefaultInstance()).build().toByteArray());
  }

  @Test
  void aDeletesHistoryAndVersionRecordsAreProtobufsOwnEncodings() {
    for (int size : new int[] {0, 1, 120, 127, 128, 256, 16_384}) {
      KeyRecord tomb = KeyRecord.newBuilder().setKey(ByteString.copyFrom(new byte[size])).setModRevision(size * 1000L + 5).build();
      ChangeRecord.Builder change = ChangeRecord.newBuilder().setType(ChangeRecord.Type.DELETE).setKv(tomb);
      byte[] history = WriteTxn.deleteHistory(tomb);
      assertThat(history).as("key of %d bytes", size).isEqualTo(change.setPrevInRevs(true).build().toByteArray());
      assertThat(java.util.Arrays.copyOf(history, history.length - 2))
          .isEqualTo(change.setPrevInRevs(false).build().toByteArray());
    }
  }
}

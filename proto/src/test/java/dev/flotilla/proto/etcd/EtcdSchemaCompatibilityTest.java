package dev.flotilla.proto.etcd;

import static java.util.Map.entry;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.SoftAssertions.assertSoftly;

import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.EnumDescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import dev.flotilla.proto.etcd.etcdserverpb.RpcProto;
import dev.flotilla.proto.etcd.SchemaDiff.Schema;
import io.etcd.jetcd.api.JetcdProto;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Our etcd v3 schema (etcd/etcdserverpb/rpc.proto, etcd/mvccpb/kv.proto, etcd/authpb/auth.proto)
 * against two copies of etcd's that we did not write: the descriptors compiled into the real
 * etcd 3.4 binary (must match exactly), and jetcd 0.8.6's generated classes (must match except
 * for the gaps listed in {@link #JETCD_GAPS}, each with its reason).
 */
class EtcdSchemaCompatibilityTest {
  static final Set<String> PACKAGES = Set.of("etcdserverpb", "mvccpb", "authpb");

  /**
   * Where jetcd's copy of etcd's schema differs from etcd 3.4's, as {@link SchemaDiff} words it
   * ("ours" = Flotilla = etcd 3.4). jetcd trims etcd's files to what its client uses and adds one
   * RPC of its own. Every entry must still occur: a stale one fails the test too.
   */
  static final Map<String, String> JETCD_GAPS = Map.ofEntries(
      entry("message authpb.UserAddOptions: only in ours",
          "3.4 added `user add --no-password` (UserAddOptions); jetcd's auth.proto predates it"),
      entry("field authpb.User #4: only in ours (options optional message authpb.UserAddOptions)",
          "3.4 (no_password users); jetcd's auth.proto predates it"),
      entry("field etcdserverpb.AuthUserAddRequest #3: only in ours (options optional message authpb.UserAddOptions)",
          "3.4 (`user add --no-password`); jetcd cannot send it"),
      entry("enum value etcdserverpb.AlarmType.CORRUPT = 2: only in ours",
          "etcd 3.3 added the CORRUPT alarm (corruption checks); jetcd only knows NONE and NOSPACE"),
      entry("enum value etcdserverpb.Compare.CompareTarget.LEASE = 4: only in ours",
          "etcd 3.3 added lease compares in txns; jetcd cannot build them"),
      entry("field etcdserverpb.Compare #8: only in ours (lease optional int64 oneof=target_union)",
          "etcd 3.3 added lease compares in txns; jetcd cannot build them"),
      entry("field etcdserverpb.WatchCreateRequest #7: only in ours (watch_id optional int64)",
          "3.4: client-chosen watch ids; jetcd lets the server pick"),
      entry("field etcdserverpb.WatchCreateRequest #8: only in ours (fragment optional bool)",
          "3.4: fragmented watch responses; jetcd never asks for them"),
      entry("field etcdserverpb.WatchResponse #7: only in ours (fragment optional bool)",
          "3.4: fragmented watch responses; jetcd never asks for them"),
      entry("message etcdserverpb.LeaseCheckpoint: only in ours",
          "3.4 lease checkpoints are raft-internal (no RPC carries them); jetcd leaves them out"),
      entry("message etcdserverpb.LeaseCheckpointRequest: only in ours",
          "3.4 lease checkpoints are raft-internal (no RPC carries them); jetcd leaves them out"),
      entry("message etcdserverpb.LeaseCheckpointResponse: only in ours",
          "3.4 lease checkpoints are raft-internal (no RPC carries them); jetcd leaves them out"),
      entry("rpc etcdserverpb.Lease/LeaseLeases: only in ours",
          "etcd 3.3 added LeaseLeases (`etcdctl lease list`); jetcd's copy lacks it"),
      entry("message etcdserverpb.LeaseLeasesRequest: only in ours", "LeaseLeases (etcd 3.3), see above"),
      entry("message etcdserverpb.LeaseLeasesResponse: only in ours", "LeaseLeases (etcd 3.3), see above"),
      entry("message etcdserverpb.LeaseStatus: only in ours", "LeaseLeases (etcd 3.3), see above"),
      entry("rpc etcdserverpb.Watch/Progress: only in theirs",
          "jetcd's own unary RPC; no etcd release has it (etcd asks for progress with "
              + "WatchRequest.progress_request on the Watch stream), so an etcd server answers it UNIMPLEMENTED"));

  static Schema ours() {
    return Schema.of(Schema.withDependencies(RpcProto.getDescriptor()), PACKAGES);
  }

  static Schema jetcd() {
    return Schema.of(Schema.withDependencies(JetcdProto.getDescriptor()), PACKAGES);
  }

  @Test
  void matchesTheSchemaCompiledIntoTheEtcd34Binary() throws Exception {
    Path etcd = EtcdBinarySchema.requireEtcd();
    String version = EtcdBinarySchema.version(etcd);
    assertThat(version)
        .as("%s must be etcd 3.4 (Debian bookworm's etcd-server) to serve as the 3.4 oracle", etcd)
        .startsWith("3.4.");
    List<FileDescriptorProto> files = EtcdBinarySchema.descriptors(etcd, PACKAGES,
        Set.of("rpc.proto", "kv.proto", "auth.proto"));
    assertThat(files).as("etcd's rpc.proto, kv.proto and auth.proto descriptors inside %s", etcd)
        .extracting(FileDescriptorProto::getPackage)
        .containsExactlyInAnyOrderElementsOf(PACKAGES);
    Schema etcdSchema = Schema.of(files, PACKAGES);

    assertThat(SchemaDiff.diff(ours(), etcdSchema))
        .as("differences between our schema (ours) and etcd %s's (theirs)", version)
        .isEmpty();
    // an empty diff against a near-empty oracle would prove nothing
    assertThat(etcdSchema.messages().keySet()).as("messages in etcd's descriptors").hasSizeGreaterThan(90);
    assertThat(etcdSchema.services().keySet()).as("services in etcd's descriptors").hasSize(6);
  }

  @Test
  void matchesJetcdsCopyExceptTheListedGaps() {
    List<String> diff = SchemaDiff.diff(ours(), jetcd());

    List<String> unexpected = diff.stream().filter(d -> !JETCD_GAPS.containsKey(d)).toList();
    List<String> stale = JETCD_GAPS.keySet().stream().filter(k -> !diff.contains(k)).sorted().toList();
    assertSoftly(soft -> {
      soft.assertThat(unexpected).as("differences from jetcd 0.8.6 that are not in JETCD_GAPS").isEmpty();
      soft.assertThat(stale).as("JETCD_GAPS entries that no longer occur (remove them)").isEmpty();
    });
  }

  @Test
  void coversEveryServiceAndRpcOfEtcd34() {
    Map<String, List<String>> rpcs = new TreeMap<>();
    ours().services().forEach((name, s) ->
        rpcs.put(name, s.getMethodList().stream().map(m -> m.getName()).toList()));
    assertThat(rpcs).containsOnlyKeys("etcdserverpb.KV", "etcdserverpb.Watch", "etcdserverpb.Lease",
        "etcdserverpb.Cluster", "etcdserverpb.Maintenance", "etcdserverpb.Auth");
    assertThat(rpcs.get("etcdserverpb.Lease"))
        .containsExactly("LeaseGrant", "LeaseRevoke", "LeaseKeepAlive", "LeaseTimeToLive", "LeaseLeases");
    assertThat(rpcs.get("etcdserverpb.Cluster"))
        .containsExactly("MemberAdd", "MemberRemove", "MemberUpdate", "MemberList", "MemberPromote");
    // 3.5 additions stay out: Maintenance.Downgrade, Auth.AuthStatus
    assertThat(rpcs.get("etcdserverpb.Maintenance")).doesNotContain("Downgrade").hasSize(7);
    assertThat(rpcs.get("etcdserverpb.Auth")).doesNotContain("AuthStatus").hasSize(16);
  }

  /** The comparison itself must catch each kind of difference, or the tests above prove nothing. */
  @Test
  void schemaDiffReportsEveryKindOfDifference() {
    List<FileDescriptorProto> files = new ArrayList<>(Schema.withDependencies(RpcProto.getDescriptor()));
    int rpc = indexOfPackage(files, "etcdserverpb");
    FileDescriptorProto.Builder b = files.get(rpc).toBuilder();
    DescriptorProto.Builder put = messageBuilder(b, "PutRequest");
    fieldBuilder(put, "lease").setNumber(33);                               // renumbered
    fieldBuilder(put, "prev_kv").setName("prevKv");                         // renamed
    fieldBuilder(put, "ignore_value").setType(FieldDescriptorProto.Type.TYPE_INT32); // retyped
    fieldBuilder(put, "key").setLabel(FieldDescriptorProto.Label.LABEL_REPEATED);   // relabelled
    DescriptorProto.Builder range = messageBuilder(b, "RangeResponse");
    fieldBuilder(range, "kvs").setTypeName(".mvccpb.Event");                // other message type
    EnumDescriptorProto.Builder alarm = enumBuilder(b, "AlarmType");
    alarm.getValueBuilderList().stream().filter(v -> v.getName().equals("CORRUPT")).findFirst()
        .orElseThrow().setNumber(7);                                         // enum value renumbered
    b.getServiceBuilderList().stream().filter(s -> s.getName().equals("Lease")).findFirst().orElseThrow()
        .getMethodBuilderList().stream().filter(m -> m.getName().equals("LeaseKeepAlive")).findFirst()
        .orElseThrow().setClientStreaming(false);                            // streaming shape
    removeMessage(b, "HashKVRequest");                                       // message missing
    files.set(rpc, b.build());

    List<String> diff = SchemaDiff.diff(ours(), Schema.of(files, PACKAGES));

    assertThat(diff).containsExactlyInAnyOrder(
        "field etcdserverpb.PutRequest #3: only in ours (lease optional int64)",
        "field etcdserverpb.PutRequest #33: only in theirs (lease optional int64)",
        "field etcdserverpb.PutRequest #4: ours (prev_kv optional bool) vs theirs (prevKv optional bool)",
        "field etcdserverpb.PutRequest #5: ours (ignore_value optional bool) vs theirs (ignore_value optional int32)",
        "field etcdserverpb.PutRequest #1: ours (key optional bytes) vs theirs (key repeated bytes)",
        "field etcdserverpb.RangeResponse #2: ours (kvs repeated message mvccpb.KeyValue) "
            + "vs theirs (kvs repeated message mvccpb.Event)",
        "enum value etcdserverpb.AlarmType.CORRUPT: ours 2 vs theirs 7",
        "rpc etcdserverpb.Lease/LeaseKeepAlive: ours (stream etcdserverpb.LeaseKeepAliveRequest) returns "
            + "(stream etcdserverpb.LeaseKeepAliveResponse) vs theirs (etcdserverpb.LeaseKeepAliveRequest) "
            + "returns (stream etcdserverpb.LeaseKeepAliveResponse)",
        "message etcdserverpb.HashKVRequest: only in ours");
  }

  private static int indexOfPackage(List<FileDescriptorProto> files, String pkg) {
    for (int i = 0; i < files.size(); i++) {
      if (files.get(i).getPackage().equals(pkg)) {
        return i;
      }
    }
    throw new AssertionError("no file of package " + pkg);
  }

  private static DescriptorProto.Builder messageBuilder(FileDescriptorProto.Builder file, String name) {
    return file.getMessageTypeBuilderList().stream().filter(m -> m.getName().equals(name)).findFirst()
        .orElseThrow();
  }

  private static FieldDescriptorProto.Builder fieldBuilder(DescriptorProto.Builder m, String name) {
    return m.getFieldBuilderList().stream().filter(f -> f.getName().equals(name)).findFirst().orElseThrow();
  }

  private static EnumDescriptorProto.Builder enumBuilder(FileDescriptorProto.Builder file, String name) {
    return file.getEnumTypeBuilderList().stream().filter(e -> e.getName().equals(name)).findFirst()
        .orElseThrow();
  }

  private static void removeMessage(FileDescriptorProto.Builder file, String name) {
    for (int i = 0; i < file.getMessageTypeCount(); i++) {
      if (file.getMessageType(i).getName().equals(name)) {
        file.removeMessageType(i);
        return;
      }
    }
    throw new AssertionError("no message " + name);
  }
}

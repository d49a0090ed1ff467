package dev.flotilla.kv.api.v2;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flotilla.kv.server.MemberIdentity;
import dev.flotilla.kv.server.Reconfiguration;
import dev.flotilla.kv.server.ReplicatedLog;
import dev.flotilla.kv.server.StoreMember;
import dev.flotilla.proto.store.MemberRecord;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Changes to the cluster's membership through etcd's v2 members API: POST adds a member, DELETE
 * removes one, PUT changes a member's peer URLs. The leader carries a change out; any other member
 * passes the request on to the leader's client URL and returns its answer, as etcd's followers
 * propose through their leader. Status codes and messages are etcd's (201/204, 400, 404, 409, 410,
 * 500).
 */
final class V2MembersService {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** An answer: status and JSON body (empty for 204). */
  record Answer(int status, String body) {}

  private final StoreMember member;
  /** The leader's side of a change, shared with the v3 Cluster service (checks, conf change). */
  private final Reconfiguration reconfiguration;
  /** Made at the first change a follower passes on: each HttpClient starts a selector thread. */
  private HttpClient http;

  /** One for the member's client port: its handlers (one per connection) share it. */
  V2MembersService(StoreMember member) {
    this.member = member;
    this.reconfiguration = new Reconfiguration(member);
  }

  private synchronized HttpClient http() {
    if (http == null) {
      // an https leader is reached with this member's client certificate and trusted CA
      var b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2));
      if (member.clientTls() != null) {
        b.sslContext(member.clientTls().jdkClient());
      }
      http = b.build();
    }
    return http;
  }

  CompletableFuture<Answer> change(String method, String id, String body) {
    ReplicatedLog raft = member.replicatedLog();
    if (raft == null) {
      return done(500, "this kvd runs a single-node store (no --listen-peer-urls in a multi-member"
          + " --initial-cluster); membership changes need a clustered member");
    }
    try {
      return switch (method) {
        case "POST" -> add(raft, body);
        case "DELETE" -> remove(raft, id);
        case "PUT" -> update(raft, id, body);
        default -> done(405, "Method Not Allowed");
      };
    } catch (IllegalArgumentException e) {
      return done(400, e.getMessage());
    }
  }

  private CompletableFuture<Answer> add(ReplicatedLog raft, String body) {
    List<URI> urls = peerUrls(body);
    Reconfiguration.Refusal refused = reconfiguration.addRefusal(urls);
    if (refused != null) {
      return CompletableFuture.completedFuture(refusal(refused, ""));
    }
    if (!raft.isLeader()) {
      return forward("POST", "/v2/members", body);
    }
    return leaderSide(() -> reconfiguration.add(urls, false))
        .handle((rec, err) -> err == null ? new Answer(201, memberJson(rec).toString()) : failure(err));
  }

  private CompletableFuture<Answer> remove(ReplicatedLog raft, String hex) {
    long id = parseId(hex);
    if (member.machine().members().wasRemoved(id)) {
      return done(410, "Member permanently removed: " + hex);
    }
    if (member.machine().members().get(id) == null) {
      return done(404, "No such member: " + hex);
    }
    if (!raft.isLeader()) {
      return forward("DELETE", "/v2/members/" + hex, "");
    }
    return leaderSide(() -> reconfiguration.remove(id))
        .handle((v, err) -> err == null ? new Answer(204, "") : failure(err));
  }

  private CompletableFuture<Answer> update(ReplicatedLog raft, String hex, String body) {
    long id = parseId(hex);
    List<URI> urls = peerUrls(body);
    if (member.machine().members().wasRemoved(id)) {
      return done(410, "Member permanently removed: " + hex);
    }
    Reconfiguration.Refusal refused = reconfiguration.updateRefusal(id, urls);
    if (refused != null) {
      return CompletableFuture.completedFuture(refusal(refused, hex));
    }
    if (!raft.isLeader()) {
      return forward("PUT", "/v2/members/" + hex, body);
    }
    return leaderSide(() -> reconfiguration.update(id, urls))
        .handle((rec, err) -> err == null ? new Answer(204, "") : failure(err));
  }

  /** Passes a change on to the leader's client URL and returns the leader's answer. */
  private CompletableFuture<Answer> forward(String method, String path, String body) {
    MemberRecord lead = member.machine().members().get(member.leaderId());
    if (lead == null || lead.getClientUrlsCount() == 0) {
      return done(500, "etcdserver: no leader");
    }
    HttpRequest req = HttpRequest.newBuilder(URI.create(lead.getClientUrls(0) + path))
        .timeout(Duration.ofSeconds(10))
        .header("Content-Type", "application/json")
        .method(method, HttpRequest.BodyPublishers.ofString(body))
        .build();
    return http().sendAsync(req, HttpResponse.BodyHandlers.ofString())
        .handle((r, err) -> err == null ? new Answer(r.statusCode(), r.body())
            : new Answer(500, message("passing the request to the leader at " + lead.getClientUrls(0)
                + " failed: " + err.getMessage())));
  }

  private static List<URI> peerUrls(String body) {
    JsonNode root;
    try {
      root = JSON.readTree(body == null ? "" : body);
    } catch (java.io.IOException e) {
      throw new IllegalArgumentException("the body is not JSON like {\"peerURLs\":[\"http://10.0.0.10:2380\"]}: "
          + (e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getOriginalMessage() : e.getMessage()));
    }
    JsonNode list = root == null ? null : root.get("peerURLs");
    if (list == null || !list.isArray() || list.isEmpty()) {
      throw new IllegalArgumentException("peerURLs must be a non-empty list of URLs");
    }
    List<URI> urls = new ArrayList<>();
    for (JsonNode n : list) {
      URI u;
      try {
        u = new URI(n.asText());
      } catch (java.net.URISyntaxException e) {
        throw new IllegalArgumentException("peer URL '" + n.asText() + "' is not a URL: " + e.getMessage());
      }
      if (!"http".equals(u.getScheme()) && !"https".equals(u.getScheme()) || u.getHost() == null || u.getPort() < 0) {
        throw new IllegalArgumentException("URL scheme must be http or https with host and port: " + n.asText());
      }
      urls.add(u);
    }
    return urls;
  }

  private static long parseId(String hex) {
    try {
      return Long.parseUnsignedLong(hex, 16);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("member ID '" + hex + "' is not a hex-encoded uint64");
    }
  }

  static ObjectNode memberJson(MemberRecord r) {
    ObjectNode m = JSON.createObjectNode();
    m.put("id", MemberIdentity.hex(r.getId()));
    m.put("name", r.getName());
    ArrayNode peers = m.putArray("peerURLs");
    r.getPeerUrlsList().forEach(peers::add);
    ArrayNode clients = m.putArray("clientURLs");
    r.getClientUrlsList().forEach(clients::add);
    return m;
  }

  /** Runs the leader's side; a refusal thrown before anything was proposed fails the future instead. */
  private static <T> CompletableFuture<T> leaderSide(java.util.function.Supplier<CompletableFuture<T>> change) {
    try {
      return change.get();
    } catch (Reconfiguration.RefusedException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** etcd's v2 members API: 409 for a taken ID or peer URL, 404 for an unknown member, else 500. */
  private static Answer refusal(Reconfiguration.Refusal refusal, String hex) {
    return switch (refusal) {
      case MEMBER_EXISTS -> new Answer(409, message("membership: ID exists"));
      case PEER_URL_EXISTS -> new Answer(409, message("membership: peerURL exists"));
      case ID_REMOVED -> new Answer(409, message("membership: ID removed (a member with these peer URLs was"
          + " removed once; a replacement needs new peer URLs)"));
      case MEMBER_NOT_FOUND -> new Answer(404, message(hex.isEmpty() ? "No such member" : "No such member: " + hex));
      default -> new Answer(500, message(refusal.message));
    };
  }

  private static Answer failure(Throwable err) {
    Throwable cause = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
    if (cause instanceof Reconfiguration.RefusedException r) {
      return refusal(r.refusal(), "");
    }
    if (cause instanceof java.util.concurrent.TimeoutException) {
      return new Answer(500, message("etcdserver: request timed out"));
    }
    return new Answer(500, message(String.valueOf(cause.getMessage())));
  }

  private static CompletableFuture<Answer> done(int status, String message) {
    return CompletableFuture.completedFuture(new Answer(status, message(message)));
  }

  private static String message(String text) {
    return JSON.createObjectNode().put("message", text).toString();
  }
}

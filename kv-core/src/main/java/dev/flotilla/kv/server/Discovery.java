package dev.flotilla.kv.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * etcd's discovery protocol (v2discovery), as a client: the discovery URL is a directory in some
 * etcd v2 keyspace (discovery.etcd.io, any etcd, or any kvd's {@code /new?size=N}) whose
 * {@code _config/size} says how many members the cluster has. Each member registers itself under
 * its member ID with {@code prevExist=false} and the value {@code name=peerURL,...}; the first
 * {@code size} registrations (by creation index) are the cluster; later ones are told the cluster
 * is full. A member waits for the others with {@code wait=true&waitIndex}.
 */
public final class Discovery {
  private static final Logger log = LoggerFactory.getLogger(Discovery.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The discovery service said no: cluster full, size missing, ... (the member must not start). */
  public static final class DiscoveryException extends IOException {
    public DiscoveryException(String message) {
      super(message);
    }
  }

  private final URI url;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  public Discovery(String url) {
    String u = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    this.url = URI.create(u);
    if (this.url.getScheme() == null || this.url.getHost() == null) {
      throw new IllegalArgumentException("--discovery '" + url + "' is not a URL like http://host:2379/v2/keys/_etcd/registry/TOKEN");
    }
  }

  /**
   * Registers this member and waits until the cluster's {@code size} members have registered.
   *
   * @param self the member's own entry, {@code name=peerURL[,name=peerURL2]}
   * @return the initial cluster: {@code name=peerURL,...} of the first {@code size} members
   */
  public String join(long memberId, String self, Duration timeout) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    int size = size();
    String idKey = Long.toHexString(memberId);
    var put = send(HttpRequest.newBuilder(URI.create(url + "/" + idKey + "?prevExist=false"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .PUT(HttpRequest.BodyPublishers.ofString("value=" + URLEncoder.encode(self, StandardCharsets.UTF_8))));
    if (put.statusCode() == 412 && errorCode(put.body()) == 105) {
      log.info("discovery: member {} was registered already (a restart during discovery)", idKey);
    } else if (put.statusCode() != 201 && put.statusCode() != 200) {
      throw new DiscoveryException("discovery: registering at " + url + " failed: " + put.statusCode() + " " + put.body());
    }
    while (true) {
      var got = send(HttpRequest.newBuilder(URI.create(url + "?recursive=true&sorted=true")).GET());
      if (got.statusCode() != 200) {
        throw new DiscoveryException("discovery: reading " + url + " failed: " + got.statusCode() + " " + got.body());
      }
      JsonNode root = JSON.readTree(got.body());
      List<JsonNode> members = new ArrayList<>();
      for (JsonNode n : root.path("node").path("nodes")) {
        String key = n.path("key").asText();
        if (!key.endsWith("/_config") && !n.path("dir").asBoolean()) {
          members.add(n);
        }
      }
      members.sort(Comparator.comparingLong(n -> n.path("createdIndex").asLong()));
      boolean selfIn = false;
      for (int i = 0; i < Math.min(size, members.size()); i++) {
        if (members.get(i).path("key").asText().endsWith("/" + idKey)) {
          selfIn = true;
        }
      }
      if (members.size() >= size) {
        if (!selfIn) {
          throw new DiscoveryException("discovery: cluster is full (" + size + " members registered at " + url + ")");
        }
        List<String> parts = new ArrayList<>();
        for (JsonNode n : members.subList(0, size)) {
          parts.add(n.path("value").asText());
        }
        String cluster = String.join(",", parts);
        log.info("discovery: the {} members are in: {}", size, cluster);
        return cluster;
      }
      log.info("discovery: {} of {} members registered at {}; waiting for the others", members.size(), size, url);
      long index = Long.parseLong(got.headers().firstValue("X-Etcd-Index").orElse("0"));
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new DiscoveryException("discovery: only " + members.size() + " of " + size + " members registered at "
            + url + " in " + timeout);
      }
      try {
        http.send(HttpRequest.newBuilder(URI.create(url + "?wait=true&recursive=true&waitIndex=" + (index + 1)))
            .timeout(Duration.ofNanos(Math.min(left, Duration.ofSeconds(30).toNanos()))).GET().build(),
            HttpResponse.BodyHandlers.discarding());
      } catch (java.net.http.HttpTimeoutException e) {
        // nothing happened for a while: look again
      }
    }
  }

  private int size() throws IOException, InterruptedException {
    var r = send(HttpRequest.newBuilder(URI.create(url + "/_config/size")).GET());
    if (r.statusCode() == 404) {
      throw new DiscoveryException("discovery: " + url + " has no _config/size key; create the token with"
          + " GET /new?size=N on a kvd, or set <url>/_config/size on an etcd");
    }
    if (r.statusCode() != 200) {
      throw new DiscoveryException("discovery: reading " + url + "/_config/size failed: " + r.statusCode() + " " + r.body());
    }
    String v = JSON.readTree(r.body()).path("node").path("value").asText();
    try {
      int n = Integer.parseInt(v);
      if (n < 1) {
        throw new NumberFormatException();
      }
      return n;
    } catch (NumberFormatException e) {
      throw new DiscoveryException("discovery: " + url + "/_config/size is '" + v + "', not a positive number");
    }
  }

  private HttpResponse<String> send(HttpRequest.Builder b) throws IOException, InterruptedException {
    return http.send(b.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private static int errorCode(String body) {
    try {
      return JSON.readTree(body).path("errorCode").asInt(-1);
    } catch (IOException e) {
      return -1;
    }
  }
}

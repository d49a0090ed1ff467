package dev.flotilla.kv.server;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.util.function.LongSupplier;

/**
 * The member's Prometheus metrics, under etcd's names where etcd has one (so existing
 * dashboards and alerts work), under {@code flotilla_} where it has not.
 */
public final class StoreMetrics {
  private final PrometheusRegistry registry = new PrometheusRegistry();

  final Histogram walFsync = Histogram.builder()
      .name("etcd_disk_wal_fsync_duration_seconds")
      .help("The latency distributions of fsync called by the WAL (one per group of entries).")
      .classicOnly().classicExponentialUpperBounds(0.001, 2, 14)
      .register(registry);
  final Histogram walBatch = Histogram.builder()
      .name("flotilla_wal_entries_per_fsync")
      .help("How many log entries shared one WAL fsync (group commit).")
      .classicOnly().classicExponentialUpperBounds(1, 2, 14)
      .register(registry);
  final Histogram apply = Histogram.builder()
      .name("flotilla_apply_duration_seconds")
      .help("The latency distributions of applying one log entry to the store.")
      .classicOnly().classicExponentialUpperBounds(0.00001, 2, 16)
      .register(registry);
  final Counter proposalsFailed = Counter.builder()
      .name("etcd_server_proposals_failed_total")
      .help("The total number of failed proposals seen.")
      .register(registry);
  private final Counter requests = Counter.builder()
      .name("flotilla_http_requests_total")
      .help("Client HTTP requests by endpoint, method and status code.")
      .labelNames("endpoint", "method", "code")
      .register(registry);
  private final Histogram requestLatency = Histogram.builder()
      .name("flotilla_http_request_duration_seconds")
      .help("Client HTTP request latency by endpoint (until the answer is written).")
      .labelNames("endpoint")
      .classicOnly().classicExponentialUpperBounds(0.0001, 2, 18)
      .register(registry);

  private final Counter v2ReadCache = Counter.builder()
      .name("flotilla_v2_read_cache_total")
      .help("Plain v2 GETs by what the rendered-answer cache did: hit, or miss (rendered anew).")
      .labelNames("result")
      .register(registry);
  // resolved once: a label lookup per GET would cost more than the count
  private final CounterDataPoint v2ReadCacheHits = v2ReadCache.labelValues("hit");
  private final CounterDataPoint v2ReadCacheMisses = v2ReadCache.labelValues("miss");

  /** One plain v2 GET, answered from the rendered-answer cache or not. */
  public void v2ReadCache(boolean hit) {
    (hit ? v2ReadCacheHits : v2ReadCacheMisses).inc();
  }

  /** Registers the gauges that read the member's live state. */
  void bind(CommandLog log, LongSupplier appliedIndex, LongSupplier revision, LongSupplier pending) {
    gauge("etcd_server_has_leader", "Whether or not a leader exists. 1 is existence, 0 is not.",
        () -> log.isLeader() || log.leader() != 0 ? 1 : 0);
    gauge("etcd_server_is_leader", "Whether or not this member is a leader. 1 if is, 0 otherwise.",
        () -> log.isLeader() ? 1 : 0);
    gauge("flotilla_raft_term", "The current term of this member.", log::term);
    gauge("etcd_server_proposals_committed_total", "The total number of consensus proposals committed.",
        log::committedIndex);
    gauge("etcd_server_proposals_applied_total", "The total number of consensus proposals applied.",
        appliedIndex);
    gauge("etcd_server_proposals_pending", "The current number of pending proposals to commit.", pending);
    gauge("etcd_debugging_mvcc_current_revision", "The current revision of the store.", revision);
  }

  /** Leader changes seen (a single node saw one: itself). */
  void bindRaft(LongSupplier leaderChanges) {
    io.prometheus.metrics.core.metrics.CounterWithCallback.builder()
        .name("etcd_server_leader_changes_seen_total").help("The number of leader changes seen.")
        .callback(cb -> cb.call(leaderChanges.getAsLong())).register(registry);
  }

  private void gauge(String name, String help, LongSupplier value) {
    GaugeWithCallback.builder().name(name).help(help)
        .callback(cb -> cb.call(value.getAsLong())).register(registry);
  }

  public void request(String endpoint, String method, int code, long nanos) {
    requests.labelValues(endpoint, method, Integer.toString(code)).inc();
    requestLatency.labelValues(endpoint).observe(nanos / 1e9);
  }

  /** Writes every metric in Prometheus' text format. */
  public void writeTo(OutputStream out) throws IOException {
    new PrometheusTextFormatWriter(false).write(out, registry.scrape());
  }

  static double seconds(long nanos) {
    return nanos / 1e9;
  }
}

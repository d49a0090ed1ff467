package dev.flotilla.kv.client;

import java.util.List;

/**
 * Receives one watch's events. Calls come one at a time from a thread of the client's (never
 * a network or store thread, so a listener may call the store), events in revision order, each
 * once; after {@link #onCompacted} or {@link #onError} nothing more comes.
 */
public interface WatchListener {
  /** Events of one or more revisions, in revision order. */
  void onEvents(List<WatchEvent> events);

  /**
   * The watch's start revision (or the next one it needed) was compacted: events were lost and
   * the watch has ended. Read afresh and watch again from that read's revision + 1.
   */
  void onCompacted(long compactRevision);

  /** The watch ended for another reason (the server went away for good, the client closed). */
  void onError(StoreException error);
}

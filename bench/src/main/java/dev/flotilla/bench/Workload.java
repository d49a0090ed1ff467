package dev.flotilla.bench;

/** What each request of a v2 load run does to {@code /v2/keys/bench/k<n>}. */
enum Workload {
    /** {@code PUT} with form body {@code value=<value-size bytes>}. */
    PUT,
    /** Plain {@code GET}: served from the member's local store, no consensus round. */
    GET,
    /** {@code GET ?quorum=true}: the read goes through consensus. */
    QGET;

    String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** Reads need the keys to exist, otherwise every response is a 404. */
    boolean needsKeys() {
        return this != PUT;
    }
}

package dev.flotilla.kv.v2;

import java.util.List;

/**
 * One v2 event made by apply, with the paths of the nodes it removed (a deleted directory
 * removes its subtree; watchers on each removed path are told, as etcd does).
 */
public record V2Change(V2Event event, List<String> removedPaths) {}

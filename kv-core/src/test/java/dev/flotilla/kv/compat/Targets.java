package dev.flotilla.kv.compat;

import java.lang.reflect.InvocationTargetException;
import org.junit.jupiter.api.Assumptions;

/**
 * Starts the servers the compat tests compare: {@code "etcd"} (a second, independent etcd: the
 * control that proves the normalisation sound) or {@code "kvd"}. kvd is reached through
 * {@code KvdTarget}, looked up by name so that this suite compiles, and skips the kvd cases, when
 * that one file is left out (while kvd's embedding API is not there yet).
 */
final class Targets {
  static final String KVD_TARGET_CLASS = "dev.flotilla.kv.compat.KvdTarget";

  private Targets() {
  }

  static V2Target start(String kind, String name) {
    return switch (kind) {
      case "etcd" -> EtcdProcess.start(name);
      case "kvd" -> kvd(name);
      default -> throw new IllegalArgumentException("unknown target kind " + kind + "; use etcd or kvd");
    };
  }

  private static V2Target kvd(String name) {
    Class<?> c;
    try {
      c = Class.forName(KVD_TARGET_CLASS);
    } catch (ClassNotFoundException e) {
      Assumptions.abort("kvd target not compiled: " + KVD_TARGET_CLASS
          + " is missing (it needs dev.flotilla.kv.embed.EmbeddedKv)");
      throw new AssertionError("unreachable");
    }
    try {
      return (V2Target) c.getDeclaredMethod("start", String.class).invoke(null, name);
    } catch (InvocationTargetException e) {
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      throw new IllegalStateException("kvd did not start: " + e.getCause(), e.getCause());
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(KVD_TARGET_CLASS + " has no static start(String)", e);
    }
  }
}

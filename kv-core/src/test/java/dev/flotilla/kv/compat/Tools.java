package dev.flotilla.kv.compat;

import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.Assumptions;

/**
 * A test that needs an outside tool (etcd, etcdctl, python-etcd) skips with a message when the
 * tool is missing, except where FLOTILLA_REQUIRE_TOOLS=1 (CI): there a missing tool fails.
 */
public final class Tools {
  private Tools() {}

  public static boolean required() {
    return "1".equals(System.getenv("FLOTILLA_REQUIRE_TOOLS"));
  }

  public static void require(boolean present, String whatIsMissing) {
    if (!present) {
      if (required()) {
        fail(whatIsMissing + " (FLOTILLA_REQUIRE_TOOLS=1: tools must be installed here)");
      }
      Assumptions.abort(whatIsMissing);
    }
  }
}

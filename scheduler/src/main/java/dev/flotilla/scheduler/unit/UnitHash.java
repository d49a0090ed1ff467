package dev.flotilla.scheduler.unit;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * The content hash of a unit file: SHA-1 over its canonical text ({@link UnitFile#serialize()}),
 * as fleet computes it. Comments and formatting are not hashed; option order within a section is.
 * Shown as 40 hex digits, or the first 7 in listings ({@link #shortHex()}, as fleetctl does).
 */
public record UnitHash(String hex) {

  private static final Pattern HEX40 = Pattern.compile("[0-9a-f]{40}");

  public UnitHash {
    if (hex == null || !HEX40.matcher(hex).matches()) {
      throw new IllegalArgumentException("a unit hash is 40 lowercase hex digits, got '" + hex + "'");
    }
  }

  public static UnitHash of(String canonicalText) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-1").digest(canonicalText.getBytes(StandardCharsets.UTF_8));
      return new UnitHash(HexFormat.of().formatHex(digest));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-1", e);
    }
  }

  public String shortHex() {
    return hex.substring(0, 7);
  }

  @Override
  public String toString() {
    return hex;
  }
}

package dev.flotilla.cli;

/**
 * A failure to report to the operator as one line ("fctl: " + message) with exit status 1: what
 * failed, the value, and what to do.
 */
public final class FctlException extends RuntimeException {
  public FctlException(String message) {
    super(message);
  }

  public FctlException(String message, Throwable cause) {
    super(message, cause);
  }
}

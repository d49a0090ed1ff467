package dev.flotilla.agent.runtime;

/**
 * A runtime could not do what it was asked (a {@code systemctl} that failed, a unit file it could
 * not write, a command it could not start): the message says which unit, what was tried and what
 * came back, in one line an operator can act on.
 */
public class RuntimeFailure extends RuntimeException {
  public RuntimeFailure(String message) {
    super(message);
  }

  public RuntimeFailure(String message, Throwable cause) {
    super(message, cause);
  }
}

package dev.flotilla.cli.output;

/** {@code --output}: fleetctl's tables, or the API's objects as JSON. */
public enum OutputFormat {
  TABLE,
  JSON
}

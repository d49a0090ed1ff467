package dev.flotilla.cli.client;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;

/**
 * Where fleetd's API is: {@code unix:///path} (fleetd's default, {@code unix:///var/run/fleet.sock})
 * or {@code http://host:port} / {@code https://host:port}, as fleetctl's {@code --endpoint} accepts
 * them. {@code url} is the text the user gave, for messages.
 */
public record Endpoint(String url, Path socket, String host, int port, boolean https) {

  public Endpoint(String url, Path socket, String host, int port) {
    this(url, socket, host, port, false);
  }

  public static final String DEFAULT = "unix:///var/run/fleet.sock";

  public boolean isUnix() {
    return socket != null;
  }

  /** The Host header: fleetctl sends "domain-sock" over a Unix socket. */
  public String hostHeader() {
    return isUnix() ? "domain-sock" : port == (https ? 443 : 80) ? host : host + ":" + port;
  }

  /** Parses an endpoint; throws {@link IllegalArgumentException} saying what to write instead. */
  public static Endpoint parse(String text) {
    String url = text.strip();
    int sep = url.indexOf("://");
    if (sep < 0) {
      throw new IllegalArgumentException("endpoint '" + text
          + "' has no scheme; write unix:///var/run/fleet.sock or http://" + url);
    }
    String scheme = url.substring(0, sep);
    String rest = url.substring(sep + 3);
    switch (scheme) {
      case "unix", "file" -> {
        // read by hand: a socket path may hold characters a URI may not
        if (rest.isEmpty() || rest.equals("/")) {
          throw new IllegalArgumentException("endpoint '" + text + "' has no socket path; write unix:///var/run/fleet.sock");
        }
        if (!rest.startsWith("/")) {
          // fleetctl's mistake too: unix://var/run/fleet.sock reads "var" as a host
          String host = rest.contains("/") ? rest.substring(0, rest.indexOf('/')) : rest;
          throw new IllegalArgumentException("endpoint '" + text + "' names host '" + host
              + "'; a Unix socket URL has three slashes: unix:///var/run/fleet.sock");
        }
        return new Endpoint(url, Path.of(rest), null, -1);
      }
      case "http", "https" -> {
        URI uri;
        try {
          uri = new URI(url);
        } catch (URISyntaxException e) {
          throw new IllegalArgumentException("endpoint '" + text + "' is not a URL (" + e.getReason()
              + "); write http://host:port");
        }
        if (uri.getHost() == null || uri.getHost().isEmpty()) {
          throw new IllegalArgumentException("endpoint '" + text + "' has no host; write http://host:port");
        }
        if (uri.getPath() != null && !uri.getPath().isEmpty() && !uri.getPath().equals("/")) {
          throw new IllegalArgumentException("endpoint '" + text + "' has a path; fctl adds /fleet/v1 itself, write http://"
              + uri.getHost() + (uri.getPort() < 0 ? "" : ":" + uri.getPort()));
        }
        boolean https = scheme.equals("https");
        return new Endpoint(url, null, uri.getHost(), uri.getPort() >= 0 ? uri.getPort() : https ? 443 : 80, https);
      }
      default -> throw new IllegalArgumentException("endpoint '" + text + "': unsupported scheme '" + scheme
          + "'; use unix:///path/to/fleet.sock, http://host:port or https://host:port");
    }
  }

  @Override
  public String toString() {
    return url;
  }
}

package dev.flotilla.kv.tls;

import io.grpc.ChannelCredentials;
import io.grpc.ServerCredentials;
import io.grpc.TlsChannelCredentials;
import io.grpc.TlsServerCredentials;
import io.grpc.util.AdvancedTlsX509KeyManager;
import io.grpc.util.AdvancedTlsX509TrustManager;
import io.grpc.util.AdvancedTlsX509TrustManager.Verification;
import io.grpc.util.CertificateUtils;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;

/**
 * The key and trust material of a {@link TlsSettings}, loaded once (a bad file fails here, with
 * the flag and the file named) and then re-read by grpc-java's reloading managers
 * ({@link AdvancedTlsX509KeyManager}, {@link AdvancedTlsX509TrustManager}) whenever the files
 * change: every TLS context built from them (Netty's, grpc's, the JDK's) picks the new
 * certificate up for its next handshake. TLS 1.2 and 1.3 only, as etcd.
 */
public final class TlsCredentials implements AutoCloseable {
  /** How often the files are checked for changes. */
  static final long RELOAD_MILLIS = Long.getLong("flotilla.tls.reloadMillis", 1000);
  static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

  private static final ScheduledExecutorService RELOADER = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "tls-reload");
    t.setDaemon(true);
    return t;
  });

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(TlsCredentials.class);

  private final TlsSettings settings;
  private final AdvancedTlsX509KeyManager keys; // null: no own certificate (a client without one)
  private final AdvancedTlsX509TrustManager serverTrust; // checks client certificates
  private final AdvancedTlsX509TrustManager clientTrust; // checks servers' certificates and names
  private final List<Closeable> watches = new ArrayList<>();

  private TlsCredentials(TlsSettings settings, AdvancedTlsX509KeyManager keys,
      AdvancedTlsX509TrustManager serverTrust, AdvancedTlsX509TrustManager clientTrust) {
    this.settings = settings;
    this.keys = keys;
    this.serverTrust = serverTrust;
    this.clientTrust = clientTrust;
  }

  /** Loads the files of {@code s} (which may have no certificate: a client trusting a CA only). */
  public static TlsCredentials load(TlsSettings s) throws IOException {
    String p = s.flagPrefix();
    try {
      AdvancedTlsX509KeyManager keys = null;
      if (s.certFile() != null) {
        var chain = readCerts(s.certFile(), p + "cert-file");
        var key = readKey(s.keyFile(), p + "key-file");
        if (!matches(chain[0], key)) {
          throw new IOException(p + "key-file " + s.keyFile() + " is not the key of " + p + "cert-file "
              + s.certFile() + " (the first certificate's public key does not match it)");
        }
        keys = new AdvancedTlsX509KeyManager();
        keys.updateIdentityCredentials(chain, key);
      }
      AdvancedTlsX509TrustManager serverTrust = AdvancedTlsX509TrustManager.newBuilder()
          .setVerification(Verification.CERTIFICATE_ONLY_VERIFICATION).build();
      AdvancedTlsX509TrustManager clientTrust = AdvancedTlsX509TrustManager.newBuilder()
          .setVerification(Verification.CERTIFICATE_AND_HOST_NAME_VERIFICATION).build();
      if (s.trustedCaFile() != null) {
        var cas = readCerts(s.trustedCaFile(), s.caFlag());
        serverTrust.updateTrustCredentials(cas);
        clientTrust.updateTrustCredentials(cas);
      } else {
        clientTrust.useSystemDefaultTrustCerts();
      }
      TlsCredentials c = new TlsCredentials(s, keys, serverTrust, clientTrust);
      c.reloadChanged(); // records the files' times as loaded
      c.watch();
      return c;
    } catch (GeneralSecurityException e) {
      throw new IOException(p + "cert-file " + s.certFile() + " / " + p + "key-file " + s.keyFile()
          + ": cannot set up TLS: " + e.getMessage(), e);
    }
  }

  /**
   * Checks the files' modification times every {@link #RELOAD_MILLIS} and loads them again when they
   * changed (grpc's own periodic reload runs at most once a minute). A file that does not load (a
   * certificate replaced before its key) is logged and tried again at the next change; the old
   * material stays in use meanwhile.
   */
  private void watch() {
    var task = RELOADER.scheduleWithFixedDelay(this::reloadChanged, RELOAD_MILLIS, RELOAD_MILLIS, TimeUnit.MILLISECONDS);
    watches.add(() -> task.cancel(false));
  }

  private long certTime = -1;
  private long keyTime = -1;
  private long caTime = -1;

  private void reloadChanged() {
    if (!Files.exists(settings.certFile() == null ? Path.of("/") : settings.certFile())
        || !Files.exists(settings.keyFile() == null ? Path.of("/") : settings.keyFile())
        || settings.trustedCaFile() != null && !Files.exists(settings.trustedCaFile())) {
      LOG.debug("a TLS file of {} is missing; keeping the loaded ones", settings);
      return; // being replaced (or gone): the loaded material stays in use
    }
    try {
      if (keys != null) {
        long c = settings.certFile().toFile().lastModified();
        long k = settings.keyFile().toFile().lastModified();
        if (certTime < 0) {
          certTime = c;
          keyTime = k;
        } else if (c != certTime || k != keyTime) {
          var chain = readCerts(settings.certFile(), settings.flagPrefix() + "cert-file");
          var key = readKey(settings.keyFile(), settings.flagPrefix() + "key-file");
          if (!matches(chain[0], key)) {
            // one file replaced, the other not yet: keep serving the old pair, look again next time
            LOG.debug("{} and {} do not belong together yet", settings.certFile(), settings.keyFile());
            return;
          }
          keys.updateIdentityCredentials(chain, key);
          certTime = c;
          keyTime = k;
          LOG.info("reloaded {}cert-file {} and {}key-file {}", settings.flagPrefix(), settings.certFile(),
              settings.flagPrefix(), settings.keyFile());
        }
      }
      if (settings.trustedCaFile() != null) {
        long t = settings.trustedCaFile().toFile().lastModified();
        if (caTime < 0) {
          caTime = t;
        } else if (t != caTime) {
          serverTrust.updateTrustCredentials(settings.trustedCaFile().toFile());
          clientTrust.updateTrustCredentials(settings.trustedCaFile().toFile());
          caTime = t;
          LOG.info("reloaded {} {}", settings.caFlag(), settings.trustedCaFile());
        }
      }
    } catch (IOException | GeneralSecurityException | RuntimeException e) {
      LOG.warn("TLS files changed but do not load yet (kept the previous ones): {}", e.toString());
    }
  }

  /** Whether {@code key} is the private half of the certificate's public key (a signature made by one verifies with the other). */
  static boolean matches(java.security.cert.X509Certificate cert, java.security.PrivateKey key) {
    try {
      String alg = switch (key.getAlgorithm()) {
        case "EC" -> "SHA256withECDSA";
        case "RSA" -> "SHA256withRSA";
        case "Ed25519", "EdDSA" -> "Ed25519";
        default -> null;
      };
      if (alg == null) {
        return true; // cannot tell: trust the files
      }
      byte[] probe = "flotilla-tls-key-check".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
      var signer = java.security.Signature.getInstance(alg);
      signer.initSign(key);
      signer.update(probe);
      byte[] sig = signer.sign();
      var verifier = java.security.Signature.getInstance(alg);
      verifier.initVerify(cert.getPublicKey());
      verifier.update(probe);
      return verifier.verify(sig);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  private static java.security.cert.X509Certificate[] readCerts(Path file, String flag) throws IOException {
    try (InputStream in = open(file, flag)) {
      var certs = CertificateUtils.getX509Certificates(in);
      if (certs.length == 0) {
        throw new IOException(flag + " " + file + ": no PEM certificate (-----BEGIN CERTIFICATE-----) in it");
      }
      return certs;
    } catch (java.security.cert.CertificateException e) {
      throw new IOException(flag + " " + file + ": not a PEM certificate: " + e.getMessage(), e);
    }
  }

  private static java.security.PrivateKey readKey(Path file, String flag) throws IOException {
    try (InputStream in = open(file, flag)) {
      return CertificateUtils.getPrivateKey(in);
    } catch (GeneralSecurityException | IOException | RuntimeException e) {
      if (e instanceof IOException io && io.getMessage() != null && io.getMessage().startsWith(flag)) {
        throw io;
      }
      throw new IOException(flag + " " + file + ": not a PEM PKCS#8 private key (convert one with "
          + "'openssl pkcs8 -topk8 -nocrypt -in " + file + "'): " + e.getMessage(), e);
    }
  }

  private static InputStream open(Path file, String flag) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new IOException(flag + " " + file + ": no such file");
    }
    if (!Files.isReadable(file)) {
      throw new IOException(flag + " " + file + ": not readable by this user");
    }
    return Files.newInputStream(file);
  }

  public TlsSettings settings() {
    return settings;
  }

  /**
   * Netty's provider: BoringSSL (netty-tcnative) where its native library loads, as it serves small
   * requests with about half the CPU of the JDK's SSLEngine; the JDK's otherwise. Both call the same
   * key and trust managers on each handshake, so rotation works with either.
   */
  static SslProvider provider() {
    return io.netty.handler.ssl.OpenSsl.isAvailable() && SslProvider.isAlpnSupported(SslProvider.OPENSSL)
        ? SslProvider.OPENSSL : SslProvider.JDK;
  }

  /**
   * A Netty server context: offers http/1.1 and h2 by ALPN (gRPC and HTTP/1.1 share the port),
   * asks for a client certificate, and requires one when {@code clientCertAuth}.
   */
  public SslContext nettyServer() throws SSLException {
    if (keys == null) {
      throw new IllegalStateException(settings.flagPrefix() + "cert-file is needed to serve TLS");
    }
    SslContextBuilder b = SslContextBuilder.forServer(keys)
        .sslProvider(provider())
        .protocols(PROTOCOLS)
        .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
            // the server picks the first of these the client offers: a client offering both (curl, browsers,
        // java.net.http) gets HTTP/1.1, which serves every HTTP endpoint; gRPC clients offer h2 only
        ApplicationProtocolNames.HTTP_1_1, ApplicationProtocolNames.HTTP_2));
    if (settings.trustedCaFile() != null) {
      b.trustManager(serverTrust).clientAuth(settings.clientCertAuth() ? ClientAuth.REQUIRE : ClientAuth.OPTIONAL);
    }
    return b.build();
  }

  /** A Netty client context (HTTP/1.1): presents the certificate if there is one, checks the server's and its name. */
  public SslContext nettyClient() throws SSLException {
    SslContextBuilder b = SslContextBuilder.forClient()
        .sslProvider(provider())
        .protocols(PROTOCOLS)
        .trustManager(clientTrust)
        .endpointIdentificationAlgorithm(null); // the trust manager checks the name (CERTIFICATE_AND_HOST_NAME_VERIFICATION)
    if (keys != null) {
      b.keyManager(keys);
    }
    return b.build();
  }

  /**
   * A Netty context for grpc-java's (unshaded) Netty transport: what jetcd takes
   * ({@code ClientBuilder.sslContext}); ALPN h2, the certificate if there is one, the server's checked.
   */
  public SslContext nettyGrpcClient() throws SSLException {
    SslContextBuilder b = io.grpc.netty.GrpcSslContexts.configure(SslContextBuilder.forClient(), SslProvider.JDK)
        .protocols(PROTOCOLS)
        .trustManager(clientTrust);
    if (keys != null) {
      b.keyManager(keys);
    }
    return b.build();
  }

  /** grpc server credentials (the Raft peer server). */
  public ServerCredentials grpcServer() {
    var b = TlsServerCredentials.newBuilder().keyManager(keys);
    if (settings.trustedCaFile() != null) {
      b.trustManager(serverTrust).clientAuth(settings.clientCertAuth()
          ? TlsServerCredentials.ClientAuth.REQUIRE : TlsServerCredentials.ClientAuth.OPTIONAL);
    }
    return b.build();
  }

  /** grpc channel credentials (the Raft transport towards peers, calls relayed to the leader). */
  public ChannelCredentials grpcChannel() {
    var b = TlsChannelCredentials.newBuilder().trustManager(clientTrust);
    if (keys != null) {
      b.keyManager(keys);
    }
    return b.build();
  }

  /** A JDK context for java.net.http clients (member-to-member HTTP, discovery). */
  public SSLContext jdkClient() {
    try {
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(keys == null ? null : new javax.net.ssl.KeyManager[] {keys},
          new javax.net.ssl.TrustManager[] {clientTrust}, null);
      return ctx;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot make a TLS context: " + e.getMessage(), e);
    }
  }

  /** Stops watching the files. */
  @Override
  public void close() {
    for (Closeable c : watches) {
      try {
        c.close();
      } catch (IOException ignored) {
        // nothing held
      }
    }
  }
}

package dev.flotilla.kv.tls;

import java.nio.file.Path;

/**
 * The TLS files of one side of a member (its client URLs or its peer URLs), as etcd's flags
 * give them: {@code --cert-file}, {@code --key-file}, {@code --trusted-ca-file},
 * {@code --client-cert-auth} (or their {@code --peer-} forms). Keys are PEM PKCS#8
 * ("BEGIN PRIVATE KEY"). The files are read again when they change: a rotated certificate is
 * served to new connections without a restart.
 *
 * @param certFile this member's certificate chain (PEM); null when the side has no TLS
 * @param keyFile its private key (PEM, PKCS#8)
 * @param trustedCaFile CAs that sign the certificates of the other side (PEM); null trusts the
 *     system's CAs when this member is the client, and no client certificate when it serves
 * @param clientCertAuth whether a connecting client must present a certificate the trusted CAs signed
 * @param flagPrefix how the certificate and key flags are spelled in errors: "--" or "--peer-"
 * @param caFlag how the CA flag is spelled in errors ("--trusted-ca-file", "--ca-file")
 */
public record TlsSettings(Path certFile, Path keyFile, Path trustedCaFile, boolean clientCertAuth, String flagPrefix,
    String caFlag) {

  public static TlsSettings none(String flagPrefix) {
    return new TlsSettings(null, null, null, false, flagPrefix, flagPrefix + "trusted-ca-file");
  }

  /** A client tool's settings (fleetd's and fctl's --ca-file, --cert-file, --key-file); any may be null. */
  public static TlsSettings tool(Path caFile, Path certFile, Path keyFile) {
    return new TlsSettings(certFile, keyFile, caFile, false, "--", "--ca-file");
  }

  /** The client side's settings (kvd's --cert-file etc.). */
  public static TlsSettings client(Path certFile, Path keyFile, Path trustedCaFile, boolean clientCertAuth) {
    return new TlsSettings(certFile, keyFile, trustedCaFile, clientCertAuth, "--", "--trusted-ca-file");
  }

  /** The peer side's settings (kvd's --peer-cert-file etc.). */
  public static TlsSettings peer(Path certFile, Path keyFile, Path trustedCaFile, boolean clientCertAuth) {
    return new TlsSettings(certFile, keyFile, trustedCaFile, clientCertAuth, "--peer-", "--peer-trusted-ca-file");
  }

  public TlsSettings {
    if (flagPrefix == null) {
      flagPrefix = "--";
    }
    if (caFlag == null) {
      caFlag = flagPrefix + "trusted-ca-file";
    }
    if ((certFile == null) != (keyFile == null)) {
      throw new IllegalArgumentException(flagPrefix + "cert-file and " + flagPrefix
          + "key-file go together: give both or neither");
    }
    if (clientCertAuth && trustedCaFile == null) {
      throw new IllegalArgumentException(flagPrefix + "client-cert-auth needs " + caFlag
          + " (the CA that signs the certificates to accept)");
    }
  }

  /** Whether this side serves TLS (has a certificate and key). */
  public boolean enabled() {
    return certFile != null;
  }
}

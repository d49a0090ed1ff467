package dev.flotilla.kv.tls;

import java.io.IOException;
import java.io.Writer;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Certificates made at test time (nothing private is committed): a CA, a second unrelated
 * "other" CA, and certificates issued by either, written as PEM files (keys as unencrypted
 * PKCS#8, what etcd, Go, Netty and grpc-java all read). Every issued certificate is good for
 * both server and client use (as etcd's docs suggest for member certificates) and names
 * {@code localhost}, {@code ::1} and {@code 127.0.0.1}..{@code 127.0.0.40} (the test clusters'
 * addresses).
 */
public final class TestPki {
  private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

  /** One issued certificate: its PEM file, its key's PEM file, and the PEM file of the CA that signed it. */
  public record Issued(Path cert, Path key, Path ca, BigInteger serial) {
    public String certFile() {
      return cert.toString();
    }

    public String keyFile() {
      return key.toString();
    }

    public String caFile() {
      return ca.toString();
    }
  }

  private record Authority(KeyPair keys, X509Certificate cert, Path file) {}

  private final Path dir;
  private final Authority ca;
  private final Authority other;

  private TestPki(Path dir, Authority ca, Authority other) {
    this.dir = dir;
    this.ca = ca;
    this.other = other;
  }

  /** Makes the two CAs in {@code dir} ({@code ca.pem}, {@code other-ca.pem}). */
  public static TestPki create(Path dir) throws Exception {
    Files.createDirectories(dir);
    return new TestPki(dir, authority(dir, "flotilla-test-ca"), authority(dir, "other-test-ca"));
  }

  /** The CA's certificate file. */
  public Path caFile() {
    return ca.file;
  }

  /** The other CA's certificate file: trusting only it, nothing issued by {@link #issue} verifies. */
  public Path otherCaFile() {
    return other.file;
  }

  /** A certificate named {@code name} signed by the CA, written as {@code <name>.pem}, {@code <name>-key.pem}. */
  public Issued issue(String name) throws Exception {
    return issue(name, ca, dir);
  }

  /** Like {@link #issue} but signed by the other CA. */
  public Issued issueFromOtherCa(String name) throws Exception {
    return issue(name, other, dir);
  }

  /** Issues {@code name} again into {@code into} (a new key and serial): what a rotation copies over the old files. */
  public Issued reissue(String name, Path into) throws Exception {
    Files.createDirectories(into);
    return issue(name, ca, into);
  }

  private static Authority authority(Path dir, String cn) throws Exception {
    KeyPair keys = keyPair();
    X500Name subject = new X500Name("CN=" + cn + ",O=Flotilla tests");
    Instant now = Instant.now();
    var ext = new JcaX509ExtensionUtils();
    X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject, BigInteger.valueOf(SERIAL.incrementAndGet()),
        Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(2))), subject, keys.getPublic())
        .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
        .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
        .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(keys.getPublic()));
    X509Certificate cert = sign(b, keys.getPrivate());
    Path file = dir.resolve(cn.startsWith("other") ? "other-ca.pem" : "ca.pem");
    writePem(file, cert);
    return new Authority(keys, cert, file);
  }

  private static Issued issue(String name, Authority by, Path into) throws Exception {
    KeyPair keys = keyPair();
    Instant now = Instant.now();
    List<GeneralName> sans = new ArrayList<>();
    sans.add(new GeneralName(GeneralName.dNSName, "localhost"));
    sans.add(new GeneralName(GeneralName.iPAddress, "::1"));
    for (int i = 1; i <= 40; i++) {
      sans.add(new GeneralName(GeneralName.iPAddress, "127.0.0." + i));
    }
    BigInteger serial = BigInteger.valueOf(SERIAL.incrementAndGet());
    var ext = new JcaX509ExtensionUtils();
    X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(by.cert, serial,
        Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(2))),
        new X500Name("CN=" + name + ",O=Flotilla tests"), keys.getPublic())
        .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
        .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment))
        .addExtension(Extension.extendedKeyUsage, false,
            new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}))
        .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans.toArray(GeneralName[]::new)))
        .addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(by.cert));
    X509Certificate cert = sign(b, by.keys.getPrivate());
    Path certFile = into.resolve(name + ".pem");
    Path keyFile = into.resolve(name + "-key.pem");
    writePem(certFile, cert);
    writeKey(keyFile, keys.getPrivate());
    return new Issued(certFile, keyFile, by.file, serial);
  }

  private static KeyPair keyPair() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    return g.generateKeyPair();
  }

  private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey key) throws Exception {
    return new JcaX509CertificateConverter().getCertificate(
        b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(key)));
  }

  private static void writePem(Path file, X509Certificate cert) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try (Writer w = Files.newBufferedWriter(tmp); JcaPEMWriter pem = new JcaPEMWriter(w)) {
      pem.writeObject(cert);
    }
    Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  private static void writeKey(Path file, PrivateKey key) throws Exception {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try (Writer w = Files.newBufferedWriter(tmp); JcaPEMWriter pem = new JcaPEMWriter(w)) {
      pem.writeObject(new JcaPKCS8Generator(key, null));
    }
    Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }
}

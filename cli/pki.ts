// Loaded only by `ferry certs`: @peculiar/x509 needs the reflect-metadata polyfill.
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { isIP } from "node:net";
import { join } from "node:path";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

/** What `ferry certs init` makes. */
export interface PkiOptions {
  /** Names and addresses the node certificate is valid for (DNS names and IPs). */
  sans: string[];
  /** Days the certificates are valid. */
  days: number;
  /** Overwrite files that exist. */
  force: boolean;
  /** Common name of the client certificate. */
  client: string;
}

/** The files written, by role. */
export const PKI_FILES = ["ca.pem", "ca-key.pem", "node.pem", "node-key.pem", "client.pem", "client-key.pem"];

/**
 * A development PKI in `dir`: a CA, a node certificate (server and client
 * use, valid for `sans`) and a client certificate, ECDSA P-256, keys in
 * PKCS#8 PEM readable by the owner only. Refuses to overwrite unless `force`.
 */
export async function initPki(dir: string, options: PkiOptions): Promise<string[]> {
  const existing = PKI_FILES.filter((f) => existsSync(join(dir, f)));
  if (existing.length > 0 && !options.force) {
    throw new Error(`${dir} already holds ${existing.join(", ")}; --force replaces them`);
  }
  mkdirSync(dir, { recursive: true });
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(Date.now() + options.days * 86_400_000);
  const caKeys = await webcrypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"]);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: "CN=ferry development CA",
    notBefore,
    notAfter,
    signingAlgorithm: ALGORITHM,
    keys: caKeys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const leaf = async (cn: string, usages: string[], sans: string[]) => {
    const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"]);
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: `CN=${cn}`,
      issuer: ca.subject,
      notBefore,
      notAfter,
      signingAlgorithm: ALGORITHM,
      publicKey: keys.publicKey,
      signingKey: caKeys.privateKey,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension(usages),
        await x509.AuthorityKeyIdentifierExtension.create(ca, false),
        ...(sans.length > 0
          ? [
              new x509.SubjectAlternativeNameExtension(
                sans.map((san) =>
                  isIP(san) ? { type: "ip" as const, value: san } : { type: "dns" as const, value: san },
                ),
              ),
            ]
          : []),
      ],
    });
    return { cert, key: await privatePem(keys.privateKey) };
  };
  const node = await leaf(
    options.sans[0] ?? "ferry-node",
    [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth],
    options.sans,
  );
  const client = await leaf(options.client, [x509.ExtendedKeyUsage.clientAuth], []);
  const files: [string, string, number][] = [
    ["ca.pem", ca.toString("pem"), 0o644],
    ["ca-key.pem", await privatePem(caKeys.privateKey), 0o600],
    ["node.pem", node.cert.toString("pem"), 0o644],
    ["node-key.pem", node.key, 0o600],
    ["client.pem", client.cert.toString("pem"), 0o644],
    ["client-key.pem", client.key, 0o600],
  ];
  for (const [name, text, mode] of files) writeFileSync(join(dir, name), `${text.trim()}\n`, { mode });
  return files.map(([name]) => join(dir, name));
}

async function privatePem(key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", key));
  const body = der
    .toString("base64")
    .replace(/(.{64})/g, "$1\n")
    .trim();
  return `-----BEGIN PRIVATE KEY-----\n${body}\n-----END PRIVATE KEY-----`;
}

function serial(): string {
  // Positive 16-byte serial: the top bit cleared.
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] as number) & 0x7f;
  return Buffer.from(bytes).toString("hex");
}

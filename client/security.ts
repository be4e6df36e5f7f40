import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { type ChannelCredentials, credentials, type Metadata } from "@grpc/grpc-js";
import { buildMetadata } from "./build-metadata.js";
import { quietIpServerNameWarning } from "./ip-servername-warning.js";

/** How a client proves itself to nodes and checks them. */
export interface SecurityOptions {
  /**
   * TLS to the nodes: `true` checks them against the system's roots; an
   * object names the CA that signed them and, for mutual TLS, this client's
   * certificate and key (each a PEM file path or its contents).
   */
  tls?: boolean | { ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer };
  /** The shared secret the nodes require (`ferry node --token-file`); sent as `authorization: Bearer …`. */
  token?: string;
}

/** Credentials and per-call metadata of one security setting; `key` tells equal settings apart for channel sharing. */
export interface Security {
  readonly credentials: ChannelCredentials;
  readonly key: string;
  metadata(): Metadata;
}

/** Plaintext, no token: loopback and trusted networks. */
export const INSECURE: Security = {
  credentials: credentials.createInsecure(),
  key: "insecure",
  metadata: buildMetadata,
};

/** Reads `SecurityOptions` into credentials and metadata; a file that cannot be read is named. */
export function clientSecurity(options: SecurityOptions = {}): Security {
  const { tls, token } = options;
  if (!tls && token === undefined) return INSECURE;
  if (token !== undefined && (typeof token !== "string" || token === "" || /[\r\n]/.test(token))) {
    throw new TypeError("token must be a non-empty string without line breaks");
  }
  const hash = createHash("sha256");
  let creds: ChannelCredentials;
  if (tls) {
    const files = tls === true ? {} : tls;
    const ca = pem(files.ca, "ca");
    const cert = pem(files.cert, "cert");
    const key = pem(files.key, "key");
    if ((cert === null) !== (key === null)) throw new TypeError("tls: cert and key go together");
    quietIpServerNameWarning();
    creds = credentials.createSsl(ca, key, cert);
    for (const part of [ca, cert, key]) hash.update(part ?? "-").update("\0");
  } else {
    // A token over plaintext: only sensible on loopback or a private network.
    creds = credentials.createInsecure();
    hash.update("plaintext\0");
  }
  hash.update(token ?? "");
  const bearer = token === undefined ? undefined : `Bearer ${token}`;
  return {
    credentials: creds,
    key: hash.digest("hex"),
    metadata: () => {
      const m = buildMetadata();
      if (bearer) m.set("authorization", bearer);
      return m;
    },
  };
}

function pem(value: string | Buffer | undefined, field: string): Buffer | null {
  if (value === undefined) return null;
  if (Buffer.isBuffer(value)) return value;
  if (value.includes("-----BEGIN")) return Buffer.from(value);
  try {
    return readFileSync(value);
  } catch (err) {
    throw new TypeError(`tls.${field}: cannot read ${value}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
}

import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { experimental, type ServerCredentials } from "@grpc/grpc-js";

/** A node's TLS files, each a PEM file path. */
export interface NodeTlsOptions {
  /** The node's certificate (chain). */
  cert: string;
  /** Its private key. */
  key: string;
  /** Mutual TLS: only clients with a certificate signed by this CA are let in. */
  clientCa?: string;
  /** How often the files are read again, so renewed certificates apply without a restart. Default 60 s. */
  reloadMs?: number;
}

/** Default interval between reads of a node's TLS files. */
export const DEFAULT_TLS_RELOAD_MS = 60_000;

/**
 * Server credentials from TLS files, read again every `reloadMs` (grpc-js's
 * file watcher), so a renewed certificate is used by new connections without
 * a restart. Replace files by renaming new ones over them, so a read never
 * sees half a file. The files are checked now: a missing or unreadable one is
 * a clear error at start, not a failed handshake later.
 */
export function serverTlsCredentials(options: NodeTlsOptions): {
  credentials: ServerCredentials;
  /** Settles once the files have been read: before that, handshakes fail. */
  loaded: Promise<void>;
} {
  checkPem(options.cert, "certificate", (pem) => new X509Certificate(pem));
  checkPem(options.key, "private key", (pem) => createPrivateKey(pem));
  if (options.clientCa !== undefined)
    checkPem(options.clientCa, "client CA", (pem) => new X509Certificate(pem));
  const refreshIntervalMs = options.reloadMs ?? DEFAULT_TLS_RELOAD_MS;
  const identity = new experimental.FileWatcherCertificateProvider({
    certificateFile: options.cert,
    privateKeyFile: options.key,
    refreshIntervalMs,
  });
  const clientCa =
    options.clientCa === undefined
      ? null
      : new experimental.FileWatcherCertificateProvider({
          caCertificateFile: options.clientCa,
          refreshIntervalMs,
        });
  const loaded = Promise.all([
    firstRead(
      (l) => identity.addIdentityCertificateListener(l),
      (l) => identity.removeIdentityCertificateListener(l),
    ),
    clientCa
      ? firstRead(
          (l) => clientCa.addCaCertificateListener(l),
          (l) => clientCa.removeCaCertificateListener(l),
        )
      : undefined,
  ]).then(() => {});
  return {
    credentials: experimental.createCertificateProviderServerCredentials(
      identity,
      clientCa,
      clientCa !== null,
    ),
    loaded,
  };
}

/** Resolves when a provider first delivers its files; the listener is then removed. */
function firstRead<L extends (update: unknown) => void>(
  add: (l: L) => void,
  remove: (l: L) => void,
): Promise<void> {
  return new Promise((resolve) => {
    const listener = ((update: unknown) => {
      if (update === null || update === undefined) return;
      remove(listener);
      resolve();
    }) as L;
    add(listener);
  });
}

function checkPem(file: string, what: string, parse: (pem: Buffer) => unknown): void {
  let pem: Buffer;
  try {
    pem = readFileSync(file);
  } catch (err) {
    throw new Error(`cannot read the TLS ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
  try {
    parse(pem);
  } catch (err) {
    throw new Error(`${file} is not a PEM ${what}: ${(err as Error).message}`);
  }
}

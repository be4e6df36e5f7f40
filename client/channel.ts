import { Client, type ClientOptions, type Metadata } from "@grpc/grpc-js";
import { INSECURE, type Security } from "./security.js";

interface SharedChannel {
  client: Client;
  users: number;
}

const channels = new Map<string, SharedChannel>();

/** Largest message a client accepts by default, in bytes. */
export const DEFAULT_CLIENT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/**
 * Reconnect waits of a channel whose node went away: grpc-js's own grow to
 * two minutes, so a node back after a restart would stay unused (by pools,
 * `ferry top`, the dashboard) for that long. A dial every two seconds at
 * most costs a refused TCP connect.
 */
const RECONNECT_BACKOFF = {
  "grpc.initial_reconnect_backoff_ms": 250,
  "grpc.max_reconnect_backoff_ms": 2_000,
};

/**
 * One gRPC channel per target (and security setting), shared by every
 * connect() to it: one HTTP/2 connection carries all services' calls. The
 * channel closes when its last user releases it. `metadata` makes each
 * call's headers (build, and the token when there is one).
 */
export function acquireChannel(
  target: string,
  options: ClientOptions = {},
  security: Security = INSECURE,
): { client: Client; release: () => void; metadata: () => Metadata } {
  const key = `${target}\u0000${JSON.stringify(options)}\u0000${security.key}`;
  let shared = channels.get(key);
  if (!shared) {
    const client = new Client(target, security.credentials, {
      "grpc.max_receive_message_length": DEFAULT_CLIENT_MAX_MESSAGE_BYTES,
      ...RECONNECT_BACKOFF,
      ...options,
    });
    shared = { client, users: 0 };
    channels.set(key, shared);
  }
  shared.users++;
  let released = false;
  const entry = shared;
  return {
    client: entry.client,
    metadata: security.metadata,
    release: () => {
      if (released) return;
      released = true;
      entry.users--;
      if (entry.users === 0) {
        channels.delete(key);
        entry.client.close();
      }
    },
  };
}

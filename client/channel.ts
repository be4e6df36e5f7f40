import { Client, type ClientOptions, credentials } from "@grpc/grpc-js";

interface SharedChannel {
  client: Client;
  users: number;
}

const channels = new Map<string, SharedChannel>();

/** Largest message a client accepts by default, in bytes. */
export const DEFAULT_CLIENT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/**
 * One gRPC channel per target, shared by every connect() to it: one HTTP/2
 * connection carries all services' calls. The channel closes when its last
 * user releases it.
 */
export function acquireChannel(
  target: string,
  options: ClientOptions = {},
): { client: Client; release: () => void } {
  const key = `${target}\u0000${JSON.stringify(options)}`;
  let shared = channels.get(key);
  if (!shared) {
    const client = new Client(target, credentials.createInsecure(), {
      "grpc.max_receive_message_length": DEFAULT_CLIENT_MAX_MESSAGE_BYTES,
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

import { type Client, Metadata } from "@grpc/grpc-js";
import { Code } from "../src/code.js";
import { RemoteError, toRemoteError } from "./remote-error.js";

const CHECK = "/grpc.health.v1.Health/Check";

/** grpc.health.v1 HealthCheckResponse.ServingStatus.SERVING */
const SERVING = 1;

/**
 * Asks a node's grpc.health.v1 service whether it serves (the overall
 * status, service ""). Resolves when it answers SERVING; rejects with a
 * RemoteError when it answers anything else, or not within `timeoutMs`.
 */
export function checkHealth(client: Client, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      CHECK,
      // An empty HealthCheckRequest asks for the node as a whole.
      () => Buffer.alloc(0),
      (bytes: Buffer) => bytes,
      null,
      new Metadata(),
      { deadline: Date.now() + timeoutMs },
      (err, res) => {
        if (err) {
          reject(toRemoteError(err));
          return;
        }
        // HealthCheckResponse is one enum field (tag 1, varint): 08 <status>.
        const status = res && res.length >= 2 && res[0] === 0x08 ? res[1] : 0;
        if (status === SERVING) resolve();
        else reject(new RemoteError(Code.UNAVAILABLE, `health check answered status ${status}, not SERVING`));
      },
    );
  });
}

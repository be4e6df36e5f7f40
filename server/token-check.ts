import { createHash, timingSafeEqual } from "node:crypto";
import { ServerInterceptingCall, type ServerInterceptor, ServerListenerBuilder, status } from "@grpc/grpc-js";
import type { Log } from "../src/log.js";

/** Methods anyone may call: health checks stay open so balancers and pools can probe. */
const OPEN_PATHS = new Set(["/grpc.health.v1.Health/Check", "/grpc.health.v1.Health/Watch"]);

/** Least time between two log lines about refused calls; the ones between are counted. */
const LOG_EVERY_MS = 1_000;

const digest = (text: string) => createHash("sha256").update(text).digest();

/**
 * A server interceptor that refuses every call (but health checks) whose
 * `authorization: Bearer <token>` is missing or wrong, with UNAUTHENTICATED,
 * before any method runs or any message is read. The comparison takes the
 * same time whatever the guess (SHA-256 digests compared in constant time).
 * Refusals are counted and logged with the peer's address, at most once a
 * second.
 */
export class TokenCheck {
  readonly #expected: Buffer;
  readonly #log: Log;
  readonly #onRefused: () => void;
  #refused = 0;
  #unlogged = 0;
  #lastLog = 0;

  /** `onRefused` hears each refusal (the node's observer counts them). */
  constructor(token: string, log: Log, onRefused: () => void = () => {}) {
    if (typeof token !== "string" || token.trim() === "" || /[\r\n]/.test(token.trim())) {
      throw new TypeError("token must be a non-empty string without line breaks");
    }
    this.#expected = digest(token.trim());
    this.#log = log;
    this.#onRefused = onRefused;
  }

  readonly interceptor: ServerInterceptor = (method, call) =>
    new ServerInterceptingCall(call, {
      start: (next) => {
        next(
          new ServerListenerBuilder()
            .withOnReceiveMetadata((metadata, pass) => {
              if (OPEN_PATHS.has(method.path)) {
                pass(metadata);
                return;
              }
              const header = metadata.get("authorization")[0];
              const given =
                typeof header === "string" ? /^Bearer (.+)$/i.exec(header.trim())?.[1] : undefined;
              if (given !== undefined && timingSafeEqual(digest(given), this.#expected)) {
                pass(metadata);
                return;
              }
              this.#refuse(call.getPeer(), method.path, given === undefined ? "no token" : "a wrong token");
              call.sendStatus({
                code: status.UNAUTHENTICATED,
                details:
                  given === undefined
                    ? "this node requires a token: send authorization: Bearer <token> (ferry: --token-file or FERRY_TOKEN)"
                    : "wrong token",
              });
            })
            .build(),
        );
      },
    });

  #refuse(peer: string, path: string, what: string): void {
    this.#refused++;
    this.#onRefused();
    this.#unlogged++;
    const now = Date.now();
    if (now - this.#lastLog < LOG_EVERY_MS) return;
    const also = this.#unlogged > 1 ? ` (and ${this.#unlogged - 1} more since the last line)` : "";
    this.#log.warn(`refused ${path} from ${peer}: ${what}${also}; ${this.#refused} refused in all`, {
      event: "refused",
      path,
      peer,
    });
    this.#lastLog = now;
    this.#unlogged = 0;
  }
}

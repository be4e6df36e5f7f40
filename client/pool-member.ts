import type { Client, Metadata } from "@grpc/grpc-js";
import { compatible, describeBuild, LOCAL_BUILD } from "../src/build-identity.js";
import { Code } from "../src/code.js";
import { SERVICES } from "../src/contract.js";
import { acquireChannel } from "./channel.js";
import { openSession } from "./connect.js";
import { checkHealth } from "./health-check.js";
import { RemoteError, toRemoteError } from "./remote-error.js";
import { INSECURE, type Security } from "./security.js";
import { createServiceClient } from "./service-client.js";
import type { ClientSession } from "./session.js";

/** Where a node stands with the pool. */
export type MemberState = "connecting" | "up" | "down" | "incompatible";

/** What a pool knows of one node; see {@link Pool.stats}. */
export interface NodeStats {
  target: string;
  state: MemberState;
  /** Worker slots the node reported. */
  slots: number;
  /** Items answered by this node. */
  items: number;
  /** Milliseconds with at least one call of the pool running on it. */
  busyMs: number;
  /** Items that failed on it, and calls lost when it failed. */
  failures: number;
  /** Why it is down or incompatible. */
  error?: RemoteError;
  /** The tags it registered with (a node found through a registry). */
  tags?: Record<string, string>;
}

/** How long Node.Info and health probes may take before the node counts as down. */
export const PROBE_TIMEOUT_MS = 1_000;

/**
 * How long a node that stopped answering may stay silent before it counts
 * as down for sure (hung or unreachable) rather than held by a method.
 */
export const SILENCE_LIMIT_MS = 5_000;

/** First and longest wait between probes of a node that is down. */
const PROBE_BACKOFF_MS = [250, 2_000] as const;

/**
 * One node of a pool: its channel and session, its slots (from Node.Info),
 * whether it is up, and what it has done. A node that fails is marked down,
 * its session closed (every call in flight on it fails at once, so the pool
 * can send the work elsewhere) and probed through grpc.health.v1 until it
 * serves again.
 */
export class PoolMember {
  readonly target: string;
  readonly #client: Client;
  readonly #release: () => void;
  readonly #metadata: () => Metadata;
  readonly #onChange: () => void;
  readonly #timeoutMs: number;
  #session: ClientSession | undefined;
  #state: MemberState = "connecting";
  #error: RemoteError | undefined;
  #slots = 1;
  #probeTimer: NodeJS.Timeout | undefined;
  #backoff: number = PROBE_BACKOFF_MS[0];
  #probing = false;
  #closed = false;
  /** Set once a probe has failed since the node went down: it is down for sure, not just slow to start. */
  confirmedDown = false;
  #lastHeard = 0;
  #inFlight = 0;
  /**
   * What held the node's event loop while it was silent, as the node told
   * once it answered again: `object.method` and how long.
   */
  heldBy: { method: string; ms: number; at: number } | undefined;
  /** When it stopped answering the health check. */
  #silentSince = 0;
  /** Settles when the node first answered Node.Info, or failed to. */
  readonly connected: Promise<void>;
  #busySince = 0;
  #busyMs = 0;
  #items = 0;
  #failures = 0;

  /** `onChange` runs whenever the node comes up or goes down. */
  constructor(target: string, timeoutMs: number, onChange: () => void, security: Security = INSECURE) {
    this.target = target;
    this.#timeoutMs = timeoutMs;
    this.#onChange = onChange;
    const { client, release, metadata } = acquireChannel(target, {}, security);
    this.#client = client;
    this.#release = release;
    this.#metadata = metadata;
    this.connected = this.#connect();
  }

  get state(): MemberState {
    return this.#state;
  }

  get error(): RemoteError | undefined {
    return this.#error;
  }

  get slots(): number {
    return this.#slots;
  }

  /** The session calls go through; a fresh one after the node came back. */
  session(): ClientSession {
    this.#session ??= openSession(this.#client, this.target, this.#timeoutMs, this.#metadata);
    return this.#session;
  }

  /** When the node last answered anything. */
  get lastHeard(): number {
    return this.#lastHeard;
  }

  /** Calls of the pool in flight on this node. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** The node answered, at `at` (now unless given). */
  heard(at = performance.now()): void {
    this.#lastHeard = at;
  }

  /** Marks the start of a call on this node. */
  began(): void {
    if (this.#inFlight++ === 0) this.#busySince = performance.now();
  }

  /** Marks the end of a call on this node. */
  ended(): void {
    if (--this.#inFlight === 0) this.#busyMs += performance.now() - this.#busySince;
  }

  /**
   * Checks a node that has not answered for a while. One that does not answer
   * within {@link PROBE_TIMEOUT_MS} is taken out of service, and the check
   * waits on up to {@link SILENCE_LIMIT_MS}: a node whose event loop a method
   * holds answers once it lets go, and then says what held it; one that stays
   * silent is down for sure.
   */
  async checkAlive(): Promise<void> {
    if (this.#probing || this.#state !== "up") return;
    this.#probing = true;
    const since = this.#lastHeard;
    const silent = setTimeout(() => {
      if (this.#state !== "up") return;
      this.#silentSince = since;
      this.markDown(
        new RemoteError(
          Code.UNAVAILABLE,
          `${this.target} stopped answering (no health answer in ${PROBE_TIMEOUT_MS} ms)`,
        ),
        false,
      );
    }, PROBE_TIMEOUT_MS);
    try {
      await checkHealth(this.#client, SILENCE_LIMIT_MS);
      this.#lastHeard = performance.now();
      // Back after a silence: read its slots, and what held it, again.
      if ((this.#state as MemberState) === "down" && this.#silentSince > 0) await this.#connect();
    } catch (err) {
      if (this.#state === "up" || this.#silentSince > 0) {
        const error = new RemoteError(
          Code.UNAVAILABLE,
          `${this.target} stopped answering (no health answer in ${SILENCE_LIMIT_MS} ms)`,
          { cause: err },
        );
        this.confirmedDown = true;
        this.#silentSince = 0;
        if (this.#state === "up") this.markDown(error);
        else if ((this.#state as MemberState) === "down") {
          this.#error = error;
          this.#scheduleProbe();
          this.#onChange();
        }
      }
    } finally {
      clearTimeout(silent);
      this.#probing = false;
    }
  }

  /**
   * Takes the node out of service: its session closes, so every call in
   * flight on it fails now, and probes start (unless a check is still
   * waiting for its answer: `probe` false).
   */
  markDown(error: RemoteError, probe = true): void {
    if (this.#closed || this.#state === "down" || this.#state === "incompatible") return;
    this.#state = "down";
    this.#error = error;
    this.#backoff = PROBE_BACKOFF_MS[0];
    const session = this.#session;
    this.#session = undefined;
    session?.close();
    if (probe) this.#scheduleProbe();
    this.#onChange();
  }

  /** Takes the node out for good (it left the cluster): calls in flight on it fail now and go elsewhere. */
  retire(error: RemoteError): void {
    this.confirmedDown = true;
    this.markDown(error);
    this.close();
  }

  /** An item this node answered. */
  answered(): void {
    this.#items++;
  }

  /** An item that failed on this node, or a call lost when it failed. */
  failed(): void {
    this.#failures++;
  }

  /** What `pool.stats()` reports of this node. */
  stats(): NodeStats {
    const busy = this.#inFlight > 0 ? performance.now() - this.#busySince : 0;
    return {
      target: this.target,
      state: this.#state,
      slots: this.#slots,
      items: this.#items,
      busyMs: this.#busyMs + busy,
      failures: this.#failures,
      ...(this.#error && this.#state !== "up" ? { error: this.#error } : {}),
    };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#probeTimer);
    this.#session?.close();
    this.#session = undefined;
    this.#release();
  }

  /** Reads slots and protocol from Node.Info; the node is up once they check out. */
  async #connect(): Promise<void> {
    const node = createServiceClient(SERVICES.Node, {
      client: this.#client,
      defaultTimeoutMs: PROBE_TIMEOUT_MS,
      metadata: this.#metadata,
    });
    try {
      const info = await node.info({}, { timeoutMs: PROBE_TIMEOUT_MS });
      if (this.#closed) return;
      const build = { version: info.version, protocol: info.protocol, contract: info.contract };
      if (!compatible(LOCAL_BUILD, build)) {
        this.#state = "incompatible";
        this.#error = new RemoteError(
          Code.FAILED_PRECONDITION,
          `${this.target} runs ${describeBuild(build)} and this client ${describeBuild(LOCAL_BUILD)}: use the same ferry version on both sides`,
        );
        this.#onChange();
        return;
      }
      this.#slots = Math.max(1, info.workers);
      const block = info.lastLoopBlock;
      if (
        block &&
        this.#silentSince > 0 &&
        performance.now() - block.secondsAgo * 1000 >= this.#silentSince
      ) {
        this.heldBy = { method: block.method, ms: block.milliseconds, at: performance.now() };
      }
      this.#silentSince = 0;
      this.#state = "up";
      this.#error = undefined;
      this.confirmedDown = false;
      this.#lastHeard = performance.now();
      this.#onChange();
    } catch (err) {
      if (this.#closed) return;
      this.#state = "down";
      this.#error = new RemoteError(Code.UNAVAILABLE, `${this.target}: ${toRemoteError(err).details}`, {
        cause: err,
      });
      this.confirmedDown = true;
      this.#scheduleProbe();
      this.#onChange();
    }
  }

  #scheduleProbe(): void {
    clearTimeout(this.#probeTimer);
    this.#probeTimer = setTimeout(() => void this.#probe(), this.#backoff);
    // Probes alone never keep a process alive; a running map does.
    this.#probeTimer.unref();
    this.#backoff = Math.min(this.#backoff * 2, PROBE_BACKOFF_MS[1]);
  }

  async #probe(): Promise<void> {
    if (this.#closed || this.#state !== "down") return;
    try {
      await checkHealth(this.#client, PROBE_TIMEOUT_MS);
    } catch {
      this.confirmedDown = true;
      if (!this.#closed) {
        this.#onChange();
        this.#scheduleProbe();
      }
      return;
    }
    // Serving again: read its slots anew (it may have restarted with others).
    await this.#connect();
  }
}

import { messageFns } from "../src/contract.js";
import type { FetchManyResponse, FetchResponse } from "../src/gen/ferry/v1/fetch.js";
import type { InfoResponse } from "../src/gen/ferry/v1/node.js";
import type { EstimateResponse, EstimateWithProgressResponse } from "../src/gen/ferry/v1/pi.js";
import type {
  CheckManyResponse,
  FindDivisorRequest,
  FindDivisorResponse,
  IsPrimeResponse,
} from "../src/gen/ferry/v1/prime.js";
import { normalizeMessage } from "../src/request-fields.js";
import { currentCall } from "./call-context.js";
import { type FetcherLimits, type Fetching, fetchMany, fetchUrl } from "./fetcher.js";
import type { ObjectHost } from "./object-host.js";
import { estimatePi, estimateWithProgress } from "./pi-estimator.js";
import { checkMany, checkPrime, findDivisor } from "./prime-checker.js";
import type { WorkerPool } from "./workers/worker-pool.js";

/** A request given as plain data, checked against the contract like a typed call's. */
function request<T>(type: string, input: unknown): T {
  return messageFns(`ferry.v1.${type}`).fromPartial(normalizeMessage(`ferry.v1.${type}`, input ?? {})) as T;
}

/**
 * The compute objects as exposed objects, so sessions and unary Invoke reach
 * them too. Each method takes its typed request as plain data
 * (`isPrime({ n: 97n })`) and answers the typed response.
 */
class PrimeCheckerObject {
  readonly #pool: WorkerPool;
  constructor(pool: WorkerPool) {
    this.#pool = pool;
  }
  isPrime(req: unknown): Promise<IsPrimeResponse> {
    const { n, method } = request<{ n: bigint; method: number }>("IsPrimeRequest", req);
    return checkPrime(this.#pool, n, method, currentCall().signal);
  }
  findDivisor(req: unknown): Promise<FindDivisorResponse> {
    return findDivisor(
      this.#pool,
      request<FindDivisorRequest>("FindDivisorRequest", req),
      currentCall().signal,
    );
  }
  async *checkMany(requests: unknown): AsyncGenerator<CheckManyResponse> {
    const list = Array.isArray(requests) ? requests : [];
    const typed = list.map((r) => request<{ n: bigint; method: number }>("CheckManyRequest", r));
    yield* checkMany(this.#pool, toAsync(typed), currentCall().signal);
  }
}

class PiEstimatorObject {
  readonly #pool: WorkerPool;
  readonly #maxSamples: bigint;
  constructor(pool: WorkerPool, maxSamples: bigint) {
    this.#pool = pool;
    this.#maxSamples = maxSamples;
  }
  estimate(req: unknown): Promise<EstimateResponse> {
    return estimatePi(this.#pool, request("EstimateRequest", req), this.#maxSamples, currentCall().signal);
  }
  async *estimateWithProgress(req: unknown): AsyncGenerator<EstimateWithProgressResponse> {
    yield* estimateWithProgress(
      this.#pool,
      request("EstimateWithProgressRequest", req),
      this.#maxSamples,
      currentCall().signal,
    );
  }
}

/** Node.Info as an object method, so `ferry ls` and proxies see the same objects as `ferry info`. */
class NodeObject {
  readonly #info: () => InfoResponse;
  constructor(info: () => InfoResponse) {
    this.#info = info;
  }
  info(): InfoResponse {
    return this.#info();
  }
}

class FetcherObject {
  readonly #limits: FetcherLimits;
  readonly #via: Fetching;
  constructor(limits: FetcherLimits, via: Fetching) {
    this.#limits = limits;
    this.#via = via;
  }
  fetch(req: unknown): Promise<FetchResponse> {
    return fetchUrl(request("FetchRequest", req), this.#limits, currentCall().signal, this.#via);
  }
  async *fetchMany(req: unknown): AsyncGenerator<FetchManyResponse> {
    yield* fetchMany(request("FetchManyRequest", req), this.#limits, currentCall().signal, this.#via);
  }
}

async function* toAsync<T>(items: T[]): AsyncGenerator<T> {
  yield* items;
}

/** Exposes PrimeChecker, PiEstimator and Fetcher on `host`. */
export function exposeComputeObjects(
  host: ObjectHost,
  pool: WorkerPool,
  maxSamples: bigint,
  fetchLimits: FetcherLimits,
  via: Fetching,
): void {
  host.expose("PrimeChecker", new PrimeCheckerObject(pool), {
    methods: ["isPrime", "findDivisor", "checkMany"],
    idempotent: ["isPrime", "findDivisor"],
  });
  host.expose("PiEstimator", new PiEstimatorObject(pool, maxSamples), {
    methods: ["estimate", "estimateWithProgress"],
    idempotent: ["estimate", "estimateWithProgress"],
  });
  // A fetch waits on the network, not a worker: many run at once with profit.
  host.expose("Fetcher", new FetcherObject(fetchLimits, via), {
    methods: ["fetch", "fetchMany"],
    idempotent: ["fetch"],
    concurrency: { fetch: fetchLimits.maxConcurrency },
  });
}

/** Exposes Node (its `info`) on `host`: every node has it. */
export function exposeNodeObject(host: ObjectHost, info: () => InfoResponse): void {
  host.expose("Node", new NodeObject(info), { methods: ["info"], idempotent: ["info"] });
}

import { availableParallelism, hostname } from "node:os";
import { SERVICES, type ServiceDefinition } from "../src/contract.js";
import { CONTRACT_HASH } from "../src/gen/contract-hash.js";
import type { InfoResponse, NodeServer, ObjectInfo } from "../src/gen/ferry/v1/node.js";
import { PROTOCOL_VERSION, VERSION } from "../src/version.js";
import { type HandlerContext, unary } from "./handlers.js";
import { type NodeReadings, nodeStats } from "./node-stats.js";
import type { WorkerPool } from "./workers/worker-pool.js";

/** The typed services a node serves (of `services`), with their methods, as Node.Info lists them. */
export function describeObjects(services: readonly string[]): ObjectInfo[] {
  // Objects is the generic door to every object, not an object itself.
  return Object.entries(SERVICES)
    .filter(([name]) => name !== "Objects" && services.includes(name))
    .map(([name, definition]) => ({
      name,
      service: `ferry.v1.${name}`,
      methods: Object.values(definition as ServiceDefinition).map((m) => ({
        name: m.path.slice(m.path.lastIndexOf("/") + 1),
        clientStreaming: m.requestStream,
        serverStreaming: m.responseStream,
      })),
    }));
}

/** What Node.Info answers, read at the time of the call. */
export function nodeInfo(
  ctx: HandlerContext,
  pool: WorkerPool,
  startedAt: number,
  services: readonly string[],
): InfoResponse {
  return {
    hostname: hostname(),
    pid: process.pid,
    version: VERSION,
    protocol: PROTOCOL_VERSION,
    cores: availableParallelism(),
    workers: pool.size,
    objects: describeObjects(services),
    inFlight: ctx.observer.inFlight.count,
    uptimeSeconds: (performance.now() - startedAt) / 1000,
    runtime: `node ${process.version}`,
    contract: CONTRACT_HASH,
    workersBusy: pool.busy,
    tasksQueued: pool.queued,
    lastLoopBlock: ctx.loopWatch.last,
  };
}

/** gRPC handlers of ferry.v1.Node. */
export function nodeServer(
  ctx: HandlerContext,
  pool: WorkerPool,
  startedAt: number,
  services: readonly string[],
  readings: NodeReadings,
): NodeServer {
  return {
    // Stats is how the node is watched: the watching is neither counted nor in flight.
    stats: unary(
      ctx,
      "/ferry.v1.Node/Stats",
      async () => {
        const stats = nodeStats(readings, startedAt);
        return { ...stats, inFlight: stats.inFlight - 1 };
      },
      "self",
    ),
    // Info itself is in flight while it answers; callers want the others.
    info: unary(ctx, "/ferry.v1.Node/Info", async () => {
      const info = nodeInfo(ctx, pool, startedAt, services);
      return { ...info, inFlight: info.inFlight - 1 };
    }),
  };
}

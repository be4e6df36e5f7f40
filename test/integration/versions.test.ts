import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  type Client,
  credentials,
  Metadata,
  makeGenericClientConstructor,
  Server,
  ServerCredentials,
  type ServiceError,
} from "@grpc/grpc-js";
import { connect } from "../../client/connect.js";
import { createPool } from "../../client/pool.js";
import type { RemoteError } from "../../client/remote-error.js";
import type { FerryNode } from "../../server/create-node.js";
import { BUILD_HEADERS, LOCAL_BUILD } from "../../src/build-identity.js";
import { Code } from "../../src/code.js";
import { CONTRACT_HASH } from "../../src/gen/contract-hash.js";
import { NodeService } from "../../src/gen/ferry/v1/node.js";
import { PrimeCheckerService } from "../../src/gen/ferry/v1/prime.js";
import { startNode } from "../helpers.js";

/** A raw grpc-js client of PrimeChecker and Node, sending whatever build headers a test gives. */
function rawClient(target: string): Client & Record<string, (...args: unknown[]) => unknown> {
  const Ctor = makeGenericClientConstructor({ ...PrimeCheckerService, info: NodeService.info }, "Raw");
  return new Ctor(target, credentials.createInsecure()) as never;
}

function headers(protocol: string, contract: string): Metadata {
  const m = new Metadata();
  m.set(BUILD_HEADERS.version, "0.0.1");
  m.set(BUILD_HEADERS.protocol, protocol);
  m.set(BUILD_HEADERS.contract, contract);
  return m;
}

function call(
  client: Record<string, (...args: unknown[]) => unknown>,
  method: string,
  request: unknown,
  metadata: Metadata,
): Promise<{ err: ServiceError | null; res: unknown }> {
  return new Promise((resolve) => {
    client[method]?.(
      request,
      metadata,
      { deadline: Date.now() + 5000 },
      (err: ServiceError | null, res: unknown) => resolve({ err, res }),
    );
  });
}

describe("build check between client and node", () => {
  let node: FerryNode;
  let target: string;
  before(async () => {
    ({ node, target } = await startNode({ workers: 1 }));
  });
  after(async () => {
    await node.shutdown();
  });

  test("a client built from another contract is refused with FAILED_PRECONDITION naming both builds", async () => {
    const client = rawClient(target);
    try {
      const { err } = await call(client, "isPrime", { n: 97n, method: 0 }, headers("1", "0123456789abcdef"));
      assert.equal(err?.code, Code.FAILED_PRECONDITION, err?.details);
      assert.match(err?.details ?? "", new RegExp(`this node runs ferry .*contract ${CONTRACT_HASH}`));
      assert.match(err?.details ?? "", /the client ferry 0\.0\.1 \(protocol 1, contract 0123456789abcdef\)/);
      const other = await call(client, "isPrime", { n: 97n, method: 0 }, headers("7", CONTRACT_HASH));
      assert.equal(other.err?.code, Code.FAILED_PRECONDITION);
      assert.match(other.err?.details ?? "", /protocol 7/);
      // Node.Info answers any build: it is how a client learns the node's.
      const info = await call(client, "info", {}, headers("7", "0123456789abcdef"));
      assert.equal(info.err, null);
      assert.equal((info.res as { contract: string }).contract, CONTRACT_HASH);
      // The node keeps serving matching clients, and clients that send no build (grpcurl, Python).
      const same = await call(client, "isPrime", { n: 97n, method: 0 }, headers("1", CONTRACT_HASH));
      assert.equal((same.res as { prime: boolean }).prime, true);
      const plain = await call(client, "isPrime", { n: 91n, method: 0 }, new Metadata());
      assert.equal((plain.res as { divisor: bigint }).divisor, 7n);
    } finally {
      client.close();
    }
  });

  test("sessions of another build are refused the same way", async () => {
    const client = rawClient(target);
    try {
      const Ctor = makeGenericClientConstructor(
        { session: (await import("../../src/gen/ferry/v1/objects.js")).ObjectsService.session },
        "Objects",
      );
      const objects = new Ctor(target, credentials.createInsecure()) as unknown as {
        session(metadata: Metadata): NodeJS.ReadWriteStream & { end(): void };
        close(): void;
      };
      const stream = objects.session(headers("1", "0123456789abcdef"));
      const err = await new Promise<ServiceError>((resolve) => stream.on("error", resolve));
      assert.equal(err.code, Code.FAILED_PRECONDITION);
      assert.match(err.details, /contract 0123456789abcdef/);
      objects.close();
    } finally {
      client.close();
    }
  });

  test("ferry's own clients send their build and are served", async () => {
    const conn = connect(target);
    try {
      const r = await conn.service(PrimeCheckerService).isPrime({ n: 97n });
      assert.equal(r.prime, true);
      const info = await conn.service(NodeService).info({});
      assert.equal(info.contract, LOCAL_BUILD.contract);
      assert.equal(info.version, LOCAL_BUILD.version);
    } finally {
      conn.close();
    }
  });

  test("a pool refuses a node of another protocol or contract with FAILED_PRECONDITION, naming both builds", async () => {
    for (const [build, expected] of [
      [{ version: "0.0.1", protocol: 99, contract: "" }, /runs ferry 0\.0\.1 \(protocol 99, contract \?\)/],
      [
        { version: "9.9.9", protocol: LOCAL_BUILD.protocol, contract: "fedcba9876543210" },
        /runs ferry 9\.9\.9 \(protocol 1, contract fedcba9876543210\)/,
      ],
    ] as const) {
      // A node that answers only Node.Info, as another build would.
      const server = new Server();
      server.addService(NodeService, {
        info: (_call: unknown, callback: (err: null, res: unknown) => void) =>
          callback(null, {
            hostname: "other",
            pid: 1,
            cores: 1,
            workers: 1,
            objects: [],
            inFlight: 0,
            uptimeSeconds: 1,
            runtime: "node",
            workersBusy: 0,
            tasksQueued: 0,
            ...build,
          }),
      });
      const port = await new Promise<number>((resolve, reject) =>
        server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, p) =>
          err ? reject(err) : resolve(p),
        ),
      );
      const pool = createPool([`127.0.0.1:${port}`]);
      try {
        await assert.rejects(pool.map("work.square", [1]), (err: RemoteError) => {
          assert.equal(err.code, Code.FAILED_PRECONDITION, err.message);
          assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${port} ${expected.source}`));
          assert.match(err.message, new RegExp(`this client ferry .*contract ${CONTRACT_HASH}`));
          return true;
        });
      } finally {
        pool.close();
        server.forceShutdown();
      }
    }
  });
});

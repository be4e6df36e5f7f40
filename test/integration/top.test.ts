/**
 * `ferry top` watches real nodes through Node.Stats: rates of the calls
 * made while it watches, each node's state (a stopped one shows down), and
 * its output piped into `head` ends it quietly.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { after, before, test } from "node:test";
import type { ClusterSnapshot } from "../../client/cluster-watch.js";
import { connect, type NodeConnection } from "../../client/connect.js";
import type { FerryNode } from "../../server/create-node.js";
import { keepCalling, ROOT, runCli, startNode } from "../helpers.js";

class Calc {
  add(a: number, b: number) {
    return a + b;
  }
}

let busy: { node: FerryNode; target: string };
let idle: { node: FerryNode; target: string };
let conn: NodeConnection;

before(async () => {
  busy = await startNode({ workers: 1 });
  busy.node.expose("calc", new Calc(), { methods: ["add"] });
  idle = await startNode({ workers: 1 });
  conn = connect(busy.target);
});

after(async () => {
  conn?.close();
  await busy?.node.shutdown();
  await idle?.node.shutdown();
});

test("--json gives each node's rates and the cluster's methods over one interval", async () => {
  const calc = conn.proxy<Calc>("calc");
  const calling = keepCalling((n) => calc.add(n, 1));
  const out = await runCli([
    "top",
    "--nodes",
    `${busy.target},${idle.target}`,
    "--json",
    "--interval",
    "700",
  ]);
  assert.ok((await calling.stop()) > 0);
  assert.equal(out.code, 0, out.stderr);
  const snapshot = JSON.parse(out.stdout) as ClusterSnapshot;
  const [a, b] = snapshot.nodes;
  assert.deepEqual(
    snapshot.nodes.map((n) => [n.target, n.state]),
    [
      [busy.target, "up"],
      [idle.target, "up"],
    ],
  );
  assert.ok((a?.rates.callsPerSecond ?? 0) > 10, `the busy node's calls/s: ${a?.rates.callsPerSecond}`);
  assert.equal(
    b?.rates.callsPerSecond,
    0,
    "the idle node answered nothing but its watcher, which is not counted",
  );
  assert.ok((a?.rates.p50 ?? 0) > 0 && (a?.rates.p99 ?? 0) >= (a?.rates.p50 ?? 0));
  assert.equal(a?.inFlight, 0, "the watcher's own call is not in flight");
  const add = snapshot.methods.find((m) => m.object === "calc" && m.method === "add");
  assert.ok((add?.callsPerSecond ?? 0) > 10, `calc.add calls/s: ${add?.callsPerSecond}`);
  assert.ok(!snapshot.methods.some((m) => m.method === "Stats" && m.callsPerSecond > 0));
});

test("a node that stops shows down; top's table piped into head ends quietly", async () => {
  const gone = await startNode({ workers: 1 });
  await gone.node.shutdown();
  const out = await runCli([
    "top",
    "--nodes",
    `${busy.target},${gone.target}`,
    "--json",
    "--interval",
    "300",
  ]);
  assert.equal(out.code, 0, out.stderr);
  const snapshot = JSON.parse(out.stdout) as ClusterSnapshot;
  assert.deepEqual(
    snapshot.nodes.map((n) => n.state),
    ["up", "down"],
  );
  assert.ok(snapshot.nodes[1]?.error, "a down node says why");

  const child = spawn(
    "bash",
    [
      "-c",
      `node ${ROOT}bin/ferry.js top --nodes ${busy.target} --interval 200 | head -3; echo "\${PIPESTATUS[0]}"`,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  await once(child, "exit");
  const lines = stdout.trim().split("\n");
  assert.match(lines[0] ?? "", /^ferry top .* 1\/1 nodes up/);
  assert.match(lines[2] ?? "", /^node +state +calls\/s/);
  assert.equal(lines.at(-1), "0", `top's exit status after head closed the pipe (stderr: ${stderr})`);
  assert.equal(stderr, "");
});

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createInterface } from "node:readline";
import { after, before, test } from "node:test";
import { connect } from "../../client/connect.js";
import { BOOK_NUMBERS, BOOK_PRIMES, ROOT, runCli } from "../helpers.js";

let cluster: ChildProcess;
let nodes: string[];
let pids: number[];
let metrics: string[];
let pages: Server;
let pagesUrl: string;

before(async () => {
  cluster = spawn(
    process.execPath,
    [
      `${ROOT}bin/ferry.js`,
      "cluster",
      "--nodes",
      "2",
      "--port",
      "0",
      "--workers",
      "1",
      "--json",
      "--load",
      `${ROOT}test/fixtures/pool-objects.js`,
      // The test's page server is on loopback, which nodes do not fetch from unless allowed.
      "--fetch-allow",
      "127.0.0.1/32",
      "--metrics-port",
      "0",
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const lines = createInterface({ input: cluster.stdout as NodeJS.ReadableStream });
  for await (const line of lines) {
    ({ nodes, pids, metrics } = JSON.parse(line) as { nodes: string[]; pids: number[]; metrics: string[] });
    break;
  }
  cluster.stdout?.resume();
  pages = createServer((req, res) => {
    res.setHeader("content-type", "text/html");
    res.end(`<html><head><title>page ${req.url}</title></head></html>`);
  });
  pages.listen(0, "127.0.0.1");
  await once(pages, "listening");
  pagesUrl = `http://127.0.0.1:${(pages.address() as AddressInfo).port}`;
});

after(async () => {
  pages.close();
  if (cluster.exitCode === null) {
    const exited = once(cluster, "exit");
    cluster.kill("SIGTERM");
    await exited;
  }
});

test("ferry cluster starts one process per node", () => {
  assert.equal(nodes.length, 2);
  assert.equal(new Set(pids).size, 2);
  for (const pid of pids) assert.ok(pid !== cluster.pid);
});

test("ferry cluster --metrics-port serves each node's /metrics on its own port", async () => {
  assert.equal(metrics.length, 2);
  assert.equal(new Set(metrics).size, 2);
  for (const address of metrics) {
    const res = await fetch(`http://${address}/metrics`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /^ferry_workers 1$/m);
  }
});

test("ferry primes checks the book's numbers across the nodes", async () => {
  const json = await runCli(["primes", "--nodes", nodes.join(","), "--json"]);
  assert.equal(json.code, 0, json.stderr);
  const rows = json.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { n: string; prime: boolean; divisor: string; node: string });
  assert.deepEqual(new Set(rows.map((r) => BigInt(r.n))), new Set(BOOK_NUMBERS));
  assert.deepEqual(new Set(rows.filter((r) => r.prime).map((r) => BigInt(r.n))), BOOK_PRIMES);
  for (const r of rows) assert.ok(nodes.includes(r.node));
  const human = await runCli(["primes", "--nodes", nodes.join(","), "--method", "miller-rabin", "97", "91"]);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /^\s+97 {2}P/m);
  assert.match(human.stdout, /^\s+91 {2}= 7 x/m);
  assert.match(human.stdout, /node\s+state\s+slots\s+items\s+busy\s+failures/);
});

test("ferry pi gives the same counts as one unsplit Estimate", async () => {
  const { code, stdout, stderr } = await runCli([
    "pi",
    "--nodes",
    nodes.join(","),
    "--samples",
    "5e6",
    "--seed",
    "7",
    "--json",
  ]);
  assert.equal(code, 0, stderr);
  const split = JSON.parse(stdout) as { inside: string; samples: string };
  const node = connect(nodes[0] as string);
  try {
    const direct = await node.pi.estimate({ samples: 5_000_000n, seed: 7n });
    assert.equal(split.inside, String(direct.inside));
    assert.equal(split.samples, "5000000");
  } finally {
    node.close();
  }
});

test("ferry map reads lines lazily and prints results in input order", async () => {
  const typed = await runCli(
    ["map", "--nodes", nodes.join(","), "PrimeChecker.IsPrime"],
    '7\n8\n{"n":"9999999999999917"}\n',
  );
  assert.equal(typed.code, 0, typed.stderr);
  const results = typed.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { n: string; prime: boolean });
  assert.deepEqual(
    results.map((r) => [r.n, r.prime]),
    [
      ["7", true],
      ["8", false],
      ["9999999999999917", true],
    ],
  );
  const input = `${Array.from({ length: 5000 }, (_, i) => i).join("\n")}\n`;
  const objects = await runCli(["map", "--nodes", nodes.join(","), "Work.square"], input);
  assert.equal(objects.code, 0, objects.stderr);
  assert.deepEqual(
    objects.stdout.trim().split("\n").map(Number),
    Array.from({ length: 5000 }, (_, i) => i * i),
  );
});

test("ferry map stops at the first failed item with one line, or keeps going", async () => {
  const stop = await runCli(["map", "--nodes", nodes.join(","), "PrimeChecker.IsPrime"], "7\nabc\n9\n");
  assert.equal(stop.code, 1);
  assert.equal(stop.stderr.trim().split("\n").length, 1);
  assert.match(stop.stderr, /INVALID_ARGUMENT.*item 1: .*n/);
  const keep = await runCli(
    ["map", "--nodes", nodes.join(","), "PrimeChecker.IsPrime", "--keep-going"],
    "7\nabc\n9\n",
  );
  assert.equal(keep.code, 0, keep.stderr);
  const lines = keep.stdout.trim().split("\n");
  assert.equal(lines.length, 3);
  assert.match(lines[1] as string, /"error":\{"code":"INVALID_ARGUMENT"/);
});

test("ferry fetch fetches through the nodes and reports failures in place", async () => {
  const urls = [
    ...Array.from({ length: 20 }, (_, i) => `${pagesUrl}/${i}`),
    "http://127.0.0.1:1/closed",
    "http://169.254.169.254/latest/meta-data/",
  ];
  const { code, stdout, stderr } = await runCli(
    ["fetch", "--nodes", nodes.join(","), "--json", "--concurrency", "8"],
    urls.join("\n"),
  );
  assert.equal(code, 0, stderr);
  const rows = stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { url: string; title?: string; error?: { code: string } });
  assert.equal(rows.length, 22);
  for (const r of rows.filter((r) => !r.error)) assert.equal(r.title, `page ${new URL(r.url).pathname}`);
  assert.equal(rows.find((r) => r.url.endsWith("/closed"))?.error?.code, "UNAVAILABLE");
  // Cloud metadata is never fetched unless a node allows it.
  assert.equal(rows.find((r) => r.url.includes("169.254.169.254"))?.error?.code, "PERMISSION_DENIED");
});

test("pool commands refuse bad input with one line and a non-zero exit", async () => {
  const cases: [string[], RegExp][] = [
    [["primes", "--nodes", ""], /no nodes: give --nodes host:port,host:port or --registry/],
    [["primes", "--nodes", "nonsense"], /not host:port/],
    [["primes", "--nodes", `${nodes[0]},${nodes[0]}`], /listed twice/],
    [["primes", "--nodes", nodes.join(","), "--method", "guess"], /--method must be/],
    [["primes", "--nodes", nodes.join(","), "-5"], /numbers\[0\]/],
    [["pi", "--nodes", nodes.join(","), "--samples", "0"], /samples must be at least 1/],
    [["pi", "--nodes", nodes.join(","), "--samples", "1.5"], /--samples/],
    [["map", "--nodes", nodes.join(","), "Work.nosuch"], /UNIMPLEMENTED.*methods: square/],
    [["map", "--nodes", nodes.join(","), "Nope.Method"], /unknown service Nope/],
    [["fetch", "--nodes", nodes.join(","), "--concurrency", "0", "http://x/"], /--concurrency must be/],
    [["cluster", "--nodes", "0"], /--nodes must be an integer from 1 to 64/],
  ];
  for (const [args, expected] of cases) {
    const { code, stderr } = await runCli(args, "1\n");
    assert.notEqual(code, 0, args.join(" "));
    assert.equal(stderr.trim().split("\n").length, 1, `${args.join(" ")}: ${stderr}`);
    assert.match(stderr, expected, args.join(" "));
  }
});

test("ferry cluster stops every node on SIGTERM", async () => {
  const exited = once(cluster, "exit");
  cluster.kill("SIGTERM");
  const [code] = (await exited) as [number | null];
  assert.equal(code, 0);
  for (const pid of pids) {
    assert.throws(() => process.kill(pid, 0), /ESRCH/, `node ${pid} is gone`);
  }
});

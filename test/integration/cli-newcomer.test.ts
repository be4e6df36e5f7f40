import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { connect } from "../../client/connect.js";
import { ROOT, runCli, spawnNode } from "../helpers.js";

// What a newcomer tried on the CLI: every name reaches the node, pipes and
// Ctrl-C end calmly, and each failure is one line in ferry's words.
// These run the compiled CLI (bin/ferry.js): `make test` builds first.
let node: ChildProcess;
let target: string;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "ferry-newcomer-"));
  await writeFile(
    join(dir, "calc.js"),
    `export const calc = { exposed: ["add"], add(a, b) { return a + b; }, _hidden() { return 1; } };
export const helper = { add(a, b) { return a + b; } };
export class Untold { run() {} }
`,
  );
  ({ child: node, target } = await spawnNode(["--workers", "1", "--load", join(dir, "calc.js")]));
});

after(async () => {
  if (node.exitCode === null) {
    node.kill("SIGTERM");
    await once(node, "exit");
  }
  await rm(dir, { recursive: true, force: true });
});

/** Starts the CLI with a pipe for stdout that the test may close, as `| head` does. */
function startCli(args: string[], input?: string): ChildProcess {
  const child = spawn(process.execPath, [`${ROOT}bin/ferry.js`, ...args], {
    stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
  });
  if (input !== undefined) {
    child.stdin?.on("error", () => {});
    child.stdin?.end(input);
  }
  return child;
}

async function collect(child: ChildProcess): Promise<{ code: number | null; stderr: string }> {
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const [code] = (await once(child, "exit")) as [number | null];
  return { code, stderr };
}

/** Waits until the node has no call in flight (it cancelled the work of a command that left). */
async function drained(t: string): Promise<number> {
  const conn = connect(t);
  try {
    for (;;) {
      const info = await conn.node.info({});
      if (info.inFlight === 0 && info.workersBusy === 0) return info.inFlight;
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    conn.close();
  }
}

test("ferry node --load says what it exposed and what it skipped, and why", async () => {
  const { child, target: t } = await spawnNode(["--workers", "1", "--load", join(dir, "calc.js")]);
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  try {
    while (!stderr.includes("\n")) await new Promise((r) => setTimeout(r, 20));
    assert.match(
      stderr,
      /calc\.js: exposed calc; skipped Untold \(no `exposed` list of methods\), helper \(no `exposed` list of methods\)/,
    );
    assert.ok(t);
  } finally {
    child.kill("SIGTERM");
    await once(child, "exit");
  }
});

test("ferry call asks the node for every method name, even those a proxy answers itself", async () => {
  for (const [method, reason] of [
    ["toString", /toString is a member of every object/],
    ["constructor", /constructor is a member of every object/],
    ["__proto__", /__proto__ starts with "_"/],
    ["_hidden", /_hidden starts with "_"/],
    ["then", /calc\.then is not exposed/],
  ] as const) {
    const r = await runCli(["call", `ferry://${target}/calc.${method}`, "2", "3"]);
    assert.equal(r.code, 1, `${method}: ${r.stdout}`);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /^ferry: \[UNIMPLEMENTED\] calc\.\S+ is not exposed/, method);
    assert.match(r.stderr, reason, method);
    assert.match(r.stderr, /methods: add\n$/, method);
  }
  const ok = await runCli(["call", `ferry://${target}/calc.add`, "2", "3"]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(JSON.parse(ok.stdout), 5);
});

test("a typed method has one name in every form, and prints the same JSON", async () => {
  const forms = [
    [target, "PrimeChecker.IsPrime", '{"n":"97"}'],
    [target, "PrimeChecker.isPrime", "97"],
    [`ferry://${target}/PrimeChecker.IsPrime`, '{"n":"97"}'],
    [`ferry://${target}/PrimeChecker.isPrime`, '{"n":97}'],
  ];
  const outs = [];
  for (const form of forms) {
    const r = await runCli(["call", ...form, "--json"]);
    assert.equal(r.code, 0, `${form.join(" ")}: ${r.stderr}`);
    const { elapsedSeconds, ...rest } = JSON.parse(r.stdout);
    assert.equal(typeof elapsedSeconds, "number");
    outs.push(rest);
  }
  for (const out of outs) {
    assert.deepEqual(out, { n: "97", prime: true, divisor: "0", method: "PRIME_METHOD_TRIAL_DIVISION" });
  }
});

test("a closed stdout ends primes and map quietly and cancels their calls on the nodes", async () => {
  const second = await spawnNode(["--workers", "1"]);
  try {
    const nodes = `${target},${second.target}`;
    const runs = [
      { args: ["primes", "--nodes", nodes], input: undefined },
      {
        args: ["map", "--nodes", nodes, "PrimeChecker.IsPrime"],
        input: `${"9999999999999917\n".repeat(2000)}`,
      },
    ];
    for (const { args, input } of runs) {
      const child = startCli(args, input);
      const done = collect(child);
      // Read the first line, then go away, as `| head -1` does.
      await new Promise<void>((resolve) => {
        child.stdout?.once("data", () => {
          child.stdout?.destroy();
          resolve();
        });
      });
      const { code, stderr } = await done;
      assert.equal(stderr, "", args[0]);
      assert.equal(code, 0, args[0]);
      assert.equal(await drained(target), 0);
      assert.equal(await drained(second.target), 0);
    }
  } finally {
    second.child.kill("SIGTERM");
    await once(second.child, "exit");
  }
});

test("Ctrl-C of ferry pi or primes prints one calm line and exits 130", async () => {
  for (const args of [
    ["pi", "--nodes", target, "--samples", "1e11", "--no-progress"],
    ["primes", "--nodes", target, "18446744073709551557"],
  ]) {
    const child = startCli(args);
    const done = collect(child);
    // Interrupt once the node is working on it.
    const conn = connect(target);
    while ((await conn.node.info({})).workersBusy === 0) await new Promise((r) => setTimeout(r, 20));
    conn.close();
    child.kill("SIGINT");
    const { code, stderr } = await done;
    assert.equal(code, 130, stderr);
    assert.equal(stderr, "ferry: interrupted; the calls in flight were cancelled\n");
    assert.equal(await drained(target), 0);
  }
});

test("local failures are one plain line with no gRPC code", async () => {
  const empty = join(dir, "empty.js");
  await writeFile(empty, "export const nothing = 1;\n");
  const busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
  const port = String((busy.address() as { port: number }).port);
  try {
    const pki = join(dir, "pki");
    const made = await runCli(["certs", "init", pki]);
    assert.equal(made.code, 0, made.stderr);
    for (const [args, pattern] of [
      [["node", "--port", "0", "--load", empty], /^ferry: .*empty\.js exposes nothing: give/],
      [["node", "--port", port], new RegExp(`^ferry: cannot listen on 127\\.0\\.0\\.1:${port}: `)],
      [["certs", "init", pki], /^ferry: .*already holds ca\.pem/],
    ] as const) {
      const r = await runCli([...args]);
      assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, pattern, args.join(" "));
      assert.doesNotMatch(r.stderr, /\[[A-Z_]+\]|No address added/, args.join(" "));
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    }
  } finally {
    busy.close();
  }
});

test("connection failures are told in ferry's words, the original kept for --verbose", async () => {
  const pki = join(dir, "pki-words");
  assert.equal((await runCli(["certs", "init", pki])).code, 0);
  const tls = await spawnNode(["--tls", join(pki, "node")]);
  const mutual = await spawnNode(["--tls", join(pki, "node"), "--client-ca", join(pki, "ca.pem")]);
  try {
    const ca = ["--ca", join(pki, "ca.pem")];
    for (const [args, words] of [
      [["call", "127.0.0.1:1", "Node.Info"], /\[UNAVAILABLE\] no node listening at 127\.0\.0\.1:1$/],
      [["call", tls.target, "Node.Info", "--timeout", "5000"], /the node .*if it speaks TLS, pass --ca/],
      [["call", ...ca, target, "Node.Info"], /the node does not speak TLS/],
      [["call", ...ca, mutual.target, "Node.Info"], /the node wants a client certificate: pass --tls/],
      [["call", "--tls", join(pki, "client"), tls.target, "Node.Info"], /not signed by a CA .* pass --ca/],
      [
        ["call", target, "PiEstimator.Estimate", '{"samples":"100000000000"}', "--timeout", "300"],
        /\[DEADLINE_EXCEEDED\] the deadline of 0\.3 s passed .*--timeout/,
      ],
    ] as const) {
      const r = await runCli([...args]);
      assert.equal(r.code, 1, args.join(" "));
      assert.match(r.stderr.trim(), words, args.join(" "));
      assert.doesNotMatch(r.stderr, /Resolution note|openssl|Last error|name resolution:/, args.join(" "));
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    }
    const verbose = await runCli(["call", "127.0.0.1:1", "Node.Info", "--verbose"]);
    assert.match(
      verbose.stderr,
      /^ferry: \[UNAVAILABLE\] no node listening at 127\.0\.0\.1:1\n {2}cause: .*ECONNREFUSED/,
    );
  } finally {
    for (const n of [tls, mutual]) {
      n.child.kill("SIGTERM");
      await once(n.child, "exit");
    }
  }
  assert.equal(await drained(target), 0);
});

test("a node refusing to listen beyond loopback says so every time, never crashing", async () => {
  for (let i = 0; i < 20; i++) {
    const r = await runCli(["node", "--host", "0.0.0.0", "--port", "0"]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^ferry: refusing to listen on 0\.0\.0\.0:0 with neither TLS nor a token/);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  }
});

test("ferry cluster shares the cores out, and a Ctrl-C lets its nodes finish their calls", async () => {
  // Its own process group, as a terminal's job: a Ctrl-C goes to every process in it.
  const cluster = spawn(
    process.execPath,
    [`${ROOT}bin/ferry.js`, "cluster", "--nodes", "2", "--port", "0", "--json"],
    { stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
  const done = collect(cluster);
  const [line] = (await once(cluster.stdout as NodeJS.ReadableStream, "data")) as [Buffer];
  const { nodes, workers } = JSON.parse(line.toString()) as { nodes: string[]; workers: number[] };
  // The machine's cores are shared out between the nodes, not given to each.
  const share = Math.max(1, Math.floor(availableParallelism() / 2));
  assert.deepEqual(workers, [share, share]);
  const conn = connect(nodes[0] as string);
  try {
    const running = conn.pi.estimate({ samples: 200_000_000n, seed: 1n }, { timeoutMs: 60_000 });
    while ((await conn.node.info({})).workersBusy === 0) await new Promise((r) => setTimeout(r, 20));
    process.kill(-(cluster.pid as number), "SIGINT");
    const r = await running;
    assert.equal(r.samples, 200_000_000n);
  } finally {
    conn.close();
  }
  const { code, stderr } = await done;
  assert.equal(code, 0, stderr);
});

test("no input tried here prints a stack trace; each failure is one line", async () => {
  const runs: [string[], string?][] = [
    [["--help"]],
    [["call"]],
    [["call", target]],
    [["call", target, "PrimeChecker"]],
    [["call", target, "PrimeChecker.IsPrime", "[1,2"]],
    [["call", target, "PrimeChecker.IsPrime", '{"n":"97"}', "extra"]],
    [["call", `ferry://${target}/`]],
    [["call", `ferry://${target}/calc`]],
    [["call", `ferry://${target}/calc.add`, '"unterminated']],
    [["call", "ferry://nowhere.invalid:1/calc.add", "1", "2"]],
    [["primes", "--nodes", target, "-5"]],
    [["primes", "--nodes", "not an address"]],
    [["primes", "--nodes", target, "--method", "guess"]],
    [["map", "--nodes", target]],
    [["map", "--nodes", target, "PrimeChecker.IsPrime"], "{oops\n"],
    [["map", "--nodes", target, "calc.add"], "1\n"],
    [["map", "--nodes", target, "PrimeChecker.IsPrime", "--input", "/no/such/file"]],
    [["pi", "--nodes", target, "--samples", "lots"]],
  ];
  for (const [args, input] of runs) {
    const r = await runCli(args, input);
    assert.doesNotMatch(r.stderr, /^\s+at |Error: .*\n\s+at /m, `${args.join(" ")}: ${r.stderr}`);
    if (r.code !== 0) {
      assert.equal(r.stderr.trim().split("\n").length, 1, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, /^ferry: /, args.join(" "));
    }
  }
  const help = await runCli(["certs", "init", "--help"]);
  assert.equal(help.stdout.match(/--san[\s\S]*?(?=--days)/)?.[0].match(/default/g)?.length, 1, help.stdout);
  const ls = await runCli(["ls", target]);
  assert.match(ls.stdout, /PiEstimator\s+single\s+main\s+estimate, estimateWithProgress\*/);
  assert.match(ls.stdout, /Node\s+single\s+main\s+info/);
});

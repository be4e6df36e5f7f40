import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { after, before, test } from "node:test";
import { connect } from "../../client/connect.js";
import { ROOT, runCli, spawnNode } from "../helpers.js";

// These run the compiled CLI (bin/ferry.js): `make test` builds first.
let node: ChildProcess;
let target: string;

before(async () => {
  ({ child: node, target } = await spawnNode(["--workers", "2"]));
});

after(async () => {
  if (node.exitCode === null) {
    node.kill("SIGTERM");
    await once(node, "exit");
  }
});

test("ferry call prints the response as JSON with exact 64-bit numbers", async () => {
  const r = await runCli(["call", target, "PrimeChecker.IsPrime", '{"n":"9999999999999917"}']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.n, "9999999999999917");
  assert.equal(out.prime, true);
  assert.equal(out.method, "PRIME_METHOD_TRIAL_DIVISION");
  const mr = await runCli([
    "call",
    target,
    "primechecker.isprime",
    '{"n":9999999999999999,"method":"MILLER_RABIN"}',
    "--json",
  ]);
  // A bare integer past 2^53 is parsed exactly, as the user typed it.
  assert.equal(mr.code, 0, mr.stderr);
  assert.equal(JSON.parse(mr.stdout).n, "9999999999999999");
  assert.equal(JSON.parse(mr.stdout).prime, false);
  const near = await runCli(["call", target, "PrimeChecker.IsPrime", '{"n":9999999999999917}', "--json"]);
  assert.equal(near.code, 0, near.stderr);
  assert.equal(JSON.parse(near.stdout).n, "9999999999999917");
  const ok = await runCli([
    "call",
    `ferry://${target}`,
    "PrimeChecker.IsPrime",
    '{"n":"9999999999999999","method":"MILLER_RABIN"}',
    "--json",
  ]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout.trim().split("\n").length, 1);
  assert.equal(JSON.parse(ok.stdout).prime, false);
});

test("ferry call streams: CheckMany from stdin, one JSON line per result", async () => {
  const r = await runCli(["call", target, "PrimeChecker.CheckMany"], '{"n":7}\n{"n":"9"}\n{"n":11}\n');
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.equal(lines.length, 3);
  // index is uint32, as FetchMany's: a JSON number, where the 64-bit n is a string.
  assert.deepEqual(lines.map((l) => l.index).sort(), [0, 1, 2]);
  const byN = Object.fromEntries(lines.map((l) => [l.result.n, l.result.prime]));
  assert.deepEqual(byN, { "7": true, "9": false, "11": true });
});

test("ferry info prints the node's description", async () => {
  const human = await runCli(["info", target]);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /workers\s+2/);
  assert.match(human.stdout, /PrimeChecker\s+IsPrime, FindDivisor, CheckMany/);
  const json = await runCli(["info", target, "--json"]);
  assert.equal(JSON.parse(json.stdout).workers, 2);
});

test("CLI failures print one line on stderr and exit non-zero", async () => {
  // Mistakes found before any call: one plain line, no gRPC code, exit 2 (as commander's usage errors).
  const local: [string[], RegExp][] = [
    [["call", target, "PrimeChecker.IsPrime", "{n:1"], /^ferry: request is not valid JSON/],
    [["call", target, "Nope.IsPrime", "{}"], /^ferry: unknown service Nope \(services: PrimeChecker/],
    [
      ["call", target, "PrimeChecker.Nope", "{}"],
      /^ferry: unknown method PrimeChecker.Nope \(methods: IsPrime, FindDivisor, CheckMany\)/,
    ],
    [["call", target, "PrimeChecker.IsPrime"], /^ferry: PrimeChecker.IsPrime needs a request: .*\bn\b/],
    [["call", target, "PrimeChecker.IsPrime", "{}"], /^ferry: PrimeChecker.IsPrime: the request has no n/],
    [["call", `ferry://${target}/calc.add`, "{bad", "2"], /^ferry: argument 1 is not valid JSON/],
    [["info", target, "--timeout", "abc"], /^ferry: --timeout must be a positive integer/],
    [["info", `ferry://${target}/calc`], /^ferry: ferry info describes a whole node, not calc/],
    [["node", "--port", "99999"], /^ferry: --port must be an integer from 0 to 65535/],
    [["primes", "--nodes", target, "12abc"], /^ferry: numbers\[0\]/],
    [["node", "--max-samples", "0"], /^ferry: --max-samples must be at least 1/],
    [["certs", "init", "--no-such-flag", "x"], /^ferry: unknown option '--no-such-flag'/],
  ];
  for (const [args, pattern] of local) {
    const r = await runCli(args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, pattern, args.join(" "));
    assert.doesNotMatch(r.stderr, /\[[A-Z_]+\]/, args.join(" "));
    assert.equal(
      r.stderr.trim().split("\n").length,
      1,
      `more than one line for ${args.join(" ")}: ${r.stderr}`,
    );
  }
  const cases: [string[], RegExp][] = [
    [["call", target, "PrimeChecker.IsPrime", '{"n":-1}'], /INVALID_ARGUMENT.*n: must not be negative/],
    [["call", target, "PrimeChecker.IsPrime", '{"n":"18446744073709551616"}'], /n: must be below 2\^64/],
    [["call", target, "PrimeChecker.IsPrime", '{"n":1.5}'], /n: must be a non-negative integer/],
    [["call", target, "PrimeChecker.IsPrime", '{"n":"ten"}'], /n: must be a non-negative decimal integer/],
    [
      ["call", target, "PiEstimator.Estimate", '{"samples":0}'],
      /INVALID_ARGUMENT.*samples: must be at least 1/,
    ],
    [["call", target, "Fetcher.Fetch", '{"url":"gopher://x"}'], /INVALID_ARGUMENT.*url: /],
    [
      ["call", "127.0.0.1:1", "Node.Info", "{}", "--timeout", "2000"],
      /\[UNAVAILABLE\] no node listening at 127\.0\.0\.1:1$/m,
    ],
    [["call", "not-an-address", "Node.Info"], /not host:port/],
  ];
  for (const [args, pattern] of cases) {
    const r = await runCli(args);
    assert.notEqual(r.code, 0, args.join(" "));
    assert.match(r.stderr, pattern, args.join(" "));
    assert.equal(
      r.stderr.trim().split("\n").length,
      1,
      `more than one line for ${args.join(" ")}: ${r.stderr}`,
    );
  }
  // The node served every bad call and is still here.
  const conn = connect(target);
  assert.equal((await conn.primes.isPrime({ n: 7 })).prime, true);
  conn.close();
});

test("SIGTERM lets an in-flight call finish, then the node exits 0", async () => {
  const { child, target: t } = await spawnNode(["--workers", "1"]);
  const conn = connect(t);
  try {
    const running = conn.pi.estimate({ samples: 30_000_000n, seed: 9n }, { timeoutMs: 60_000 });
    while ((await conn.node.info({})).inFlight < 1) await new Promise((r) => setImmediate(r));
    child.kill("SIGTERM");
    const r = await running;
    assert.equal(r.samples, 30_000_000n);
    const [code] = await once(child, "exit");
    assert.equal(code, 0);
  } finally {
    conn.close();
    if (child.exitCode === null) child.kill("SIGKILL");
  }
});

test("ferry node --load exposes a module's objects; ferry ls and ferry call reach them", async () => {
  const { child, target: t } = await spawnNode([
    "--workers",
    "1",
    "--load",
    `${ROOT}test/fixtures/objects.js`,
  ]);
  try {
    const ls = await runCli(["ls", t]);
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, /Calculator\s+single\s+main\s+add, countdown\*, big/);
    assert.match(ls.stdout, /greeter\s+single\s+main\s+hello/);
    assert.match(ls.stdout, /PrimeChecker\s+single\s+main\s+isPrime, findDivisor, checkMany\*/);
    const add = await runCli(["call", `ferry://${t}/Calculator.add`, "2", "3"]);
    assert.equal(add.code, 0, add.stderr);
    assert.equal(JSON.parse(add.stdout), 5);
    const hello = await runCli(["call", `ferry://${t}/greeter.hello`, "world"]);
    assert.equal(JSON.parse(hello.stdout), "hello, world");
    const big = await runCli(["call", `ferry://${t}/Calculator.big`, "9999999999999917", "--json"]);
    assert.equal(JSON.parse(big.stdout), "19999999999999834");
    const count = await runCli(["call", `ferry://${t}/Calculator.countdown`, "3"]);
    assert.deepEqual(JSON.parse(count.stdout), [3, 2, 1]);
    const prime = await runCli(["call", `ferry://${t}/PrimeChecker.isPrime`, '{"n":"9999999999999917"}']);
    assert.equal(JSON.parse(prime.stdout).prime, true);
    for (const [args, pattern] of [
      [
        ["call", `ferry://${t}/Calculator.secret`],
        /UNIMPLEMENTED.*Calculator.secret is not exposed; methods: add, countdown, big/,
      ],
      [["call", `ferry://${t}/Nothing.add`, "1"], /NOT_FOUND.*no object "Nothing"/],
      [["call", `ferry://${t}/Calculator.add`, "1", "2", "3"], /INVALID_ARGUMENT.*takes 2 arguments, got 3/],
    ] as const) {
      const r = await runCli([...args]);
      assert.equal(r.code, 1, args.join(" "));
      assert.match(r.stderr, pattern);
      assert.equal(r.stderr.trim().split("\n").length, 1);
    }
  } finally {
    child.kill("SIGTERM");
    await once(child, "exit");
  }
  const missing = await runCli(["node", "--port", "0", "--load", "./no-such-module.js"]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /cannot load \.\/no-such-module\.js/);
  assert.equal(missing.stderr.trim().split("\n").length, 1);
});

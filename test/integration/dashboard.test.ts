/**
 * `ferry dashboard` in a real headless Chromium (Debian's, driven by
 * playwright-core): the page shows the nodes, counts calls as they are
 * made and marks a stopped node down; an unreachable registry is shown
 * and the page fills in once it answers; the page's files are the
 * package's own; the bad-input paths each give one line.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { createInterface } from "node:readline";
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { connect, type NodeConnection } from "../../client/connect.js";
import type { FerryNode } from "../../server/create-node.js";
import { launchBrowser } from "../browser.js";
import { EtcdServer, freePort } from "../etcd-server.js";
import { keepCalling, ROOT, runCli, startNode, within } from "../helpers.js";

class Calc {
  add(a: number, b: number) {
    return a + b;
  }
  async nap(ms: number) {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return ms;
  }
}

/** How long the page may take to show what the test waits for (a guard, not a timing assertion). */
const PATIENCE_MS = 20_000;

/** Starts a ferry command that serves a dashboard, and waits for the address it prints. */
async function serving(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const child = spawn(process.execPath, [`${ROOT}bin/ferry.js`, ...args], {
    stdio: ["pipe", "pipe", "pipe"],
    env,
  });
  const lines = createInterface({ input: child.stderr as NodeJS.ReadableStream });
  const url = await within(
    (async () => {
      for await (const line of lines) {
        const match = /^ferry dashboard at (https?:\/\/\S+)/.exec(line);
        if (match) return match[1] as string;
      }
      throw new Error(`ferry ${args[0]} printed no dashboard address`);
    })(),
    PATIENCE_MS,
    "the dashboard's address",
  );
  return { child, url };
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGINT");
  await exited;
}

let browser: Browser;

before(async () => {
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
});

/** Polls `check` until it holds (the page redraws every interval). */
async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + PATIENCE_MS;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A page on `url` that fails the test on any script error. */
async function openPage(url: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(err.message));
  await page.goto(url);
  return { page, errors };
}

describe("a dashboard over two nodes", () => {
  let a: { node: FerryNode; target: string };
  let b: { node: FerryNode; target: string };
  let conn: NodeConnection;
  let dashboard: { child: ChildProcess; url: string };

  before(async () => {
    a = await startNode({ workers: 1 });
    a.node.expose("calc", new Calc(), { methods: ["add", "nap"] });
    b = await startNode({ workers: 1 });
    conn = connect(a.target);
    dashboard = await serving([
      "dashboard",
      "--nodes",
      `${a.target},${b.target}`,
      "--port",
      "0",
      "--interval",
      "300",
    ]);
  });

  after(async () => {
    await stop(dashboard?.child);
    conn?.close();
    await a?.node.shutdown();
    await b?.node.shutdown();
  });

  test("the page shows both nodes, counts calls as they are made, and marks a stopped node down", async () => {
    const { page, errors } = await openPage(dashboard.url);
    await until(
      "both nodes up",
      async () => (await page.locator('#nodes tr[data-state="up"]').count()) === 2,
    );
    const row = (target: string) => `#nodes tr[data-target="${target}"]`;
    assert.equal(await page.textContent(`${row(a.target)} td.busy`), "0/1");
    const before = Number(await page.textContent(`${row(a.target)} td.calls`));

    const calc = conn.proxy<Calc>("calc");
    const calling = keepCalling((n) => calc.add(n, 1));
    try {
      const cell = page.locator(`${row(a.target)} td.calls`);
      await until("the calls counted", async () => Number(await cell.textContent()) > before + 20);
      await page.waitForSelector('#methods tr[data-method="calc.add"]', { timeout: PATIENCE_MS });
    } finally {
      assert.ok((await calling.stop()) > 20);
    }
    assert.notEqual(await page.textContent("#calls-rate"), "-");

    await b.node.shutdown();
    await page.waitForSelector(`${row(b.target)}[data-state="down"]`, { timeout: PATIENCE_MS });
    assert.equal(await page.textContent(`${row(a.target)} td.state`), "up");
    assert.equal(await page.textContent("#nodes-up"), "1/2");
    assert.deepEqual(errors, []);
    await page.close();
  });

  test("the page's script and style are the package's own files, under 100 KB together", async () => {
    let total = 0;
    for (const [path, file] of [
      ["/", "index.html"],
      ["/dashboard.js", "dashboard.js"],
      ["/dashboard.css", "dashboard.css"],
    ] as const) {
      const res = await fetch(`${dashboard.url}${path}`);
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get("content-security-policy") ?? "", /default-src 'self'/);
      const body = Buffer.from(await res.arrayBuffer());
      assert.deepEqual(body, readFileSync(`${ROOT}dashboard/${file}`), `${path} is dashboard/${file}`);
      if (file !== "index.html") total += body.length;
    }
    assert.ok(total <= 100 * 1024, `JS and CSS are ${total} bytes`);
    const html = readFileSync(`${ROOT}dashboard/index.html`, "utf8");
    assert.doesNotMatch(html, /https?:\/\//, "no CDN: the page loads nothing from elsewhere");
    assert.equal((await fetch(`${dashboard.url}/nothing`)).status, 404);
    assert.equal((await fetch(`${dashboard.url}/`, { method: "POST" })).status, 405);
  });

  test("--dashboard on ferry map shows the map's own progress beside the nodes", async () => {
    const map = await serving(["map", "calc.nap", "--nodes", a.target, "--dashboard", "0", "--no-progress"]);
    try {
      map.child.stdin?.write("[300]\n[300]\n");
      const { page, errors } = await openPage(map.url);
      await page.waitForSelector('#maps tr[data-method="calc.nap"]', { timeout: PATIENCE_MS });
      assert.equal(await page.isVisible("#maps-section"), true);
      assert.deepEqual(errors, []);
      await page.close();
      map.child.stdin?.end();
      const [code] = await once(map.child, "exit");
      assert.equal(code, 0, "the map ends when its input does, and the dashboard with it");
    } finally {
      await stop(map.child);
    }
  });
});

test("an unreachable registry is shown on the page, which fills in once the registry answers", async () => {
  const etcd = new EtcdServer();
  await etcd.start();
  await etcd.stop();
  const dashboard = await serving(["dashboard", "--registry", etcd.url, "--port", "0", "--interval", "300"]);
  let node: FerryNode | undefined;
  try {
    const { page, errors } = await openPage(dashboard.url);
    await page.waitForSelector("#problems:not([hidden])", { timeout: PATIENCE_MS });
    assert.match((await page.textContent("#problems")) ?? "", /unreachable.*retrying/s);
    assert.equal(dashboard.child.exitCode, null, "the dashboard keeps running");

    await etcd.start();
    ({ node } = await startNode({
      workers: 1,
      registry: { url: etcd.url, tags: { zone: "a" }, ttlSeconds: 5 },
    }));
    await page.waitForSelector('#nodes tr[data-state="up"] .tag', { timeout: PATIENCE_MS });
    assert.equal(await page.textContent('#nodes tr[data-state="up"] .tag'), "zone=a");
    await page.waitForSelector("#problems[hidden]", { state: "attached", timeout: PATIENCE_MS });
    assert.deepEqual(errors, []);
    await page.close();
  } finally {
    await stop(dashboard.child);
    await node?.shutdown();
    await etcd.remove();
  }
});

describe("bad input", () => {
  test("a dashboard port in use gives one line and exit 1", async () => {
    const holder = createServer().listen(0, "127.0.0.1");
    await once(holder, "listening");
    const { port } = holder.address() as { port: number };
    try {
      const out = await runCli(["dashboard", "--nodes", "127.0.0.1:1", "--port", String(port)]);
      assert.equal(out.code, 1);
      assert.equal(
        out.stderr,
        `ferry: cannot serve the dashboard on 127.0.0.1:${port}: the port is in use (another node or program holds it): give another port, or 0 for a free one\n`,
      );
    } finally {
      holder.close();
    }
  });

  test("off loopback the page needs HTTPS, a token or --insecure; with a token it asks for it", async () => {
    const refused = await runCli(["dashboard", "--nodes", "127.0.0.1:1", "--host", "0.0.0.0", "--port", "0"]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /^ferry: refusing to serve the dashboard on 0\.0\.0\.0:0 with neither TLS nor a token/,
    );
    assert.equal(refused.stderr.split("\n").length, 2, "one line");

    const port = await freePort("0.0.0.0");
    const env = { ...process.env, FERRY_TOKEN: "s3cret" };
    const guarded = await serving(
      ["dashboard", "--nodes", "127.0.0.1:1", "--host", "0.0.0.0", "--port", String(port)],
      env,
    );
    try {
      const base = `http://127.0.0.1:${port}`;
      assert.equal((await fetch(`${base}/snapshot`)).status, 401);
      assert.equal((await fetch(`${base}/?token=wrong`, { redirect: "manual" })).status, 401);
      const opened = await fetch(`${base}/?token=s3cret`, { redirect: "manual" });
      assert.equal(opened.status, 303);
      assert.equal(opened.headers.get("location"), "/", "the token leaves the address bar");
      const cookie = (opened.headers.get("set-cookie") ?? "").split(";")[0] as string;
      assert.match(opened.headers.get("set-cookie") ?? "", /HttpOnly/);
      const snapshot = await fetch(`${base}/snapshot`, { headers: { cookie } });
      assert.equal(snapshot.status, 200);
      const body = (await snapshot.json()) as { nodes: { state: string }[] };
      assert.notEqual(body.nodes[0]?.state, "up", "127.0.0.1:1 answers nothing");
      const bearer = await fetch(`${base}/snapshot`, { headers: { authorization: "Bearer s3cret" } });
      assert.equal(bearer.status, 200);
    } finally {
      await stop(guarded.child);
    }
  });

  test("a malformed --dashboard address is a usage error naming the flag", async () => {
    const out = await runCli(["primes", "--nodes", "127.0.0.1:1", "--dashboard", "nowhere", "7"]);
    assert.equal(out.code, 2);
    assert.equal(out.stderr, 'ferry: --dashboard must be host:port or a port, got "nowhere"\n');
  });
});

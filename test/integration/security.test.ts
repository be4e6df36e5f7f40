import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { once } from "node:events";
import { mkdtempSync, renameSync, rmSync, statSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { acquireChannel } from "../../client/channel.js";
import { connect } from "../../client/connect.js";
import { checkHealth } from "../../client/health-check.js";
import { createPool } from "../../client/pool.js";
import { RemoteError } from "../../client/remote-error.js";
import { createNode } from "../../server/create-node.js";
import { Code } from "../../src/code.js";
import { PrimeCheckerService as PrimeChecker } from "../../src/gen/ferry/v1/prime.js";
import { runCli, startNode, within } from "../helpers.js";
import { waitFor } from "../hostile-wire.js";

const dir = mkdtempSync(join(tmpdir(), "ferry-pki-"));
const pki = join(dir, "pki");
const other = join(dir, "other");
const file = (base: string, name: string) => join(base, name);

const isCode = (code: Code, pattern?: RegExp) => (err: unknown) => {
  assert.ok(err instanceof RemoteError, String(err));
  assert.equal(err.code, code, err.message);
  if (pattern) assert.match(err.message, pattern);
  return true;
};

class Calculator {
  add(a: number, b: number) {
    return a + b;
  }
}

describe("TLS, mutual TLS and tokens", () => {
  before(async () => {
    for (const target of [pki, other]) {
      const made = await runCli(["certs", "init", target]);
      assert.equal(made.code, 0, made.stderr);
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("ferry certs init makes a CA, a node and a client certificate; keys owner-only; no silent overwrite", async () => {
    const ca = new X509Certificate(
      new Uint8Array(await import("node:fs").then((fs) => fs.readFileSync(file(pki, "ca.pem")))),
    );
    for (const name of ["node.pem", "client.pem"]) {
      const cert = new X509Certificate(
        new Uint8Array(await import("node:fs").then((fs) => fs.readFileSync(file(pki, name)))),
      );
      assert.ok(cert.verify(ca.publicKey), `${name} is signed by the CA`);
      assert.equal(cert.checkIssued(ca), true);
    }
    const node = new X509Certificate(
      new Uint8Array(await import("node:fs").then((fs) => fs.readFileSync(file(pki, "node.pem")))),
    );
    assert.match(node.subjectAltName ?? "", /DNS:localhost/);
    assert.match(node.subjectAltName ?? "", /IP Address:127\.0\.0\.1/);
    for (const key of ["ca-key.pem", "node-key.pem", "client-key.pem"]) {
      assert.equal(statSync(file(pki, key)).mode & 0o077, 0, `${key} is readable by its owner only`);
    }
    const again = await runCli(["certs", "init", pki]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already holds ca\.pem.*--force replaces them/);
    const days = await runCli(["certs", "init", join(dir, "x"), "--days", "0"]);
    assert.match(days.stderr, /--days must be a whole number from 1 to 3650/);
  });

  test("a TLS node serves clients that trust its CA, and no others", async () => {
    const { node, target } = await startNode({
      workers: 1,
      tls: { cert: file(pki, "node.pem"), key: file(pki, "node-key.pem") },
    });
    const good = connect(target, { tls: { ca: file(pki, "ca.pem") }, defaultTimeoutMs: 3000 });
    const plain = connect(target, { defaultTimeoutMs: 3000 });
    const stranger = connect(target, { tls: { ca: file(other, "ca.pem") }, defaultTimeoutMs: 3000 });
    try {
      assert.equal((await good.service(PrimeChecker).isPrime({ n: 97n })).prime, true);
      await assert.rejects(plain.service(PrimeChecker).isPrime({ n: 97n }), isCode(Code.UNAVAILABLE));
      await assert.rejects(stranger.service(PrimeChecker).isPrime({ n: 97n }), isCode(Code.UNAVAILABLE));
    } finally {
      for (const c of [good, plain, stranger]) c.close();
      await node.shutdown();
    }
  });

  test("a TLS handshake that stops half-way is closed by the node; TLS clients are served meanwhile", async () => {
    const { node, target } = await startNode({
      workers: 1,
      limits: { handshakeTimeoutMs: 300 },
      tls: { cert: file(pki, "node.pem"), key: file(pki, "node-key.pem") },
    });
    const port = Number(target.slice(target.lastIndexOf(":") + 1));
    const tcpSockets = () =>
      process.getActiveResourcesInfo().filter((kind) => kind === "TCPSocketWrap").length;
    const good = connect(target, { tls: { ca: file(pki, "ca.pem") }, defaultTimeoutMs: 5000 });
    try {
      assert.equal((await good.service(PrimeChecker).isPrime({ n: 97n })).prime, true);
      const before = tcpSockets();
      // Connected, then silent, and never reading: the TLS handshake never starts.
      const stalled = net.connect(port, "127.0.0.1");
      stalled.on("error", () => {});
      await within(once(stalled, "connect"), 10_000, "the stalled peer to connect");
      assert.equal((await good.service(PrimeChecker).isPrime({ n: 89n })).prime, true, "served meanwhile");
      await waitFor(
        () => tcpSockets() <= before + 1,
        10_000,
        () => "the node to close its end of a stalled TLS connection",
      );
      stalled.destroy();
    } finally {
      good.close();
      await node.shutdown();
    }
  });

  test("mutual TLS admits only clients with a certificate from the CA: calls, proxies and pools", async () => {
    const { node, target } = await startNode({
      workers: 1,
      tls: { cert: file(pki, "node.pem"), key: file(pki, "node-key.pem"), clientCa: file(pki, "ca.pem") },
    });
    node.expose("calc", new Calculator(), { methods: ["add"] });
    const tls = { ca: file(pki, "ca.pem"), cert: file(pki, "client.pem"), key: file(pki, "client-key.pem") };
    const withCert = connect(`ferry://${target}/calc`, { tls });
    const withoutCert = connect(target, { tls: { ca: tls.ca }, defaultTimeoutMs: 3000 });
    const wrongCert = connect(target, {
      tls: { ca: tls.ca, cert: file(other, "client.pem"), key: file(other, "client-key.pem") },
      defaultTimeoutMs: 3000,
    });
    const pool = createPool({ nodes: [target], tls });
    try {
      assert.equal(await withCert.proxy<Calculator>().add(2, 3), 5);
      assert.deepEqual(
        (await pool.map(PrimeChecker.isPrime, [{ n: 91n }, { n: 97n }])).map((r) => r.divisor),
        [7n, 0n],
      );
      await assert.rejects(withoutCert.service(PrimeChecker).isPrime({ n: 97n }), isCode(Code.UNAVAILABLE));
      await assert.rejects(wrongCert.service(PrimeChecker).isPrime({ n: 97n }), isCode(Code.UNAVAILABLE));
      assert.throws(() => connect(target, { tls: { cert: tls.cert } }), /tls: cert and key go together/);
      assert.throws(
        () => connect(target, { tls: { ca: join(dir, "missing.pem") } }),
        /tls\.ca: cannot read .*ENOENT/,
      );
    } finally {
      pool.close();
      for (const c of [withCert, withoutCert, wrongCert]) c.close();
      await node.shutdown();
    }
  });

  test("a renewed certificate is used without a restart", async () => {
    const live = join(dir, "live");
    await runCli(["certs", "init", live]);
    const { node, target } = await startNode({
      workers: 1,
      tls: { cert: file(live, "node.pem"), key: file(live, "node-key.pem"), reloadMs: 100 },
    });
    try {
      const first = connect(target, { tls: { ca: file(live, "ca.pem") } });
      assert.equal((await first.service(PrimeChecker).isPrime({ n: 97n })).prime, true);
      first.close();
      // Renew: a new PKI's node certificate renamed over the old files.
      const renewed = join(dir, "renewed");
      await runCli(["certs", "init", renewed]);
      renameSync(file(renewed, "node-key.pem"), file(live, "node-key.pem.new"));
      renameSync(file(renewed, "node.pem"), file(live, "node.pem.new"));
      renameSync(file(live, "node-key.pem.new"), file(live, "node-key.pem"));
      renameSync(file(live, "node.pem.new"), file(live, "node.pem"));
      // New connections meet the new certificate once the node has read it.
      for (let attempt = 0; ; attempt++) {
        const conn = connect(target, { tls: { ca: file(renewed, "ca.pem") }, defaultTimeoutMs: 2000 });
        try {
          assert.equal((await conn.service(PrimeChecker).isPrime({ n: 89n })).prime, true);
          break;
        } catch (err) {
          if (attempt >= 50) throw err;
          await new Promise((resolve) => setTimeout(resolve, 100));
        } finally {
          conn.close();
        }
      }
      const old = connect(target, { tls: { ca: file(live, "ca.pem") }, defaultTimeoutMs: 2000 });
      await assert.rejects(old.service(PrimeChecker).isPrime({ n: 97n }), isCode(Code.UNAVAILABLE));
      old.close();
    } finally {
      await node.shutdown();
    }
  });

  test("a token is required on every call but health checks; refusals are counted and logged with the peer", async () => {
    const lines: string[] = [];
    const { node, target } = await startNode({ workers: 1, token: "s3cret", log: (l) => lines.push(l) });
    node.expose("calc", new Calculator(), { methods: ["add"] });
    const none = connect(target);
    const wrong = connect(target, { token: "guess" });
    const right = connect(`ferry://${target}/calc`, { token: "s3cret" });
    const pool = createPool({ nodes: [target], token: "s3cret" });
    const channel = acquireChannel(target);
    try {
      await assert.rejects(
        none.service(PrimeChecker).isPrime({ n: 97n }),
        isCode(Code.UNAUTHENTICATED, /requires a token/),
      );
      await assert.rejects(
        wrong.service(PrimeChecker).isPrime({ n: 97n }),
        isCode(Code.UNAUTHENTICATED, /wrong token/),
      );
      await assert.rejects(none.node.info({}), isCode(Code.UNAUTHENTICATED));
      await assert.rejects(wrong.proxy<Calculator>("calc").add(1, 2), isCode(Code.UNAUTHENTICATED));
      await checkHealth(channel.client, 2000);
      assert.equal(await right.proxy<Calculator>().add(2, 3), 5);
      assert.equal((await right.service(PrimeChecker).isPrime({ n: 97n })).prime, true);
      assert.equal((await pool.submit(PrimeChecker.isPrime, { n: 91n })).divisor, 7n);
      assert.ok(node.refusedCalls >= 4, String(node.refusedCalls));
      assert.match(
        lines.join("\n"),
        /refused \/ferry\.v1\.PrimeChecker\/IsPrime from 127\.0\.0\.1:\d+: no token/,
      );
      const bad = await runCli(["call", target, "PrimeChecker.IsPrime", '{"n":"7"}']);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /^ferry: \[UNAUTHENTICATED\] this node requires a token/);
    } finally {
      channel.release();
      pool.close();
      for (const c of [none, wrong, right]) c.close();
      await node.shutdown();
    }
    assert.throws(() => createNode({ token: "" }), /token must be a non-empty string/);
  });

  test("a node refuses to listen beyond loopback with neither TLS nor a token, unless told --insecure", async () => {
    const open = createNode({ host: "0.0.0.0", port: 0, workers: 1, log: () => {} });
    await assert.rejects(open.listen(), /refusing to listen on 0\.0\.0\.0:0 with neither TLS nor a token/);
    await open.shutdown();
    const told = createNode({ host: "0.0.0.0", port: 0, workers: 1, insecure: true, log: () => {} });
    const address = await told.listen();
    assert.ok(address.port > 0);
    await told.shutdown();
    const cli = await runCli(["node", "--host", "0.0.0.0", "--port", "0"]);
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, /refusing to listen .* --insecure on a network you trust/);
    const missing = await runCli(["node", "--port", "0", "--tls", join(dir, "nothing")]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /cannot read the TLS certificate .*nothing\.pem: ENOENT/);
  });
});

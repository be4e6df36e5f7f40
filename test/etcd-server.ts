import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { noop } from "cockatiel";
import { Etcd3 } from "etcd3";

/** A free TCP port on `address` (free when asked; the caller binds it at once). */
export async function freePort(address = "127.0.0.1"): Promise<number> {
  const server = createServer();
  server.listen(0, address);
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, "close");
  return port;
}

/**
 * A real etcd (Debian's etcd-server) on free ports of `address` (loopback by
 * default; the hosts tests give a bridge address the namespaces reach) with
 * a temporary data directory, for the registry tests. stop() and start()
 * keep the data, so a restart is the same cluster; remove() deletes it.
 */
export class EtcdServer {
  readonly dir = mkdtempSync(join(tmpdir(), "ferry-etcd-"));
  readonly address: string;
  #child: ChildProcess | undefined;
  clientPort = 0;
  #peerPort = 0;

  constructor(address = "127.0.0.1") {
    this.address = address;
  }

  /** `etcd://address:port`, as ferry takes it. */
  get url(): string {
    return `etcd://${this.address}:${this.clientPort}`;
  }

  /** The etcd process while it runs. */
  get child(): ChildProcess | undefined {
    return this.#child;
  }

  /** Starts etcd and waits until it answers a read. */
  async start(): Promise<void> {
    if (this.clientPort === 0) {
      this.clientPort = await freePort(this.address);
      do this.#peerPort = await freePort(this.address);
      while (this.#peerPort === this.clientPort);
    }
    const client = `http://${this.address}:${this.clientPort}`;
    const peer = `http://${this.address}:${this.#peerPort}`;
    const child = spawn(
      "etcd",
      [
        "--name",
        "ferry-test",
        "--data-dir",
        join(this.dir, "data"),
        "--listen-client-urls",
        client,
        "--advertise-client-urls",
        client,
        "--listen-peer-urls",
        peer,
        "--initial-advertise-peer-urls",
        peer,
        "--initial-cluster",
        `ferry-test=${peer}`,
        "--log-level",
        "error",
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const failed = new Promise<never>((_, reject) => {
      child.once("error", (err) =>
        reject(new Error(`cannot start etcd (apt-get install etcd-server): ${err.message}`)),
      );
      child.once("exit", (code) => reject(new Error(`etcd exited with ${code}: ${stderr.slice(-500)}`)));
    });
    failed.catch(() => {});
    this.#child = child;
    for (let attempt = 0; ; attempt++) {
      // A fresh client each time: one that failed to dial waits out gRPC's reconnect backoff.
      const probe = new Etcd3({
        hosts: client,
        dialTimeout: 500,
        faultHandling: { host: () => noop, global: noop },
      });
      try {
        await Promise.race([probe.get("ferry-test-probe").string(), failed]);
        return;
      } catch (err) {
        if (attempt >= 100 || child.exitCode !== null) throw err;
        await Promise.race([new Promise((resolve) => setTimeout(resolve, 100)), failed]);
      } finally {
        probe.close();
      }
    }
  }

  /** Stops etcd (SIGTERM) and waits for it to exit; its data stays. */
  async stop(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child || child.exitCode !== null) return;
    child.kill("SIGTERM");
    await once(child, "exit");
  }

  /** Stops etcd and deletes its data. */
  async remove(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./etcd-server.js";

/** One series of a Prometheus instant query. */
export interface Series {
  metric: Record<string, string>;
  value: [number, string];
}

/**
 * A real Prometheus (Debian's prometheus) on a free loopback port, with a
 * temporary config and data directory, scraping `targets` every second.
 */
export class PrometheusServer {
  readonly dir = mkdtempSync(join(tmpdir(), "ferry-prometheus-"));
  #child: ChildProcess | undefined;
  port = 0;

  /** Starts Prometheus scraping `targets` (host:port of /metrics) and waits until it is ready. */
  async start(targets: string[]): Promise<void> {
    this.port = await freePort();
    const config = join(this.dir, "prometheus.yml");
    writeFileSync(
      config,
      [
        "global:",
        "  scrape_interval: 1s",
        "  evaluation_interval: 1s",
        "scrape_configs:",
        "  - job_name: ferry",
        "    static_configs:",
        `      - targets: [${targets.map((t) => JSON.stringify(t)).join(", ")}]`,
        "",
      ].join("\n"),
    );
    const child = spawn(
      "prometheus",
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(this.dir, "data")}`,
        `--web.listen-address=127.0.0.1:${this.port}`,
        "--log.level=error",
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    this.#child = child;
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`prometheus exited: ${stderr}`);
      try {
        const res = await fetch(`http://127.0.0.1:${this.port}/-/ready`);
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`prometheus was not ready within 30 s: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** An instant query through Prometheus's HTTP API. */
  async query(promql: string): Promise<Series[]> {
    const url = `http://127.0.0.1:${this.port}/api/v1/query?query=${encodeURIComponent(promql)}`;
    const body = (await (await fetch(url)).json()) as {
      status: string;
      data?: { result: Series[] };
      error?: string;
    };
    if (body.status !== "success") throw new Error(`query ${promql} failed: ${body.error}`);
    return body.data?.result ?? [];
  }

  /** Asks `promql` until `done` holds for its series (Prometheus scrapes every second), at most `ms`. */
  async until(promql: string, done: (series: Series[]) => boolean, ms = 20_000): Promise<Series[]> {
    const deadline = Date.now() + ms;
    for (;;) {
      const series = await this.query(promql);
      if (done(series)) return series;
      if (Date.now() > deadline)
        throw new Error(`${promql} never held within ${ms} ms: ${JSON.stringify(series)}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  async stop(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (child && child.exitCode === null) {
      child.kill("SIGTERM");
      await once(child, "exit");
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

import type { NodeStats } from "../client/pool-member.js";
import { formatTable } from "./table.js";

/** How often the progress line is redrawn, in milliseconds. */
const REDRAW_MS = 100;

/**
 * A one-line progress display on stderr: items done of the total, rate,
 * each node's share, and the time left. Drawn only when stderr is a
 * terminal and the caller wants it, so pipes and scripts see nothing.
 */
export class Progress {
  readonly #enabled: boolean;
  readonly #total: number | undefined;
  readonly #started = performance.now();
  readonly #perNode = new Map<string, number>();
  #done = 0;
  #failed = 0;
  #drawnAt = 0;

  constructor(total: number | undefined, wanted: boolean) {
    this.#total = total;
    this.#enabled = wanted && process.stderr.isTTY === true;
  }

  /** Counts one finished item, answered by `node`. */
  item(node: string, ok: boolean): void {
    this.#done++;
    if (!ok) this.#failed++;
    if (node !== "") this.#perNode.set(node, (this.#perNode.get(node) ?? 0) + 1);
    const now = performance.now();
    if (this.#enabled && now - this.#drawnAt >= REDRAW_MS) {
      this.#drawnAt = now;
      this.#draw(now);
    }
  }

  /** Clears the line, so the results print on a clean terminal. */
  end(): void {
    if (this.#enabled) process.stderr.write("\r\x1b[K");
  }

  #draw(now: number): void {
    const seconds = (now - this.#started) / 1000;
    const rate = this.#done / Math.max(seconds, 1e-3);
    const total = this.#total;
    const width = 24;
    const bar =
      total === undefined
        ? ""
        : `[${"#".repeat(Math.round((width * this.#done) / Math.max(total, 1))).padEnd(width, ".")}] `;
    const count = total === undefined ? `${this.#done}` : `${this.#done}/${total}`;
    const eta = total === undefined || rate === 0 ? "" : ` eta ${formatSeconds((total - this.#done) / rate)}`;
    const shares = [...this.#perNode]
      .map(([node, n]) => `${node} ${Math.round((100 * n) / Math.max(this.#done, 1))}%`)
      .join(" ");
    const failed = this.#failed > 0 ? ` ${this.#failed} failed` : "";
    process.stderr.write(`\r\x1b[K${bar}${count} ${formatRate(rate)}/s${eta}${failed}  ${shares}`);
  }
}

/** The per-node summary printed after a pool command: items, busy time, failures. */
export function summaryTable(stats: NodeStats[], seconds: number, unit = "items"): string {
  const rows = stats.map((s) => [
    s.target,
    s.state,
    String(s.slots),
    String(s.items),
    `${(s.busyMs / 1000).toFixed(2)} s`,
    String(s.failures),
  ]);
  const header = ["node", "state", "slots", unit, "busy", "failures"];
  const total = stats.reduce((sum, s) => sum + s.items, 0);
  return [...formatTable(header, rows), `${total} ${unit} in ${seconds.toFixed(3)} s`].join("\n");
}

export function formatSeconds(s: number): string {
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

export function formatRate(perSecond: number): string {
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(2)} M`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(1)} k`;
  return perSecond.toFixed(1);
}

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

  readonly #unit: string;
  readonly #stats: (() => NodeStats[]) | undefined;

  /**
   * `unit` names what is counted when it is not items (pi counts samples);
   * `stats` gives each node's share when items are counted without their node.
   */
  constructor(total: number | undefined, wanted: boolean, unit = "", stats?: () => NodeStats[]) {
    this.#total = total;
    this.#unit = unit;
    this.#stats = stats;
    this.#enabled = wanted && process.stderr.isTTY === true;
  }

  /** Counts `count` (default one) finished items, answered by `node`. */
  item(node: string, ok: boolean, count = 1): void {
    this.#done += count;
    if (!ok) this.#failed += count;
    if (node !== "") this.#perNode.set(node, (this.#perNode.get(node) ?? 0) + count);
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
    const unit = this.#unit === "" ? "" : ` ${this.#unit}`;
    const count =
      total === undefined
        ? `${formatCount(this.#done)}${unit}`
        : `${formatCount(this.#done)}/${formatCount(total)}${unit}`;
    const eta = total === undefined || rate === 0 ? "" : ` eta ${formatSeconds((total - this.#done) / rate)}`;
    const perNode = this.#stats ? this.#stats().map((s) => [s.target, s.items] as const) : [...this.#perNode];
    const counted = perNode.reduce((sum, [, n]) => sum + n, 0);
    const shares = perNode
      .map(([node, n]) => `${node} ${Math.round((100 * n) / Math.max(counted, 1))}%`)
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
  const failures = stats.reduce((sum, s) => sum + s.failures, 0);
  const failed = failures > 0 ? `, ${failures} failure${failures === 1 ? "" : "s"}` : "";
  return [...formatTable(header, rows), `${total} ${unit} answered${failed} in ${seconds.toFixed(3)} s`].join(
    "\n",
  );
}

export function formatSeconds(s: number): string {
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

/** A count for the progress line: exact while short, then 1.2 M, 3.40 G. */
function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} G`;
  if (n >= 1e7) return `${(n / 1e6).toFixed(1)} M`;
  return String(n);
}

export function formatRate(perSecond: number): string {
  if (perSecond >= 1e9) return `${(perSecond / 1e9).toFixed(2)} G`;
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(2)} M`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(1)} k`;
  return perSecond.toFixed(1);
}

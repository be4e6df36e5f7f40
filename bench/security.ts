/**
 * What protection costs: session calls (Calculator.add through a proxy) to
 * nodes in their own processes over plaintext, TLS, mutual TLS and a token,
 * alternating rounds, side by side. `tsx bench/security.ts`.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initPki } from "../dist/cli/pki.js";
// The compiled package, as users run it (`make bench` builds first).
import { type ConnectOptions, connect } from "../dist/index.js";
import { type Figures, fmt, measure, medianFigures } from "./measure.js";
import { FIXTURE, startNode, stopNode } from "./nodes.js";

const ROUNDS = 7;

const dir = mkdtempSync(join(tmpdir(), "ferry-bench-pki-"));
await initPki(dir, { sans: ["127.0.0.1", "localhost"], days: 1, force: true, client: "bench" });
const file = (name: string) => join(dir, name);
const token = "bench-token-0123456789abcdef";

const setups: { label: string; nodeFlags: string[]; client: ConnectOptions }[] = [
  { label: "plaintext", nodeFlags: [], client: {} },
  { label: "TLS", nodeFlags: ["--tls", file("node")], client: { tls: { ca: file("ca.pem") } } },
  {
    label: "mutual TLS",
    nodeFlags: ["--tls", file("node"), "--client-ca", file("ca.pem")],
    client: { tls: { ca: file("ca.pem"), cert: file("client.pem"), key: file("client-key.pem") } },
  },
  { label: "token", nodeFlags: ["--token-file", join(dir, "token")], client: { token } },
];
writeFileSync(join(dir, "token"), token);

console.log("\n== Session calls (Calculator.add) over plaintext, TLS, mutual TLS and a token (medians)");
const nodes: Awaited<ReturnType<typeof startNode>>[] = [];
for (const setup of setups) nodes.push(await startNode(2, ["--load", FIXTURE, ...setup.nodeFlags]));
const calcs = setups.map((setup, i) =>
  connect(nodes[i]?.target as string, setup.client).proxy<{ add(a: number, b: number): number }>(
    "Calculator",
  ),
);
for (const calc of calcs) await measure(5000, 64, () => calc.add(1, 2));
const sequential: Figures[][] = setups.map(() => []);
const parallel: Figures[][] = setups.map(() => []);
for (let round = 0; round < ROUNDS; round++) {
  // Each round starts with the next setup: none is always measured first.
  for (let k = 0; k < calcs.length; k++) {
    const i = (round + k) % calcs.length;
    const calc = calcs[i] as (typeof calcs)[number];
    sequential[i]?.push(await measure(5000, 1, () => calc.add(1, 2)));
    parallel[i]?.push(await measure(30000, 64, () => calc.add(1, 2)));
  }
}
for (const [name, runs] of [
  ["sequential", sequential],
  ["64 in flight", parallel],
] as const) {
  const base = medianFigures(runs[0] as Figures[]);
  for (const [i, setup] of setups.entries()) {
    const f = medianFigures(runs[i] as Figures[]);
    console.log(
      `  ${name.padEnd(13)} ${setup.label.padEnd(11)} ${fmt(f)}   vs plaintext ${(f.rate / base.rate).toFixed(3)}`,
    );
  }
}
for (const n of nodes) await stopNode(n.child);
rmSync(dir, { recursive: true, force: true });
process.exit(0);

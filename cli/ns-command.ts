import type { Command } from "commander";
import { EtcdResolver } from "../client/etcd-resolver.js";
import { listNodes, lookup } from "../client/naming.js";
import type { ResolvedNode } from "../client/resolver.js";
import { type NodeRecord, parseRegistryUrl, parseTags } from "../src/node-record.js";
import { commandSignal } from "./command-signal.js";
import { printJson, reportFailure, UsageError } from "./output.js";
import { formatTable } from "./table.js";

interface NsFlags {
  registry?: string;
  where: string[];
  json?: boolean;
}

/** `ferry ns ls | lookup | watch`: the nodes registered in etcd. */
export function registerNs(program: Command): void {
  const ns = program
    .command("ns")
    .description("the name service: nodes registered in etcd (ls, lookup, watch)")
    .addHelpText(
      "after",
      `
Nodes register with \`ferry node --registry etcd://host:port\`. FERRY_REGISTRY
stands in for --registry.

Examples:
  $ ferry ns ls --registry etcd://127.0.0.1:2379
  $ ferry ns lookup calc --registry etcd://127.0.0.1:2379 --where zone=a
  $ ferry ns watch --registry etcd://127.0.0.1:2379 --json`,
    );
  const flags = (command: Command) =>
    command
      .option("--registry <url>", "etcd://host:port[,host:port] (env FERRY_REGISTRY)")
      .option(
        "--where <key=value>",
        "only nodes with this tag; repeatable",
        (value: string, previous: string[]) => [...previous, value],
        [] as string[],
      )
      .option("--json", "one JSON line per node or event");
  const run =
    (
      action: (
        registry: string,
        where: Record<string, string> | undefined,
        f: NsFlags,
        names: string[],
      ) => Promise<void>,
    ) =>
    async (...args: unknown[]) => {
      const f = args.find((a) => typeof a === "object" && a !== null && "where" in a) as NsFlags;
      try {
        const registry = f.registry ?? process.env.FERRY_REGISTRY;
        if (registry === undefined || registry === "") {
          throw new UsageError("no registry: give --registry etcd://host:port or set FERRY_REGISTRY");
        }
        parseRegistryUrl(registry);
        const where = f.where.length > 0 ? parseTags(f.where, "--where") : undefined;
        await action(
          registry,
          where,
          f,
          args.filter((a): a is string => typeof a === "string"),
        );
      } catch (err) {
        reportFailure(err);
      }
    };

  flags(
    ns.command("ls").description("list registered nodes: address, slots, objects, tags, version, age"),
  ).action(
    run(async (registry, where, f) => {
      const records = await listNodes(registry, where ? { where } : {});
      if (f.json) {
        for (const r of records) printJson(r, true);
        return;
      }
      if (records.length === 0) {
        process.stdout.write(`no nodes registered in ${registry}${where ? " with those tags" : ""}\n`);
        return;
      }
      process.stdout.write(`${recordTable(records).join("\n")}\n`);
    }),
  );

  flags(
    ns
      .command("lookup")
      .description("the nodes hosting an object, as ferry:// URIs")
      .argument("<object>", "object name, e.g. calc or PrimeChecker"),
  ).action(
    run(async (registry, where, f, [object = ""]) => {
      const host = registry.slice("etcd://".length).replace(/\/$/, "");
      const records = await lookup(
        `ferry+etcd://${host}/${encodeURIComponent(object)}`,
        where ? { where } : {},
      );
      for (const r of records) {
        if (f.json) printJson({ uri: `ferry://${r.address}/${object}`, ...r }, true);
        else process.stdout.write(`ferry://${r.address}/${object}\n`);
      }
    }),
  );

  flags(
    ns.command("watch").description("print nodes joining and leaving as it happens; Ctrl-C stops"),
  ).action(
    run(async (registry, where, f) => {
      const signal = commandSignal();
      const resolver = new EtcdResolver(registry, where ? { where } : {});
      const known = new Map<string, NodeRecord>();
      const print = (event: "join" | "leave" | "update", r: NodeRecord) => {
        if (f.json) printJson({ event, at: new Date().toISOString(), ...r }, true);
        else {
          const tags = Object.entries(r.tags)
            .map(([k, v]) => `${k}=${v}`)
            .join(",");
          process.stdout.write(
            `${new Date().toISOString()}  ${event.padEnd(6)} ${r.address}  ${r.slots} slots  ${tags || "-"}\n`,
          );
        }
      };
      try {
        await new Promise<void>((resolve) => {
          signal.addEventListener("abort", () => resolve(), { once: true });
          resolver.start(
            (nodes: ResolvedNode[]) => {
              const now = new Map(nodes.map((n) => [n.target, n.record as NodeRecord]));
              for (const [address, record] of now) {
                const before = known.get(address);
                if (!before) print("join", record);
                else if (JSON.stringify(before) !== JSON.stringify(record)) print("update", record);
              }
              for (const [address, record] of known) if (!now.has(address)) print("leave", record);
              known.clear();
              for (const [address, record] of now) known.set(address, record);
            },
            (err) => process.stderr.write(`ferry: ${err.message}\n`),
          );
        });
      } finally {
        resolver.close();
      }
    }),
  );
}

/** The table `ferry ns ls` prints. */
function recordTable(records: readonly NodeRecord[]): string[] {
  const now = Date.now();
  const rows = records.map((r) => [
    r.address,
    String(r.slots),
    r.objects.join(","),
    Object.entries(r.tags)
      .map(([k, v]) => `${k}=${v}`)
      .join(",") || "-",
    r.version,
    age(now - Date.parse(r.since)),
  ]);
  return formatTable(["node", "slots", "objects", "tags", "version", "age"], rows);
}

function age(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "?";
  const s = Math.floor(ms / 1000);
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  return `${Math.floor(s / 3600)}h`;
}

import type { Command } from "commander";
import { connect } from "../client/connect.js";
import { InstanceMode, ObjectsService, Placement } from "../src/gen/ferry/v1/objects.js";
import { parseMs, printJson, reportFailure } from "./output.js";
import { type SecurityFlags, securityFrom, securityOptions } from "./security-flags.js";

const MODES: Record<number, string> = {
  [InstanceMode.INSTANCE_MODE_SINGLE]: "single",
  [InstanceMode.INSTANCE_MODE_SESSION]: "session",
  [InstanceMode.INSTANCE_MODE_PERCALL]: "percall",
};

const PLACES: Record<number, string> = {
  [Placement.PLACEMENT_MAIN]: "main",
  [Placement.PLACEMENT_WORKERS]: "workers",
};

/** `ferry ls <target>` */
export function registerLs(program: Command): void {
  securityOptions(program.command("ls"))
    .description(
      "list a node's exposed objects: instance mode, where they run (main thread or workers), methods",
    )
    .argument("<target>", "node address, host:port or ferry://host:port")
    .option("--timeout <ms>", "deadline of the call in milliseconds", "5000")
    .option("--json", "print JSON")
    .addHelpText(
      "after",
      "\nRuns: main (the node's event loop) or workers (its worker threads). Methods marked * stream their results; ! are oneway.\n\nExamples:\n  $ ferry ls 127.0.0.1:50051\n  $ ferry ls 127.0.0.1:50051 --json",
    )
    .action(async (target: string, flags: { timeout: string; json?: boolean } & SecurityFlags) => {
      let node: ReturnType<typeof connect> | undefined;
      try {
        node = connect(target, securityFrom(flags));
        const { objects } = await node
          .service(ObjectsService)
          .describe({}, { timeoutMs: parseMs(flags.timeout, "--timeout") });
        if (flags.json) {
          printJson(
            objects.map((o) => ({
              name: o.name,
              mode: MODES[o.mode] ?? "unknown",
              run: PLACES[o.placement] ?? "unknown",
              methods: o.methods.map((m) => ({ name: m.name, stream: m.stream, oneway: m.oneway })),
            })),
            false,
          );
          return;
        }
        const width = Math.max(6, ...objects.map((o) => o.name.length));
        const lines = objects.map((o) => {
          const methods = o.methods.map((m) => `${m.name}${m.stream ? "*" : ""}${m.oneway ? "!" : ""}`);
          const runs = (PLACES[o.placement] ?? "?").padEnd(7);
          return `${o.name.padEnd(width)}  ${(MODES[o.mode] ?? "?").padEnd(7)}  ${runs}  ${methods.join(", ")}`;
        });
        process.stdout.write(
          `${[`${"object".padEnd(width)}  mode     runs     methods`, ...lines].join("\n")}\n`,
        );
      } catch (err) {
        reportFailure(err);
      } finally {
        node?.close();
      }
    });
}

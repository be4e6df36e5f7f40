import type { Command } from "commander";
import { connect } from "../client/connect.js";
import { messageToJson } from "../src/message-json.js";
import { parseMs, printJson, reportFailure, UsageError } from "./output.js";
import { type SecurityFlags, securityFrom, securityOptions } from "./security-flags.js";

/** `ferry info <target>` */
export function registerInfo(program: Command): void {
  securityOptions(program.command("info"))
    .description(
      "show what a node runs on and hosts: host, version, cores, workers busy and tasks queued, objects, load",
    )
    .argument("<target>", "node address, host:port or ferry://host:port")
    .option("--timeout <ms>", "deadline of the call in milliseconds", "5000")
    .option("--json", "print JSON")
    .addHelpText(
      "after",
      "\nExamples:\n  $ ferry info 127.0.0.1:50051\n  $ ferry info 127.0.0.1:50051 --json",
    )
    .action(async (target: string, flags: { timeout: string; json?: boolean } & SecurityFlags) => {
      const node = (() => {
        try {
          const object = /^ferry(?:\+etcd)?:\/\/[^/]+\/(.+)$/.exec(target)?.[1];
          if (object !== undefined) {
            throw new UsageError(
              `ferry info describes a whole node, not ${object}: give ${target.slice(0, target.length - object.length - 1)}, or list ${object}'s methods with ferry ls`,
            );
          }
          return connect(target, securityFrom(flags));
        } catch (err) {
          reportFailure(err);
          return undefined;
        }
      })();
      if (!node) return;
      try {
        const info = await node.node.info({}, { timeoutMs: parseMs(flags.timeout, "--timeout") });
        if (flags.json) {
          printJson(messageToJson("ferry.v1.InfoResponse", info), false);
          return;
        }
        const lines = [
          `node      ${node.target}`,
          `host      ${info.hostname} (pid ${info.pid})`,
          `version   ferry ${info.version}, protocol ${info.protocol}, ${info.runtime}`,
          `cores     ${info.cores}`,
          `workers   ${info.workers} (${info.workersBusy} busy, ${info.tasksQueued} tasks queued)`,
          `in flight ${info.inFlight}`,
          `uptime    ${info.uptimeSeconds.toFixed(1)} s`,
          ...(info.lastLoopBlock
            ? [
                `loop      held ${Math.round(info.lastLoopBlock.milliseconds)} ms by ${info.lastLoopBlock.method}, ${info.lastLoopBlock.secondsAgo.toFixed(1)} s ago`,
              ]
            : []),
          "objects",
          ...info.objects.map((o) => `  ${o.name.padEnd(14)} ${o.methods.map((m) => m.name).join(", ")}`),
        ];
        process.stdout.write(`${lines.join("\n")}\n`);
      } catch (err) {
        reportFailure(err);
      } finally {
        node.close();
      }
    });
}

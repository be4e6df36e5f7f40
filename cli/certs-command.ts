import { hostname } from "node:os";
import type { Command } from "commander";
import { reportFailure, UsageError } from "./output.js";

interface CertsFlags {
  san?: string[];
  days: string;
  client: string;
  force?: boolean;
}

/** `ferry certs init <dir>` */
export function registerCerts(program: Command): void {
  const certs = program
    .command("certs")
    .description("make TLS certificates for nodes and clients (development PKI)");
  certs
    .command("init")
    .description("a CA, a node certificate and a client certificate in <dir>")
    .argument("<dir>", "where to write ca.pem, node.pem, client.pem and their -key.pem files")
    .option(
      "--san <name>",
      "name or address the node certificate is valid for; repeatable (default: localhost, 127.0.0.1, ::1, this host's name)",
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .option("--days <n>", "days the certificates are valid", "365")
    .option("--client <name>", "common name of the client certificate", "ferry-client")
    .option("--force", "replace certificates already in <dir>")
    .addHelpText(
      "after",
      `
Then:
  $ ferry node --host 0.0.0.0 --tls ./pki/node --client-ca ./pki/ca.pem
  $ ferry call --tls ./pki/client --ca ./pki/ca.pem node1:50051 Node.Info

Keys are written readable by their owner only. For production, use your own CA.`,
    )
    .action(async (dir: string, flags: CertsFlags) => {
      try {
        const days = Number(flags.days);
        if (!Number.isInteger(days) || days < 1 || days > 3650) {
          throw new RangeError(
            `--days must be a whole number from 1 to 3650, got ${JSON.stringify(flags.days)}`,
          );
        }
        const sans =
          flags.san !== undefined && flags.san.length > 0
            ? flags.san
            : ["localhost", "127.0.0.1", "::1", hostname()];
        for (const san of sans) {
          if (!/^[A-Za-z0-9.*:-]{1,253}$/.test(san))
            throw new UsageError(`--san ${JSON.stringify(san)} is not a host name or address`);
        }
        const { initPki } = await import("./pki.js");
        const files = await initPki(dir, { sans, days, force: flags.force === true, client: flags.client });
        process.stdout.write(`${files.join("\n")}\nnode certificate valid for: ${sans.join(", ")}\n`);
      } catch (err) {
        reportFailure(err);
      }
    });
}

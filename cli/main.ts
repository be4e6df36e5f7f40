import { Command } from "commander";
import { VERSION } from "../src/version.js";
import { registerCall } from "./call-command.js";
import { registerCerts } from "./certs-command.js";
import { registerCluster } from "./cluster-command.js";
import { registerFetch } from "./fetch-command.js";
import { registerInfo } from "./info-command.js";
import { registerLs } from "./ls-command.js";
import { registerMap } from "./map-command.js";
import { registerNode } from "./node-command.js";
import { registerNs } from "./ns-command.js";
import { registerPi } from "./pi-command.js";
import { registerPrimes } from "./primes-command.js";

// grpc-js names an IP target as the TLS server name, and Node warns (DEP0123)
// on every TLS connection to an address; the check against the certificate's
// IP SANs is unaffected. https://github.com/grpc/grpc-node/issues/1919
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  const code = typeof rest[0] === "object" ? (rest[0] as { code?: string }).code : rest[1];
  if (code === "DEP0123") return;
  (emitWarning as (...args: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;

const program = new Command("ferry")
  .description("remote objects on gRPC: run compute nodes, call their objects, map work across them")
  .version(VERSION)
  .showHelpAfterError(false)
  .configureOutput({ outputError: (text, write) => write(`ferry: ${text.replace(/^error: /, "")}`) });

registerNode(program);
registerCall(program);
registerInfo(program);
registerLs(program);
registerCluster(program);
registerPrimes(program);
registerPi(program);
registerFetch(program);
registerMap(program);
registerNs(program);
registerCerts(program);

await program.parseAsync(process.argv);

import { Command } from "commander";
import { VERSION } from "../src/version.js";
import { registerCall } from "./call-command.js";
import { registerCluster } from "./cluster-command.js";
import { registerFetch } from "./fetch-command.js";
import { registerInfo } from "./info-command.js";
import { registerLs } from "./ls-command.js";
import { registerMap } from "./map-command.js";
import { registerNode } from "./node-command.js";
import { registerNs } from "./ns-command.js";
import { registerPi } from "./pi-command.js";
import { registerPrimes } from "./primes-command.js";

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

await program.parseAsync(process.argv);

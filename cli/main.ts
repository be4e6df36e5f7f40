import { Command } from "commander";
import { VERSION } from "../src/version.js";
import { registerCall } from "./call-command.js";
import { registerInfo } from "./info-command.js";
import { registerLs } from "./ls-command.js";
import { registerNode } from "./node-command.js";

const program = new Command("ferry")
  .description("remote objects on gRPC: run compute nodes and call their objects")
  .version(VERSION)
  .showHelpAfterError(false)
  .configureOutput({ outputError: (text, write) => write(`ferry: ${text.replace(/^error: /, "")}`) });

registerNode(program);
registerCall(program);
registerInfo(program);
registerLs(program);

await program.parseAsync(process.argv);

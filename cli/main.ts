import { logVerbosity, setLogVerbosity } from "@grpc/grpc-js";
import { Command } from "commander";
import { VERSION } from "../src/version.js";
import { registerCall } from "./call-command.js";
import { registerCerts } from "./certs-command.js";
import { registerCluster } from "./cluster-command.js";
import { watchStdout } from "./command-signal.js";
import { registerDashboard } from "./dashboard-command.js";
import { registerFetch } from "./fetch-command.js";
import { registerInfo } from "./info-command.js";
import { registerLs } from "./ls-command.js";
import { registerMap } from "./map-command.js";
import { registerNode } from "./node-command.js";
import { registerNs } from "./ns-command.js";
import { EXIT_USAGE, setVerbose } from "./output.js";
import { registerPi } from "./pi-command.js";
import { registerPrimes } from "./primes-command.js";
import { registerTop } from "./top-command.js";

// grpc-js prints its own errors ("E No address added…") beside ferry's one line; it speaks
// only when asked (GRPC_VERBOSITY), and ferry's messages say what happened.
if (process.env.GRPC_VERBOSITY === undefined) setLogVerbosity(logVerbosity.NONE);
watchStdout();

const program = new Command("ferry")
  .description("remote objects on gRPC: run compute nodes, call their objects, map work across them")
  .version(VERSION)
  .option("--verbose", "on failure, also print the errors beneath ferry's message (grpc-js, OpenSSL)")
  .showHelpAfterError(false)
  .configureOutput({ outputError: (text, write) => write(`ferry: ${text.replace(/^error: /, "")}`) })
  // Wrong arguments exit 2, as usage errors do; --help and --version exit 0.
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE));

program.hook("preAction", (command) => setVerbose(command.optsWithGlobals().verbose === true));

registerNode(program);
registerCall(program);
registerInfo(program);
registerTop(program);
registerDashboard(program);
registerLs(program);
registerCluster(program);
registerPrimes(program);
registerPi(program);
registerFetch(program);
registerMap(program);
registerNs(program);
registerCerts(program);

await program.parseAsync(process.argv);

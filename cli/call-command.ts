import type { Command } from "commander";
import { connect } from "../client/connect.js";
import { connectByName } from "../client/naming.js";
import type { RemoteCall } from "../client/remote-call.js";
import { Code } from "../src/code.js";
import type { ServiceDefinition } from "../src/contract.js";
import { messageToJson } from "../src/message-json.js";
import { parseTags } from "../src/node-record.js";
import { ServerError } from "../src/server-error.js";
import { parseMs, plain, printJson, readStdin, reportFailure } from "./output.js";
import { resolveMethod } from "./resolve-method.js";
import { type SecurityFlags, securityFrom, securityOptions } from "./security-flags.js";

interface CallFlags extends SecurityFlags {
  timeout?: string;
  json?: boolean;
  where: string[];
}

/** `ferry call <target> <Service.Method> [json]` */
export function registerCall(program: Command): void {
  securityOptions(program.command("call"))
    .description("call a method of a node's object; print the JSON result")
    .argument(
      "<target>",
      "node address (host:port), ferry://host:port/object.method for an exposed object, or ferry+etcd://etcd-host:port/object.method to find it in the registry",
    )
    .argument("[method]", "Service.Method of a typed service, e.g. PrimeChecker.IsPrime")
    .argument("[request...]", 'typed services: the request as JSON ("-" reads stdin); objects: the arguments')
    .option("--timeout <ms>", "deadline of the call in milliseconds", "30000")
    .option("--json", "print one JSON object per line (for scripts)")
    .option(
      "--where <key=value>",
      "with ferry+etcd://: only nodes with this tag; repeatable",
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .addHelpText(
      "after",
      `
An exposed object's method takes its arguments one by one, each JSON or a
plain word (a string); integers past 2^53 stay exact.

Streaming methods print one response per line. Methods that take a stream
(PrimeChecker.CheckMany) take a JSON array or JSON lines, from stdin when no
request is given.

Examples:
  $ ferry call 127.0.0.1:50051 PrimeChecker.IsPrime '{"n":"9999999999999917"}'
  $ ferry call 127.0.0.1:50051 PrimeChecker.IsPrime '{"n":"9999999999999917","method":"MILLER_RABIN"}'
  $ ferry call 127.0.0.1:50051 PiEstimator.Estimate '{"samples":"100000000","seed":"42"}'
  $ ferry call 127.0.0.1:50051 Fetcher.Fetch '{"url":"http://127.0.0.1:8080/"}'
  $ echo '[{"n":7},{"n":9}]' | ferry call 127.0.0.1:50051 PrimeChecker.CheckMany
  $ ferry call ferry://127.0.0.1:50051/calc.add 2 3
  $ ferry call ferry://127.0.0.1:50051/PrimeChecker.isPrime '{"n":"97"}'
  $ ferry call ferry+etcd://127.0.0.1:2379/calc.add 2 3 --where zone=a`,
    )
    .action(async (target: string, methodName: string | undefined, rest: string[], flags: CallFlags) => {
      try {
        if (/^ferry(\+etcd)?:\/\/[^/]+\/./.test(target)) {
          await callObject(
            target,
            [methodName, ...rest].filter((a): a is string => a !== undefined),
            flags,
          );
          return;
        }
        if (methodName === undefined) {
          throw new ServerError(
            Code.INVALID_ARGUMENT,
            "name the method: Service.Method, or use ferry://host:port/object.method",
          );
        }
        if (rest.length > 1) {
          throw new ServerError(
            Code.INVALID_ARGUMENT,
            `a typed call takes one JSON request, got ${rest.length} arguments`,
          );
        }
        await call(target, methodName, rest[0], flags);
      } catch (err) {
        reportFailure(err);
      }
    });
}

async function call(target: string, methodName: string, requestText: string | undefined, flags: CallFlags) {
  const method = resolveMethod(methodName);
  const timeoutMs = parseMs(flags.timeout ?? "30000", "--timeout");
  const fromStdin = requestText === "-" || (requestText === undefined && method.definition.requestStream);
  const text = fromStdin ? await readStdin() : (requestText ?? "{}");
  const requests = parseRequests(text, method.definition.requestStream);
  const node = connect(target, securityFrom(flags));
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.once("SIGINT", stop);
  try {
    const definition = { [method.key]: method.definition } as ServiceDefinition;
    const stub = (node.service(definition) as Record<string, (...args: unknown[]) => unknown>)[
      method.key
    ] as (...args: unknown[]) => unknown;
    const options = { timeoutMs, signal: ac.signal };
    const input = method.definition.requestStream ? requests : requests[0];
    const result = stub(input, options);
    if (method.definition.responseStream) {
      for await (const message of result as AsyncIterable<unknown>) {
        printJson(messageToJson(method.responseType, message), true);
      }
    } else {
      printJson(messageToJson(method.responseType, await (result as Promise<unknown>)), flags.json === true);
    }
  } finally {
    process.off("SIGINT", stop);
    node.close();
  }
}

/**
 * `ferry call ferry://host:port/object.method args...` through the object
 * protocol; `ferry+etcd://…` finds a healthy node hosting the object first.
 */
async function callObject(uri: string, args: string[], flags: CallFlags): Promise<void> {
  const match = /^(ferry(?:\+etcd)?:\/\/[^/]+)\/(.+)\.([A-Za-z$][\w$]*)$/.exec(uri);
  if (!match) {
    throw new ServerError(
      Code.INVALID_ARGUMENT,
      `expected ferry://host:port/object.method or ferry+etcd://host:port/object.method, got ${JSON.stringify(uri)}`,
    );
  }
  const [, base = "", object = "", method = ""] = match;
  const timeoutMs = parseMs(flags.timeout ?? "30000", "--timeout");
  const where = flags.where.length > 0 ? parseTags(flags.where, "--where") : undefined;
  if (where && !base.startsWith("ferry+etcd:")) {
    throw new ServerError(
      Code.INVALID_ARGUMENT,
      "--where selects registered nodes: use a ferry+etcd:// target",
    );
  }
  const node = base.startsWith("ferry+etcd:")
    ? await connectByName(`${base}/${object}`, { ...securityFrom(flags), ...(where ? { where } : {}) })
    : connect(base, securityFrom(flags));
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.once("SIGINT", stop);
  try {
    const proxy = node.proxy<Record<string, (...a: unknown[]) => RemoteCall<unknown>>>(object, {
      timeoutMs,
      signal: ac.signal,
    });
    const result = await (proxy[method] as (...a: unknown[]) => RemoteCall<unknown>)(
      ...args.map(parseArgument),
    );
    printJson(plain(result), flags.json === true);
  } finally {
    process.off("SIGINT", stop);
    node.close();
  }
}

/** A command-line argument as a value: JSON when it parses (integers past 2^53 as bigint), else the word itself. */
export function parseArgument(text: string): unknown {
  if (/^-?\d+$/.test(text.trim())) {
    const n = BigInt(text.trim());
    return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
  }
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function parseRequests(text: string, stream: boolean): unknown[] {
  const trimmed = text.trim();
  if (trimmed === "") return stream ? [] : [{}];
  try {
    const value = JSON.parse(trimmed) as unknown;
    if (stream) return Array.isArray(value) ? value : [value];
    return [value];
  } catch (err) {
    if (stream) {
      // JSON lines: one request per line.
      return trimmed.split("\n").flatMap((line, i) => (line.trim() === "" ? [] : [parseLine(line, i + 1)]));
    }
    throw new ServerError(Code.INVALID_ARGUMENT, `request is not valid JSON: ${(err as Error).message}`);
  }
}

function parseLine(line: string, number: number): unknown {
  try {
    return JSON.parse(line);
  } catch (err) {
    throw new ServerError(
      Code.INVALID_ARGUMENT,
      `request line ${number} is not valid JSON: ${(err as Error).message}`,
    );
  }
}

import type { Command } from "commander";
import { connect, type NodeConnection } from "../client/connect.js";
import { connectByName } from "../client/naming.js";
import { DEFAULT_TIMEOUT_MS } from "../src/call-options.js";
import { loadContract, SERVICES, type ServiceDefinition } from "../src/contract.js";
import { looksLikeJson, parseJsonExact } from "../src/exact-json.js";
import { messageToJson } from "../src/message-json.js";
import { parseTags } from "../src/node-record.js";
import { commandSignal } from "./command-signal.js";
import { parseMs, plain, printJson, readStdin, reportFailure, UsageError } from "./output.js";
import { type ResolvedMethod, resolveMethod } from "./resolve-method.js";
import { type SecurityFlags, securityFrom, securityOptions } from "./security-flags.js";

/** `--timeout`'s default, in milliseconds: every ferry call's. */
const DEFAULT_CALL_TIMEOUT = String(DEFAULT_TIMEOUT_MS);

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
    .option("--timeout <ms>", "deadline of the call in milliseconds", DEFAULT_CALL_TIMEOUT)
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
        const uri = /^(ferry(?:\+etcd)?:\/\/[^/]+)\/(.*)$/.exec(target);
        if (uri) {
          const [, base = "", path = ""] = uri;
          const args = [methodName, ...rest].filter((a): a is string => a !== undefined);
          await callUri(base, path, args, flags);
          return;
        }
        if (methodName === undefined) {
          throw new UsageError("name the method: Service.Method, or use ferry://host:port/object.method");
        }
        if (rest.length > 1) {
          throw new UsageError(`a typed call takes one JSON request, got ${rest.length} arguments`);
        }
        await call(connect(target, securityFrom(flags)), resolveMethod(methodName), rest[0], flags);
      } catch (err) {
        reportFailure(err);
      }
    });
}

/** Calls a typed service method on `node` with the request given (or read from stdin), then closes it. */
async function call(
  node: NodeConnection,
  method: ResolvedMethod,
  requestText: string | undefined,
  flags: CallFlags,
): Promise<void> {
  try {
    const timeoutMs = parseMs(flags.timeout ?? DEFAULT_CALL_TIMEOUT, "--timeout");
    const fromStdin = requestText === "-" || (requestText === undefined && method.definition.requestStream);
    if (requestText === undefined && !fromStdin && subjectOf(method.requestType) !== undefined) {
      throw new UsageError(
        `${method.service}.${method.method} needs a request: ${example(method)} (fields: ${fieldsOf(method.requestType).join(", ")})`,
      );
    }
    const text = fromStdin ? await readStdin() : (requestText ?? "{}");
    const requests = parseRequests(text, method.definition.requestStream).map((r) => asRequest(method, r));
    const definition = { [method.key]: method.definition } as ServiceDefinition;
    const stub = (node.service(definition) as Record<string, (...args: unknown[]) => unknown>)[
      method.key
    ] as (...args: unknown[]) => unknown;
    const options = { timeoutMs, signal: commandSignal() };
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
    node.close();
  }
}

/**
 * `ferry call ferry://host:port/object.method args...`: an exposed object's
 * method through the object protocol, or a typed service's method
 * (`ferry://…/PrimeChecker.IsPrime '{"n":"97"}'`, the same as the host:port
 * form). `ferry+etcd://…` finds a healthy node hosting the object first.
 * Whatever the method's name, the node is asked: it alone says what it exposes.
 */
async function callUri(base: string, path: string, args: string[], flags: CallFlags): Promise<void> {
  const dot = path.lastIndexOf(".");
  if (dot <= 0 || dot === path.length - 1) {
    throw new UsageError(
      `expected ${base}/object.method (e.g. ${base}/calc.add), got ${JSON.stringify(`${base}/${path}`)}`,
    );
  }
  const object = path.slice(0, dot);
  const method = path.slice(dot + 1);
  const timeoutMs = parseMs(flags.timeout ?? DEFAULT_CALL_TIMEOUT, "--timeout");
  const where = flags.where.length > 0 ? parseTags(flags.where, "--where") : undefined;
  const byName = base.startsWith("ferry+etcd:");
  if (where && !byName) throw new UsageError("--where selects registered nodes: use a ferry+etcd:// target");
  const typed = typedService(object) ? resolveMethod(`${object}.${method}`) : undefined;
  if (typed && args.length > 1) {
    throw new UsageError(`a typed call takes one JSON request, got ${args.length} arguments`);
  }
  // Arguments are checked before any node is looked up.
  const values = typed ? [] : args.map((a, i) => parseArgument(a, `argument ${i + 1}`));
  const node = byName
    ? await connectByName(`${base}/${typed?.service ?? object}`, {
        ...securityFrom(flags),
        ...(where ? { where } : {}),
      })
    : connect(base, securityFrom(flags));
  if (typed) {
    await call(node, typed, args[0], flags);
    return;
  }
  try {
    const result = await node.call(object, method, values, { timeoutMs, signal: commandSignal() });
    printJson(plain(result), flags.json === true);
  } finally {
    node.close();
  }
}

/** The typed service named `name` (any letter case), if it is one. */
function typedService(name: string): boolean {
  return Object.keys(SERVICES).some((s) => s.toLowerCase() === name.toLowerCase());
}

/**
 * A command-line argument as a value: JSON when it is JSON (integers past
 * 2^53 exact, as bigints), a bare integer as a number (a bigint past 2^53),
 * other words as strings. Text that starts like JSON (`{`, `[`, `"`) but does
 * not parse is refused, not taken as a string.
 */
export function parseArgument(text: string, what = "argument"): unknown {
  if (/^-?\d+$/.test(text.trim())) {
    const n = BigInt(text.trim());
    return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
  }
  try {
    return parseJsonExact(text);
  } catch (err) {
    if (looksLikeJson(text)) {
      throw new UsageError(
        `${what} is not valid JSON: ${(err as Error).message} (got ${JSON.stringify(text)})`,
      );
    }
    return text;
  }
}

/** The request's subject: its first field, the one a bare value fills and a request must give. */
function subjectOf(requestType: string): string | undefined {
  return fieldsOf(requestType)[0];
}

function fieldsOf(requestType: string): string[] {
  return (loadContract()[requestType] as { type: { field: { name: string }[] } }).type.field.map(
    (f) => f.name,
  );
}

/** A request as given: an object as it is, a bare value as the subject field; the subject is required. */
export function asRequest(method: ResolvedMethod, value: unknown): unknown {
  const subject = subjectOf(method.requestType);
  if (subject === undefined) return value;
  const request =
    value !== null && typeof value === "object" && !Array.isArray(value) ? value : { [subject]: value };
  const snake = subject.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  if (!(subject in (request as object)) && !(snake in (request as object))) {
    throw new UsageError(
      `${method.service}.${method.method}: the request has no ${subject}; ${example(method)}`,
    );
  }
  return request;
}

function example(method: ResolvedMethod): string {
  const subject = subjectOf(method.requestType) ?? "";
  return `e.g. '{"${subject}": …}', or the ${subject} alone`;
}

function parseRequests(text: string, stream: boolean): unknown[] {
  const trimmed = text.trim();
  if (trimmed === "") return stream ? [] : [{}];
  if (!stream && !looksLikeJson(trimmed)) return [parseArgument(trimmed, "the request")];
  try {
    const value = parseJsonExact(trimmed);
    if (stream) return Array.isArray(value) ? value : [value];
    return [value];
  } catch (err) {
    if (stream) {
      // JSON lines: one request per line.
      return trimmed.split("\n").flatMap((line, i) => (line.trim() === "" ? [] : [parseLine(line, i + 1)]));
    }
    throw new UsageError(`request is not valid JSON: ${(err as Error).message}`);
  }
}

function parseLine(line: string, number: number): unknown {
  try {
    return parseJsonExact(line);
  } catch (err) {
    throw new UsageError(`request line ${number} is not valid JSON: ${(err as Error).message}`);
  }
}

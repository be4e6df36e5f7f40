import type { Client, ClientDuplexStream, ClientReadableStream, Metadata, ServiceError } from "@grpc/grpc-js";
import { type CallOptions, deadlineFrom } from "../src/call-options.js";
import { Code } from "../src/code.js";
import { loadContract, type MethodDefinition, messageFns, type ServiceDefinition } from "../src/contract.js";
import { normalizeMessage } from "../src/request-fields.js";
import { outgoingSpan, TRACEPARENT } from "../src/trace-context.js";
import { buildMetadata } from "./build-metadata.js";
import { toRemoteError } from "./remote-error.js";

/** A request as callers may write it: every field optional, 64-bit integers as bigint, number or string. */
export type RequestInput<Req> = {
  [K in keyof Req]?: Req[K] extends bigint ? bigint | number | string : Req[K];
};

/** Requests of a client-streaming call: any iterable, sync or async. */
export type RequestStream<Req> = Iterable<RequestInput<Req>> | AsyncIterable<RequestInput<Req>>;

type MethodStub<M> =
  M extends MethodDefinition<infer Req, infer Res>
    ? M extends { requestStream: true }
      ? M extends { responseStream: true }
        ? (requests: RequestStream<Req>, options?: CallOptions) => AsyncIterable<Res>
        : (requests: RequestStream<Req>, options?: CallOptions) => Promise<Res>
      : M extends { responseStream: true }
        ? (request: RequestInput<Req>, options?: CallOptions) => AsyncIterable<Res>
        : (request: RequestInput<Req>, options?: CallOptions) => Promise<Res>
    : never;

/**
 * A typed client of one gRPC service, from its generated definition: unary
 * methods return promises, streaming ones async iterables, and every method
 * takes `{ timeoutMs, signal }` last.
 */
export type ServiceClient<S> = { readonly [K in keyof S]: MethodStub<S[K]> };

/** How stubs reach the channel; shared by every service of one connection. */
export interface StubContext {
  client: Client;
  defaultTimeoutMs: number;
  metadata?: () => Metadata;
}

/** Builds the typed client of `definition` over a connection's channel. */
export function createServiceClient<S extends ServiceDefinition>(
  definition: S,
  ctx: StubContext,
): ServiceClient<S> {
  const stubs: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(definition)) {
    const prepare = requestPreparer(method.path);
    if (!method.requestStream && !method.responseStream) stubs[name] = unaryStub(method, prepare, ctx);
    else if (!method.requestStream) stubs[name] = serverStreamStub(method, prepare, ctx);
    else stubs[name] = clientStreamStub(method, prepare, ctx);
  }
  return Object.freeze(stubs) as ServiceClient<S>;
}

type Preparer = (input: unknown) => unknown;
type AnyMethod = MethodDefinition;

/** Validates a caller's request against the contract and fills defaults, failing with the field's name. */
function requestPreparer(path: string): Preparer {
  const [, service = "", methodName = ""] = path.split("/");
  const methods = loadContract()[service] as Record<string, { requestType: { type: { name: string } } }>;
  const requestType = `${service.slice(0, service.lastIndexOf("."))}.${methods[methodName]?.requestType.type.name}`;
  const fns = messageFns(requestType);
  return (input) => fns.fromPartial(normalizeMessage(requestType, input ?? {}));
}

function callOptions(options: CallOptions | undefined, ctx: StubContext) {
  return { deadline: deadlineFrom(options?.timeoutMs, ctx.defaultTimeoutMs) };
}

function unaryStub(method: AnyMethod, prepare: Preparer, ctx: StubContext) {
  return (input: unknown, options?: CallOptions): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const signal = options?.signal;
      let request: unknown;
      let opts: ReturnType<typeof callOptions>;
      try {
        if (signal?.aborted) throw signal.reason;
        request = prepare(input);
        opts = callOptions(options, ctx);
      } catch (err) {
        reject(toRemoteError(err, signal));
        return;
      }
      const onAbort = () => call.cancel();
      const metadata = ctx.metadata?.() ?? buildMetadata();
      const [, service = "", name = ""] = method.path.split("/");
      const span = outgoingSpan(service, name);
      if (span) metadata.set(TRACEPARENT, span.traceparent);
      const call = ctx.client.makeUnaryRequest(
        method.path,
        method.requestSerialize as (v: unknown) => Buffer,
        method.responseDeserialize,
        request,
        metadata,
        opts,
        (err: ServiceError | null, response?: unknown) => {
          signal?.removeEventListener("abort", onAbort);
          span?.end(err ? err.code : Code.OK, err?.details);
          if (err) reject(toRemoteError(err, signal));
          else resolve(response);
        },
      );
      signal?.addEventListener("abort", onAbort, { once: true });
    });
}

async function* readAll(
  call: ClientReadableStream<unknown> | ClientDuplexStream<unknown, unknown>,
  signal: AbortSignal | undefined,
): AsyncGenerator<unknown> {
  const onAbort = () => call.cancel();
  signal?.addEventListener("abort", onAbort, { once: true });
  let ended = false;
  try {
    for await (const message of call) yield message;
    ended = true;
  } catch (err) {
    ended = true;
    throw toRemoteError(err, signal);
  } finally {
    signal?.removeEventListener("abort", onAbort);
    // A caller that stops iterating early cancels the call on the node.
    if (!ended) call.cancel();
  }
}

function serverStreamStub(method: AnyMethod, prepare: Preparer, ctx: StubContext) {
  return (input: unknown, options?: CallOptions): AsyncIterable<unknown> => ({
    [Symbol.asyncIterator]() {
      const signal = options?.signal;
      try {
        if (signal?.aborted) throw signal.reason;
        const call = ctx.client.makeServerStreamRequest(
          method.path,
          method.requestSerialize as (v: unknown) => Buffer,
          method.responseDeserialize,
          prepare(input),
          ctx.metadata?.() ?? buildMetadata(),
          callOptions(options, ctx),
        );
        return readAll(call, signal);
      } catch (err) {
        return failing(toRemoteError(err, signal));
      }
    },
  });
}

function clientStreamStub(method: AnyMethod, prepare: Preparer, ctx: StubContext) {
  return (
    requests: RequestStream<unknown>,
    options?: CallOptions,
  ): AsyncIterable<unknown> | Promise<unknown> => {
    const signal = options?.signal;
    const open = () => {
      if (signal?.aborted) throw signal.reason;
      const call = ctx.client.makeBidiStreamRequest(
        method.path,
        method.requestSerialize as (v: unknown) => Buffer,
        method.responseDeserialize,
        ctx.metadata?.() ?? buildMetadata(),
        callOptions(options, ctx),
      );
      void writeAll(call, requests, prepare);
      return readAll(call, signal);
    };
    if (method.responseStream) {
      return {
        [Symbol.asyncIterator]() {
          try {
            return open();
          } catch (err) {
            return failing(toRemoteError(err, signal));
          }
        },
      };
    }
    return (async () => {
      let last: unknown;
      for await (const message of { [Symbol.asyncIterator]: open }) last = message;
      return last;
    })().catch((err: unknown) => {
      throw toRemoteError(err, signal);
    });
  };
}

/**
 * Sends a caller's requests, waiting for the stream to drain when the node
 * reads slower than the caller produces. A request that fails validation
 * cancels the call with the validation error.
 */
async function writeAll(
  call: ClientDuplexStream<unknown, unknown>,
  requests: RequestStream<unknown>,
  prepare: Preparer,
): Promise<void> {
  try {
    for await (const input of requests) {
      if (call.destroyed || call.writableEnded) return;
      if (!call.write(prepare(input))) {
        await new Promise<void>((resolve) => {
          const done = () => {
            call.off("drain", done);
            call.off("close", done);
            resolve();
          };
          call.once("drain", done);
          call.once("close", done);
        });
      }
    }
    call.end();
  } catch (err) {
    call.emit("error", toRemoteError(err));
    call.cancel();
  }
}

function failing(err: unknown): AsyncIterator<never> {
  return {
    next: () => Promise.reject(err),
  };
}

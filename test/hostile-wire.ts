/**
 * Tools for the hostile-input tests (test/integration/hostile-*.test.ts):
 * protobuf bytes built by hand, a grpc-js client that sends and receives raw
 * bytes, a bare HTTP/2 caller, and bounded waits.
 */
import http2 from "node:http2";
import {
  type Client,
  credentials,
  Metadata,
  makeGenericClientConstructor,
  type ServiceError,
  type StatusObject,
} from "@grpc/grpc-js";
import { codeName } from "../src/code.js";
import { type ServerMessage, SessionResponse } from "../src/gen/ferry/v1/objects.js";

// --- protobuf wire format, by hand -------------------------------------------

export const WIRE = { VARINT: 0, I64: 1, LEN: 2, SGROUP: 3, EGROUP: 4, I32: 5 } as const;

/** A base-128 varint (any non-negative size: a varint longer than 10 bytes is malformed on purpose). */
export function varint(value: number | bigint): Buffer {
  let v = BigInt(value);
  if (v < 0n) v += 1n << 64n;
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return Buffer.from(out);
}

export function tag(field: number, wire: number): Buffer {
  return varint(BigInt(field) * 8n + BigInt(wire));
}

/** A length-delimited field; `claimed` overrides the length written before the payload. */
export function lenField(field: number, payload: Uint8Array, claimed?: number | bigint): Buffer {
  return Buffer.concat([tag(field, WIRE.LEN), varint(claimed ?? payload.length), payload]);
}

export function strField(field: number, s: string): Buffer {
  return lenField(field, Buffer.from(s, "utf8"));
}

export function varintField(field: number, value: number | bigint): Buffer {
  return Buffer.concat([tag(field, WIRE.VARINT), varint(value)]);
}

export function doubleField(field: number, value: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(value, 0);
  return Buffer.concat([tag(field, WIRE.I64), b]);
}

// ferry.v1.Value, by hand (field numbers from proto/ferry/v1/value.proto).
export const V = {
  bool: (b: boolean) => varintField(2, b ? 1 : 0),
  double: (n: number) => doubleField(3, n),
  string: (s: string) => strField(6, s),
  list: (...values: Buffer[]) => lenField(8, Buffer.concat(values.map((v) => lenField(1, v)))),
  map: (entries: [string, Buffer][]) =>
    lenField(
      9,
      Buffer.concat(entries.map(([k, v]) => lenField(1, Buffer.concat([strField(1, k), lenField(2, v)])))),
    ),
};

/**
 * A Value nested `levels` deep as lists (`[[[…leaf…]]]`) or maps
 * (`{k:{k:{…leaf…}}}`), built in one pass so 10,000 levels cost no more than
 * their bytes.
 */
export function nestedValue(levels: number, kind: "list" | "map", leaf: Buffer = V.bool(true)): Buffer {
  const headers: Buffer[] = [];
  let size = leaf.length;
  for (let i = 0; i < levels; i++) {
    let header: Buffer;
    if (kind === "list") {
      // Value{ list_value(8): ListValue{ values(1): <inner Value> } }
      const listHeader = Buffer.concat([tag(1, WIRE.LEN), varint(size)]);
      const listSize = listHeader.length + size;
      header = Buffer.concat([tag(8, WIRE.LEN), varint(listSize), listHeader]);
    } else {
      // Value{ map_value(9): MapValue{ entries(1): MapEntry{ key(1): "k", value(2): <inner Value> } } }
      const entryHeader = Buffer.concat([strField(1, "k"), tag(2, WIRE.LEN), varint(size)]);
      const entrySize = entryHeader.length + size;
      const mapPrefix = Buffer.concat([tag(1, WIRE.LEN), varint(entrySize)]);
      const mapSize = mapPrefix.length + entrySize;
      header = Buffer.concat([tag(9, WIRE.LEN), varint(mapSize), mapPrefix, entryHeader]);
    }
    headers.push(header);
    size += header.length;
  }
  headers.reverse();
  return Buffer.concat([...headers, leaf]);
}

/** InvokeRequest{object, method, args} as bytes; `extra` is appended as is. */
export function invokeBytes(object: string, method: string, args: Buffer[], extra: Buffer[] = []): Buffer {
  return Buffer.concat([
    strField(1, object),
    strField(2, method),
    ...args.map((a) => lenField(3, a)),
    ...extra,
  ]);
}

/** ferry.v1.Call as bytes (id 1, object 2, method 4, args 5). */
export function callBytes(id: number, object: string, method: string, args: Buffer[]): Buffer {
  return Buffer.concat([
    varintField(1, id),
    strField(2, object),
    strField(4, method),
    ...args.map((a) => lenField(5, a)),
  ]);
}

/** SessionRequest{messages: ClientMessage{call}} as bytes, one ClientMessage per call. */
export function frameOfCalls(...calls: Buffer[]): Buffer {
  return Buffer.concat(calls.map((c) => lenField(1, lenField(1, c))));
}

// --- a grpc-js client of raw bytes ------------------------------------------

const identity = (b: Buffer): Buffer => b;
const bytesMethod = (path: string, stream: boolean) => ({
  path,
  requestStream: stream,
  responseStream: stream,
  requestSerialize: identity,
  requestDeserialize: identity,
  responseSerialize: identity,
  responseDeserialize: identity,
});

/** Objects.Invoke and Objects.Session with Buffers in and out: whatever bytes a test makes reach the node as they are. */
const RawObjectsConstructor = makeGenericClientConstructor(
  {
    invoke: bytesMethod("/ferry.v1.Objects/Invoke", false),
    session: bytesMethod("/ferry.v1.Objects/Session", true),
  },
  "ferry.v1.Objects",
);

export function rawObjectsClient(target: string): Client {
  return new RawObjectsConstructor(target, credentials.createInsecure());
}

export type RawOutcome = { ok: true; response: Buffer } | { ok: false; error: ServiceError };

/** One Invoke of raw request bytes, with a deadline. */
export function invokeRaw(client: Client, request: Buffer, timeoutMs: number): Promise<RawOutcome> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      "/ferry.v1.Objects/Invoke",
      identity,
      identity,
      request,
      new Metadata(),
      { deadline: Date.now() + timeoutMs },
      (error, response) => {
        if (error) resolve({ ok: false, error });
        else resolve({ ok: true, response: response as Buffer });
      },
    );
  });
}

/** An Invoke outcome in a line, for assertion messages. */
export function describeOutcome(outcome: RawOutcome): string {
  return outcome.ok
    ? `OK with ${outcome.response.length} bytes`
    : `${codeName(outcome.error.code)}: ${outcome.error.details}`;
}

/**
 * One Session stream: writes `frames` as raw bytes, half-closes, and resolves
 * with every response frame and the final status, within a deadline.
 */
export function sessionRaw(
  client: Client,
  frames: Buffer[],
  timeoutMs: number,
): Promise<{ status: StatusObject; responses: Buffer[] }> {
  return new Promise((resolve) => {
    const stream = client.makeBidiStreamRequest(
      "/ferry.v1.Objects/Session",
      identity,
      identity,
      new Metadata(),
      {
        deadline: Date.now() + timeoutMs,
      },
    );
    const responses: Buffer[] = [];
    stream.on("data", (b: Buffer) => responses.push(b));
    stream.on("error", () => {}); // the status below carries it
    stream.on("status", (status: StatusObject) => resolve({ status, responses }));
    for (const frame of frames) stream.write(frame);
    stream.end();
  });
}

/** Every ServerMessage of a Session's response frames, in order. */
export function sessionResults(responses: Buffer[]): ServerMessage[] {
  return responses.flatMap((b) => SessionResponse.decode(b).messages);
}

// --- bare HTTP/2 ---------------------------------------------------------------

/** What a bare HTTP/2 request got back. */
export interface H2Outcome {
  status: number | undefined;
  /** grpc-status from the response headers (trailers-only) or trailers. */
  grpcStatus: number | undefined;
  grpcMessage: string | undefined;
  /** Bytes of response body. */
  data: number;
  /** RST_STREAM code when the stream was reset (0 when it closed normally). */
  rstCode: number | undefined;
  /** Error of the stream or the session, if any. */
  error: string | undefined;
  /** Nothing ended the stream within the wait. */
  timedOut: boolean;
}

/** A gRPC-looking POST over its own HTTP/2 connection; gives up after `waitMs`. */
export function h2Request(
  origin: string,
  options: {
    headers?: http2.OutgoingHttpHeaders;
    body?: Buffer;
    /** Leave the request stream open after the body (default: end it). */
    keepOpen?: boolean;
    waitMs: number;
  },
): Promise<H2Outcome> {
  return new Promise((resolve) => {
    const session = http2.connect(origin);
    const out: H2Outcome = {
      status: undefined,
      grpcStatus: undefined,
      grpcMessage: undefined,
      data: 0,
      rstCode: undefined,
      error: undefined,
      timedOut: false,
    };
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      session.destroy();
      resolve(out);
    };
    const timer = setTimeout(() => {
      out.timedOut = true;
      finish();
    }, options.waitMs);
    session.on("error", (err) => {
      out.error ??= err.message;
      finish();
    });
    session.on("close", finish);
    const grpc = (headers: http2.IncomingHttpHeaders) => {
      const status = headers["grpc-status"];
      if (status !== undefined) {
        out.grpcStatus = Number(status);
        const message = headers["grpc-message"];
        out.grpcMessage = typeof message === "string" ? decodeURIComponent(message) : undefined;
      }
    };
    const req = session.request({
      ":method": "POST",
      ":path": "/ferry.v1.Objects/Invoke",
      "content-type": "application/grpc",
      te: "trailers",
      ...options.headers,
    });
    req.on("response", (headers) => {
      out.status = headers[":status"];
      grpc(headers);
      // A trailers-only answer ends the call, even while the request side is left open.
      if (out.grpcStatus !== undefined && options.keepOpen) finish();
    });
    req.on("trailers", (headers) => {
      grpc(headers);
      if (options.keepOpen) finish();
    });
    req.on("data", (chunk: Buffer) => {
      out.data += chunk.length;
    });
    req.on("error", (err) => {
      out.error ??= err.message;
    });
    req.on("close", () => {
      out.rstCode = req.rstCode;
      finish();
    });
    if (options.keepOpen) req.write(options.body ?? Buffer.alloc(0));
    else req.end(options.body ?? Buffer.alloc(0));
  });
}

/** The 5-byte gRPC message prefix (compressed flag, big-endian length) and the payload. */
export function grpcMessage(payload: Buffer, options: { flag?: number; length?: number } = {}): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt8(options.flag ?? 0, 0);
  header.writeUInt32BE(options.length ?? payload.length, 1);
  return Buffer.concat([header, payload]);
}

// --- bounded waits -------------------------------------------------------------

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `condition` until it holds; fails with `what` after `ms`. */
export async function waitFor(condition: () => boolean, ms: number, what: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`gave up after ${ms} ms waiting for ${what()}`);
    await sleep(10);
  }
}

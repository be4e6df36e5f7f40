import {
  type Context,
  context,
  isSpanContextValid,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import { Code, codeName } from "./code.js";
import { VERSION } from "./version.js";

// W3C trace context for every ferry call, both ways: the caller's span goes
// in the call's `traceparent` (a session frame's field, or the gRPC header of
// a unary call), and the side that runs the call starts its span under it.
// Spans are made only while an OpenTelemetry SDK is registered; without one
// a call costs one look at the global tracer provider.

/** The tracer provider the API answers with while no SDK is registered. */
const NOOP = new ProxyTracerProvider().getDelegate();

/** The gRPC header of unary calls, as W3C names it. */
export const TRACEPARENT = "traceparent";

/** This library's tracer, or undefined while no OpenTelemetry SDK is registered. */
function tracer(): Tracer | undefined {
  const provider = trace.getTracerProvider();
  if (provider instanceof ProxyTracerProvider && provider.getDelegate() === NOOP) return undefined;
  return provider.getTracer("ferry", VERSION);
}

/** `00-<trace id>-<span id>-<flags>` of a span context. */
export function formatTraceparent(span: SpanContext): string {
  return `00-${span.traceId}-${span.spanId}-${(span.traceFlags & 0xff).toString(16).padStart(2, "0")}`;
}

const TRACEPARENT_FORM = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/**
 * The span context a `traceparent` names, or undefined when it is not one
 * (W3C: version ff and all-zero ids are invalid; a later version's extra
 * fields are ignored, version 00 has none).
 */
export function parseTraceparent(text: string | undefined): SpanContext | undefined {
  if (!text) return undefined;
  const match = TRACEPARENT_FORM.exec(text.trim());
  if (!match) return undefined;
  const [, version, traceId, spanId, flags, rest] = match as unknown as string[];
  if (version === "ff" || (version === "00" && rest !== undefined)) return undefined;
  const span = {
    traceId: traceId as string,
    spanId: spanId as string,
    traceFlags: Number.parseInt(flags as string, 16),
    isRemote: true,
  };
  return isSpanContextValid(span) ? span : undefined;
}

/** One call's span, ended with the call's code. */
export interface CallSpan {
  /** What the call sends on: the span's own `traceparent`. */
  readonly traceparent: string;
  /** The context user code runs in, so its spans and calls nest under this one. */
  readonly context: Context;
  end(code: number, message?: string): void;
}

function callSpan(span: Span, parent: Context): CallSpan {
  return {
    traceparent: formatTraceparent(span.spanContext()),
    context: trace.setSpan(parent, span),
    end(code, message) {
      if (code !== Code.OK) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: message ?? codeName(code) });
      }
      span.setAttribute("rpc.grpc.status_code", code);
      span.end();
    },
  };
}

function attributes(object: string, method: string, entries: number | undefined) {
  return {
    "rpc.system": "ferry",
    "rpc.service": object,
    "rpc.method": method,
    ...(entries === undefined ? {} : { "ferry.batch.entries": entries }),
  };
}

/**
 * The span of a call this side sends (a client's call or batch, a node's
 * callback), under the active span; undefined while no SDK is registered.
 */
export function outgoingSpan(object: string, method: string, entries?: number): CallSpan | undefined {
  const t = tracer();
  if (!t) return undefined;
  const parent = context.active();
  const span = t.startSpan(
    `${object}/${method}`,
    { kind: SpanKind.CLIENT, attributes: attributes(object, method, entries) },
    parent,
  );
  return callSpan(span, parent);
}

/**
 * The span of a call this side runs, under the caller's `traceparent` (a
 * new trace without one); undefined while no SDK is registered.
 */
export function incomingSpan(
  traceparent: string | undefined,
  object: string,
  method: string,
  entries?: number,
): CallSpan | undefined {
  const t = tracer();
  if (!t) return undefined;
  const remote = parseTraceparent(traceparent);
  const parent = remote ? trace.setSpanContext(ROOT_CONTEXT, remote) : ROOT_CONTEXT;
  const span = t.startSpan(
    `${object}/${method}`,
    { kind: SpanKind.SERVER, attributes: attributes(object, method, entries) },
    parent,
  );
  return callSpan(span, parent);
}

/** Runs `fn` in `span`'s context, or as it is without a span. */
export function inSpan<T>(span: CallSpan | undefined, fn: () => T): T {
  return span ? context.with(span.context, fn) : fn();
}

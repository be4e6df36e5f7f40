import { codeName } from "../src/code.js";
import type { Log } from "../src/log.js";
import type { ObservedCall } from "./observer.js";

/**
 * One access-log line for a call that ended (`accessLog`, `--access-log`):
 * `calc.add OK 0.21 ms from 127.0.0.1:50412`, with the same as fields.
 */
export function logCall(log: Log, call: ObservedCall): void {
  const code = codeName(call.code);
  const ms = +(call.seconds * 1000).toPrecision(3);
  const entries = call.count > 1 ? ` (${call.count} batch entries)` : "";
  const from = call.peer ? ` from ${call.peer}` : "";
  log.info(`${call.object}.${call.method} ${code} ${ms} ms${entries}${from}`, {
    event: "call",
    object: call.object,
    method: call.method,
    code,
    ms,
    entries: call.count,
    peer: call.peer,
  });
}

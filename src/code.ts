import { status } from "@grpc/grpc-js";

/**
 * gRPC status codes, as every ferry error carries them. The numbers are the
 * wire values, so they match what Python, Go and grpcurl print.
 */
export const Code = status;
export type Code = status;

/** The canonical upper-case name of a code, e.g. `INVALID_ARGUMENT`. */
export function codeName(code: number): string {
  return status[code] ?? `CODE_${code}`;
}

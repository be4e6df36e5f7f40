import { ErrorDetail } from "./gen/ferry/v1/errors.js";
import { Status } from "./gen/google/rpc/status.js";

/** Metadata key of the standard gRPC rich error model (a serialized google.rpc.Status). */
export const STATUS_DETAILS_KEY = "grpc-status-details-bin";

const DETAIL_TYPE_URL = "type.googleapis.com/ferry.v1.ErrorDetail";

/** Serializes a google.rpc.Status carrying one ferry.v1.ErrorDetail. */
export function encodeStatusDetails(code: number, message: string, detail: ErrorDetail): Buffer {
  const status = Status.encode({
    code,
    message,
    details: [{ typeUrl: DETAIL_TYPE_URL, value: Buffer.from(ErrorDetail.encode(detail).finish()) }],
  });
  return Buffer.from(status.finish());
}

/** Reads the ferry.v1.ErrorDetail out of a grpc-status-details-bin value; undefined when absent or foreign. */
export function decodeStatusDetails(bytes: Uint8Array): ErrorDetail | undefined {
  try {
    const status = Status.decode(bytes);
    const any = status.details.find((d) => d.typeUrl === DETAIL_TYPE_URL);
    return any ? ErrorDetail.decode(any.value) : undefined;
  } catch {
    return undefined;
  }
}

import type { Metadata } from "@grpc/grpc-js";
import { BUILD_HEADERS, compatible, describeBuild, LOCAL_BUILD } from "../src/build-identity.js";
import { Code } from "../src/code.js";
import { ServerError } from "../src/server-error.js";

/**
 * Refuses a call from a ferry client built from another protocol or contract
 * (FAILED_PRECONDITION naming both builds), before its messages are read.
 * Calls without the headers (grpcurl, Python, other languages) pass: they
 * speak the published .proto files directly.
 */
export function checkClientBuild(metadata: Metadata): ServerError | undefined {
  const protocol = metadata.get(BUILD_HEADERS.protocol)[0];
  if (protocol === undefined) return undefined;
  const client = {
    version: String(metadata.get(BUILD_HEADERS.version)[0] ?? ""),
    protocol: Number(protocol),
    contract: String(metadata.get(BUILD_HEADERS.contract)[0] ?? ""),
  };
  if (compatible(LOCAL_BUILD, client)) return undefined;
  return new ServerError(
    Code.FAILED_PRECONDITION,
    `this node runs ${describeBuild(LOCAL_BUILD)} and the client ${describeBuild(client)}: use the same ferry version on both sides`,
  );
}

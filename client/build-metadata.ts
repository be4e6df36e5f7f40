import { Metadata } from "@grpc/grpc-js";
import { BUILD_HEADERS, LOCAL_BUILD } from "../src/build-identity.js";

const TEMPLATE = new Metadata();
TEMPLATE.set(BUILD_HEADERS.version, LOCAL_BUILD.version);
TEMPLATE.set(BUILD_HEADERS.protocol, String(LOCAL_BUILD.protocol));
TEMPLATE.set(BUILD_HEADERS.contract, LOCAL_BUILD.contract);

/** Fresh metadata for one call, naming this client's build so the node can check it. */
export function buildMetadata(): Metadata {
  return TEMPLATE.clone();
}

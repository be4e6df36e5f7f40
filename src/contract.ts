import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { loadSync, type PackageDefinition } from "@grpc/proto-loader";
import * as fetchPb from "./gen/ferry/v1/fetch.js";
import * as nodePb from "./gen/ferry/v1/node.js";
import * as objectsPb from "./gen/ferry/v1/objects.js";
import * as piPb from "./gen/ferry/v1/pi.js";
import * as primePb from "./gen/ferry/v1/prime.js";

/** One method of a generated service definition, as ts-proto emits it for grpc-js. */
// Method syntax on purpose: it lets a definition of any message types stand in
// for MethodDefinition<unknown, unknown>.
export interface MethodDefinition<Req = unknown, Res = unknown> {
  readonly path: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
  requestSerialize(value: Req): Buffer;
  requestDeserialize(bytes: Buffer): Req;
  responseSerialize(value: Res): Buffer;
  responseDeserialize(bytes: Buffer): Res;
}

/** A generated service definition: method name (lowerCamel) to method. */
export type ServiceDefinition = { readonly [method: string]: MethodDefinition };

/** Services every node serves, by the name users write (`PrimeChecker.IsPrime`). */
export const SERVICES = {
  PrimeChecker: primePb.PrimeCheckerService,
  PiEstimator: piPb.PiEstimatorService,
  Fetcher: fetchPb.FetcherService,
  Node: nodePb.NodeService,
  Objects: objectsPb.ObjectsService,
} as const;

export type ServiceName = keyof typeof SERVICES;

/** The proto package every ferry service lives in. */
export const PROTO_PACKAGE = "ferry.v1";

/** Proto files of the contract, relative to {@link PROTO_DIR}. */
export const PROTO_FILES = [
  "ferry/v1/prime.proto",
  "ferry/v1/pi.proto",
  "ferry/v1/fetch.proto",
  "ferry/v1/node.proto",
  "ferry/v1/errors.proto",
  "ferry/v1/value.proto",
  "ferry/v1/objects.proto",
];

/** The `proto/` folder shipped with the package (found from source or from dist/). */
export const PROTO_DIR: string = (() => {
  for (const rel of ["../proto", "../../proto"]) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(`${dir}/ferry/v1/prime.proto`)) return dir;
  }
  throw new Error("ferry: proto/ folder not found beside the package");
})();

let loaded: PackageDefinition | undefined;

/**
 * The contract as descriptors (loaded once): what reflection serves and what
 * request validation reads field types from.
 */
export function loadContract(): PackageDefinition {
  loaded ??= loadSync(PROTO_FILES, {
    includeDirs: [PROTO_DIR],
    longs: String,
    enums: String,
    defaults: true,
  });
  return loaded;
}

/** Encode/decode/JSON functions of a generated message. */
export interface MessageFns<T = unknown> {
  encode(message: T): { finish(): Uint8Array };
  decode(input: Uint8Array): T;
  fromJSON(object: unknown): T;
  toJSON(message: T): unknown;
  fromPartial(object: unknown): T;
}

const MESSAGES = new Map<string, MessageFns>();
for (const mod of [primePb, piPb, fetchPb, nodePb, objectsPb]) {
  for (const [name, value] of Object.entries(mod)) {
    if (value && typeof value === "object" && "fromJSON" in value && "encode" in value) {
      MESSAGES.set(`${PROTO_PACKAGE}.${name}`, value as MessageFns);
    }
  }
}

/** Generated functions of a message by full name (`ferry.v1.IsPrimeRequest`). */
export function messageFns(fullName: string): MessageFns {
  const fns = MESSAGES.get(fullName);
  if (!fns) throw new Error(`ferry: no generated code for message ${fullName}`);
  return fns;
}

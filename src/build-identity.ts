import { CONTRACT_HASH } from "./gen/contract-hash.js";
import { PROTOCOL_VERSION, VERSION } from "./version.js";

/** What a client and a node compare before they talk: the package, protocol and contract they were built from. */
export interface BuildIdentity {
  version: string;
  protocol: number;
  /** Hash of the compiled ferry.v1 contract (src/gen/contract-hash.ts). */
  contract: string;
}

/** This process's build. */
export const LOCAL_BUILD: BuildIdentity = {
  version: VERSION,
  protocol: PROTOCOL_VERSION,
  contract: CONTRACT_HASH,
};

/**
 * Metadata keys a ferry client sends on every call, so a node built from
 * another contract refuses it with FAILED_PRECONDITION instead of misreading
 * its messages. Clients that send none (grpcurl, Python) are not checked.
 */
export const BUILD_HEADERS = {
  version: "ferry-version",
  protocol: "ferry-protocol",
  contract: "ferry-contract",
} as const;

/** "ferry 0.1.0 (protocol 1, contract 6d84f7a3de275f8d)" */
export function describeBuild(build: BuildIdentity): string {
  return `ferry ${build.version || "?"} (protocol ${build.protocol}, contract ${build.contract || "?"})`;
}

/**
 * Whether two builds can talk: the same protocol and, where both name one,
 * the same contract. A contract left empty (an older node) is not compared.
 */
export function compatible(a: BuildIdentity, b: BuildIdentity): boolean {
  if (a.protocol !== b.protocol) return false;
  return a.contract === "" || b.contract === "" || a.contract === b.contract;
}

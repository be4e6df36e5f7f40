/**
 * ferry: remote objects for TypeScript on gRPC.
 *
 * Nodes host the compute objects (PrimeChecker, PiEstimator, Fetcher) and
 * any exposed object; connect() hands out typed clients and proxies of them,
 * and createPool() fans calls out across many nodes.
 */
export { type ClusterSnapshot, ClusterWatch, type NodeView } from "./client/cluster-watch.js";
export { type ConnectOptions, connect, NodeConnection } from "./client/connect.js";
export { type Dashboard, type DashboardOptions, serveDashboard } from "./client/dashboard-server.js";
export { DNS_REFRESH_MS } from "./client/dns-resolver.js";
export type { Completion, MapOptions } from "./client/map-options.js";
export type { MapNodeStats, MapStats } from "./client/map-tally.js";
export { connectByName, type LookupOptions, listNodes, lookup } from "./client/naming.js";
export { createPool, Pool, type PoolInput, type PoolOptions, type ReturnErrors } from "./client/pool.js";
export type { MemberState, NodeStats } from "./client/pool-member.js";
export type { PiOptions } from "./client/pool-split.js";
export { type ProxyOptions, type Remote, type RemoteReturn, withOptions } from "./client/proxy.js";
export { RemoteCall } from "./client/remote-call.js";
export { RemoteError } from "./client/remote-error.js";
export { type MethodRef, type RemoteMethods, type RemoteResult, remote } from "./client/remote-method.js";
export type { SecurityOptions } from "./client/security.js";
export type { RequestInput, RequestStream, ServiceClient } from "./client/service-client.js";
export { type CallContext, currentCall } from "./server/call-context.js";
export { createNode, FerryNode } from "./server/create-node.js";
export type { ExposeOptions, InstanceMode, Placement } from "./server/exposure.js";
export type { FetcherLimits } from "./server/fetcher.js";
export { loadObjects } from "./server/load-objects.js";
export {
  DEFAULT_FETCHER_LIMITS,
  DEFAULT_NODE_LIMITS,
  type NodeAddress,
  type NodeFetchOptions,
  type NodeLimits,
  type NodeOptions,
  type NodeRegistryOptions,
} from "./server/node-options.js";
export { byReference } from "./server/references.js";
export { DEFAULT_TTL_SECONDS, Registration } from "./server/registration.js";
export { DEFAULT_SESSION_LIMITS, type SessionLimits } from "./server/session-limits.js";
export { DEFAULT_TLS_RELOAD_MS, type NodeTlsOptions } from "./server/tls.js";
export { type BuildIdentity, LOCAL_BUILD } from "./src/build-identity.js";
export { type CallOptions, DEFAULT_TIMEOUT_MS } from "./src/call-options.js";
export { Code } from "./src/code.js";
export { FetcherService as Fetcher, FetchFailure } from "./src/gen/ferry/v1/fetch.js";
export { NodeService as Node } from "./src/gen/ferry/v1/node.js";
export { PiEstimatorService as PiEstimator } from "./src/gen/ferry/v1/pi.js";
export { PrimeCheckerService as PrimeChecker, PrimeMethod } from "./src/gen/ferry/v1/prime.js";
export type { NodeRecord } from "./src/node-record.js";
export { OptionError } from "./src/option-error.js";
export { ServerError } from "./src/server-error.js";
export { VALUE_LIMITS, type ValueLimits } from "./src/value-limits.js";
export { PROTOCOL_VERSION, VERSION } from "./src/version.js";

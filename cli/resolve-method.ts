import {
  loadContract,
  type MethodDefinition,
  PROTO_PACKAGE,
  SERVICES,
  type ServiceName,
} from "../src/contract.js";
import { UsageError } from "./output.js";

/** A method named on the command line, with what calling it needs. */
export interface ResolvedMethod {
  service: ServiceName;
  /** Method name as in the proto, e.g. "IsPrime". */
  method: string;
  /** Key of the method in the generated definition, e.g. "isPrime". */
  key: string;
  definition: MethodDefinition;
  requestType: string;
  responseType: string;
}

/**
 * Finds `Service.Method` (also `ferry.v1.Service/Method`, any letter case).
 * An unknown service or method is a usage error listing what exists.
 */
export function resolveMethod(name: string): ResolvedMethod {
  const match = /^(?:ferry\.v1\.)?([A-Za-z]\w*)[./]([A-Za-z]\w*)$/.exec(name.trim());
  if (!match) {
    throw new UsageError(
      `method must be written Service.Method (e.g. PrimeChecker.IsPrime), got ${JSON.stringify(name)}`,
    );
  }
  const [, serviceName = "", methodName = ""] = match;
  const service = (Object.keys(SERVICES) as ServiceName[]).find(
    (s) => s.toLowerCase() === serviceName.toLowerCase(),
  );
  if (!service) {
    throw new UsageError(`unknown service ${serviceName} (services: ${Object.keys(SERVICES).join(", ")})`);
  }
  const descriptors = loadContract()[`${PROTO_PACKAGE}.${service}`] as Record<
    string,
    { requestType: { type: { name: string } }; responseType: { type: { name: string } } }
  >;
  const method = Object.keys(descriptors).find((m) => m.toLowerCase() === methodName.toLowerCase());
  const key = method && Object.keys(SERVICES[service]).find((k) => k.toLowerCase() === method.toLowerCase());
  if (!method || !key) {
    throw new UsageError(
      `unknown method ${service}.${methodName} (methods: ${Object.keys(descriptors).join(", ")})`,
    );
  }
  const descriptor = descriptors[method] as (typeof descriptors)[string];
  return {
    service,
    method,
    key,
    definition: (SERVICES[service] as unknown as Record<string, MethodDefinition>)[key] as MethodDefinition,
    requestType: `${PROTO_PACKAGE}.${descriptor.requestType.type.name}`,
    responseType: `${PROTO_PACKAGE}.${descriptor.responseType.type.name}`,
  };
}

/**
 * grpc-js names an IP target as the TLS server name, and Node warns (DEP0123)
 * on every TLS connection to an address, in the caller's process; the check
 * against the certificate's IP SANs is unaffected. Only that warning is
 * dropped, once the first TLS channel is made.
 * https://github.com/grpc/grpc-node/issues/1919
 */
let installed = false;

export function quietIpServerNameWarning(): void {
  if (installed) return;
  installed = true;
  const emitWarning = process.emitWarning.bind(process);
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const code = typeof rest[0] === "object" ? (rest[0] as { code?: string } | null)?.code : rest[1];
    if (code === "DEP0123") return;
    (emitWarning as (...args: unknown[]) => void)(warning, ...rest);
  }) as typeof process.emitWarning;
}

import { Code } from "../src/code.js";

/**
 * A grpc-js or OpenSSL failure of the connection itself (not a node's answer)
 * in ferry's words, with what to do about it; undefined when it is not one
 * of those this knows. The original text stays in the error's `cause`.
 */
export function inFerryWords(code: Code, details: string): string | undefined {
  if (code === Code.DEADLINE_EXCEEDED) {
    const after = /^Deadline exceeded after ([\d.]+)s/.exec(details);
    if (after)
      return `the deadline of ${seconds(Number(after[1]))} passed before the node answered (raise --timeout / timeoutMs)`;
    return undefined;
  }
  if (code === Code.CANCELLED)
    return details === "Call cancelled" ? "the call was cancelled before the node answered" : undefined;
  if (code !== Code.UNAVAILABLE && code !== Code.INTERNAL && code !== Code.UNKNOWN) return undefined;
  const refused = /ECONNREFUSED (\S+?)\.?(?:\s|$)/.exec(details);
  if (refused) return `no node listening at ${refused[1]}`;
  const unresolved = /Name resolution failed for target (?:dns:)?(\S+)/.exec(details);
  if (unresolved) return `cannot resolve ${unresolved[1]}: no such host`;
  if (/alert certificate required/.test(details))
    return "the node wants a client certificate: pass --tls <prefix> (tls.cert and tls.key)";
  if (/alert (bad certificate|unknown ca)/.test(details))
    return "the node refused this client's certificate: it is not signed by the node's --client-ca";
  if (/wrong version number|packet length too long|unknown protocol/.test(details))
    return "the node does not speak TLS: drop --ca and --tls (tls) for it";
  if (/unable to verify|self[- ]signed certificate|unable to get (local )?issuer/.test(details))
    return "the node's certificate is not signed by a CA this client trusts: pass --ca <file> (tls.ca)";
  if (/Hostname\/IP does not match|does not match certificate|ERR_TLS_CERT_ALTNAME/.test(details))
    return "the node's certificate does not name the address dialed: make it with --san for that name";
  if (/certificate has expired|CERT_HAS_EXPIRED/.test(details))
    return "the node's certificate has expired: renew it (ferry certs init --force)";
  if (/Last error: Failed to connect/.test(details))
    return "the node closed the connection before it began: if it speaks TLS, pass --ca <file> (tls.ca)";
  if (/ECONNRESET|Connection dropped|Session closed|socket hang up/.test(details))
    return "the connection to the node was lost";
  if (/EHOSTUNREACH|ENETUNREACH/.test(details)) return "the node's address cannot be reached from here";
  if (/ETIMEDOUT/.test(details)) return "the node did not answer the connection in time";
  return undefined;
}

function seconds(s: number): string {
  if (s >= 10) return `${Math.round(s)} s`;
  return `${Number(s.toFixed(1))} s`;
}

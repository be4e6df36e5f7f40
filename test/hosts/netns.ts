// "Hosts" for the hosts tests: Linux network namespaces, each joined by a
// veth pair to a private bridge in a 10.x /24 that no interface here uses.
// Needs root; a system that refuses namespaces is reported, not thrown.

import { type ChildProcess, execFileSync } from "node:child_process";
import { randomBytes, randomInt } from "node:crypto";

/** One of the "hosts": a namespace and its veth pair on the bridge. */
export interface Host {
  ns: string;
  /** The veth end in the root namespace, on the bridge. */
  outer: string;
  /** The veth end inside the namespace. */
  inner: string;
  address: string;
  /** `address:port`. */
  target: string;
}

/** Namespaces on a bridge, and how to remove exactly what was made. */
export interface Network {
  bridge: string;
  /** The /24's first three octets; the bridge is `.1`, the hosts `.11` on. */
  subnet: string;
  hosts: Host[];
  /** Set when the system refused to make a namespace: tests skip with it. */
  refusedBecause?: string;
  /** Deletes what was made and checks nothing is left; returns what went wrong. */
  remove(): string[];
}

/** Why a hosts test cannot run on this system, or undefined when it can. */
export function skipReason(
  needs = "creating network namespaces, veth pairs and a bridge",
): string | undefined {
  if (process.platform !== "linux") return "network namespaces need Linux";
  if (process.getuid?.() !== 0) return `${needs} needs root`;
  return undefined;
}

/** Runs `ip` with these arguments; throws with its stderr when it fails. */
export function ip(...args: string[]): string {
  try {
    return execFileSync("ip", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (err) {
    const stderr = String((err as { stderr?: unknown }).stderr ?? "").trim();
    throw new Error(`ip ${args.join(" ")} failed: ${stderr || (err as Error).message}`, { cause: err });
  }
}

/** Whether the process is still running (or stopped), as opposed to exited. */
export function alive(child: ChildProcess | undefined): child is ChildProcess {
  return child !== undefined && child.exitCode === null && child.signalCode === null;
}

/** Whether an `ip` failure means the system refuses us namespaces or links (not root, no CAP_SYS_ADMIN/CAP_NET_ADMIN). */
function refused(err: unknown): boolean {
  return /Operation not permitted|Permission denied|EPERM|EACCES/i.test(String((err as Error).message));
}

/**
 * Makes one namespace per name (`<prefix><tag>-<name>`) on a new bridge in a
 * free `10.<octet>.x.0/24`, the hosts at `.11`, `.12`, … listening on `port`.
 * Interface names stay within Linux's 15 characters for a prefix of up to 3.
 */
export function makeNetwork(prefix: string, octet: number, names: string[], port: number): Network {
  const tag = randomBytes(2).toString("hex");
  const bridge = `${prefix}br${tag}`;
  const taken = ip("-o", "-4", "addr", "show");
  let x = randomInt(1, 251);
  for (let tries = 0; taken.includes(`10.${octet}.${x}.`) && tries < 250; tries++) x = (x % 250) + 1;
  const subnet = `10.${octet}.${x}`;
  const made = { bridge: false, namespaces: [] as string[], veths: [] as string[] };
  const hosts: Host[] = names.map((name, i) => {
    const address = `${subnet}.${11 + i}`;
    return {
      ns: `${prefix}${tag}-${name}`,
      outer: `${prefix}${tag}-h${name}`,
      inner: `${prefix}${tag}-n${name}`,
      address,
      target: `${address}:${port}`,
    };
  });
  const network: Network = { bridge, subnet, hosts, remove: () => remove(network, made) };
  try {
    ip("netns", "add", hosts[0]?.ns as string);
    made.namespaces.push(hosts[0]?.ns as string);
  } catch (err) {
    if (!refused(err)) throw err;
    network.refusedBecause = `the system refuses network namespaces: ${(err as Error).message}`;
    return network;
  }
  for (const host of hosts.slice(1)) {
    ip("netns", "add", host.ns);
    made.namespaces.push(host.ns);
  }
  ip("link", "add", bridge, "type", "bridge");
  made.bridge = true;
  ip("addr", "add", `${subnet}.1/24`, "dev", bridge);
  ip("link", "set", bridge, "up");
  for (const host of hosts) {
    ip("link", "add", host.outer, "type", "veth", "peer", "name", host.inner);
    made.veths.push(host.outer);
    ip("link", "set", host.inner, "netns", host.ns);
    ip("-n", host.ns, "link", "set", "lo", "up");
    ip("-n", host.ns, "addr", "add", `${host.address}/24`, "dev", host.inner);
    ip("-n", host.ns, "link", "set", host.inner, "up");
    ip("link", "set", host.outer, "master", bridge);
    ip("link", "set", host.outer, "up");
  }
  return network;
}

function remove(
  network: Network,
  made: { bridge: boolean; namespaces: string[]; veths: string[] },
): string[] {
  const problems: string[] = [];
  const attempt = (...args: string[]) => {
    try {
      ip(...args);
    } catch (err) {
      problems.push((err as Error).message);
    }
  };
  // The host-side veth end first: deleting it takes its peer in the namespace with it.
  for (const veth of made.veths) attempt("link", "del", veth);
  for (const ns of made.namespaces) attempt("netns", "del", ns);
  if (made.bridge) attempt("link", "del", network.bridge);
  // Nothing of ours is left behind.
  const namespaces = ip("netns", "list");
  const links = ip("-o", "link", "show");
  for (const ns of made.namespaces) {
    if (namespaces.split("\n").some((line) => line.split(" ")[0] === ns)) problems.push(`${ns} still exists`);
  }
  for (const name of [network.bridge, ...network.hosts.flatMap((h) => [h.outer, h.inner])]) {
    if (links.includes(`${name}:`) || links.includes(`${name}@`)) problems.push(`link ${name} still exists`);
  }
  return problems;
}

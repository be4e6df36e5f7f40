import {
  lookup as dnsLookup,
  type LookupAddress,
  type LookupAllOptions,
  type LookupOneOptions,
} from "node:dns";
import { BlockList, isIP } from "node:net";

/** Address ranges a node's Fetcher refuses by default, with what they are. */
const FORBIDDEN: [string, number, "ipv4" | "ipv6", string][] = [
  ["0.0.0.0", 8, "ipv4", "an unspecified address"],
  ["10.0.0.0", 8, "ipv4", "a private address"],
  ["100.64.0.0", 10, "ipv4", "a shared (carrier NAT) address"],
  ["127.0.0.0", 8, "ipv4", "a loopback address"],
  ["169.254.0.0", 16, "ipv4", "a link-local address (cloud metadata lives here)"],
  ["172.16.0.0", 12, "ipv4", "a private address"],
  ["192.0.0.0", 24, "ipv4", "a special-purpose address"],
  ["192.168.0.0", 16, "ipv4", "a private address"],
  ["198.18.0.0", 15, "ipv4", "a benchmarking address"],
  ["224.0.0.0", 4, "ipv4", "a multicast address"],
  ["240.0.0.0", 4, "ipv4", "a reserved address"],
  ["::", 128, "ipv6", "an unspecified address"],
  ["::1", 128, "ipv6", "a loopback address"],
  ["fc00::", 7, "ipv6", "a private (unique local) address"],
  ["fe80::", 10, "ipv6", "a link-local address"],
  ["ff00::", 8, "ipv6", "a multicast address"],
];

/** One list per forbidden range, made once. */
const RANGES = FORBIDDEN.map(([network, prefix, type, what]) => {
  const list = new BlockList();
  list.addSubnet(network, prefix, type);
  return { type, what, list };
});

/** The IPv4 address inside an IPv4-mapped IPv6 address, if it is one. */
function mappedIPv4(ip: string): string | undefined {
  const match = /^(?:0{0,4}:){0,4}:?(?:0{0,4}:)?ffff:(.+)$/i.exec(ip)?.[1];
  if (match === undefined) return undefined;
  if (isIP(match) === 4) return match;
  const hex = /^([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(match);
  if (!hex) return undefined;
  const high = Number.parseInt(hex[1] as string, 16);
  const low = Number.parseInt(hex[2] as string, 16);
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * Keeps a node's Fetcher off the node's own network (SSRF): loopback,
 * private, link-local (cloud metadata), shared, multicast and reserved
 * addresses are refused, whether a URL names them or a name resolves to
 * them, unless the node allows them (`--fetch-allow 127.0.0.1/32`). The
 * check happens at connect time, on the address actually dialed, so a name
 * that resolves differently on a second look cannot slip past it.
 */
export class AddressGuard {
  readonly #allowed = new BlockList();
  readonly #allowList: string[];

  /** `allow`: CIDR ranges (or single addresses) the Fetcher may reach even so. */
  constructor(allow: readonly string[] = []) {
    this.#allowList = [...allow];
    for (const entry of allow) {
      const [address = "", bits] = entry.trim().split("/");
      const family = isIP(address);
      const prefix = bits === undefined ? (family === 6 ? 128 : 32) : Number(bits);
      if (family === 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 6 ? 128 : 32)) {
        throw new TypeError(
          `fetch allow list: ${JSON.stringify(entry)} is not an address or CIDR range such as 127.0.0.1/32`,
        );
      }
      this.#allowed.addSubnet(address, prefix, family === 6 ? "ipv6" : "ipv4");
    }
  }

  /** Why `address` (an IP) may not be fetched; undefined when it may. */
  refusal(address: string): string | undefined {
    let ip = address.replace(/^\[|\]$/g, "");
    let family = isIP(ip);
    if (family === 0) return `${address} is not an IP address`;
    // IPv4 written as IPv6 (::ffff:127.0.0.1, or ::ffff:7f00:1 as URLs print it) is judged as IPv4.
    const mapped = family === 6 ? mappedIPv4(ip) : undefined;
    if (mapped) {
      ip = mapped;
      family = 4;
    }
    const type = family === 6 ? "ipv6" : "ipv4";
    if (this.#allowed.check(ip, type)) return undefined;
    for (const { type: rangeType, what, list } of RANGES) {
      if (rangeType === type && list.check(ip, type)) {
        const allow = family === 6 ? `${ip}/128` : `${ip}/32`;
        return `${ip} is ${what}; this node fetches public addresses only (--fetch-allow ${allow} permits it)`;
      }
    }
    return undefined;
  }

  /** A `lookup` for net.connect: resolves like dns.lookup, then refuses forbidden addresses. */
  readonly lookup = (
    hostname: string,
    options: LookupOneOptions | LookupAllOptions,
    callback: LookupCallback,
  ): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) {
        callback(err, []);
        return;
      }
      const list = addresses as LookupAddress[];
      for (const { address } of list) {
        const why = this.refusal(address);
        if (why) {
          const refused: NodeJS.ErrnoException = new Error(`${hostname} resolves to ${why}`);
          refused.code = "EFORBIDDEN";
          callback(refused, []);
          return;
        }
      }
      if ((options as LookupAllOptions).all) callback(null, list);
      else callback(null, list[0]?.address ?? "", list[0]?.family);
    });
  };

  /** The allow list, as given. */
  get allowed(): readonly string[] {
    return this.#allowList;
  }
}

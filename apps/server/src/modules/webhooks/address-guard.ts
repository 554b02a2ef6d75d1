import dns from 'node:dns';
import net from 'node:net';

/*
 * SSRF guard: a webhook URL is chosen by a workspace admin, but the request leaves from the Tandem
 * server, inside the operator's network. Only http(s) is allowed, and addresses that are not on the
 * public internet (loopback, private, link-local — including cloud metadata at 169.254.169.254 —
 * unique-local, CGNAT, multicast, unspecified) are refused, unless the operator allows them
 * (TANDEM_WEBHOOKS_ALLOW_PRIVATE=1, e.g. for receivers on the same host or in tests).
 * The check runs when the URL is saved (literal addresses and `localhost`) and again at every
 * delivery on the addresses DNS returns, and the connection goes to the address that was checked,
 * so a hostname that re-resolves to an internal address later (DNS rebinding) is still refused.
 */

function ipv4ToNumber(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

const IPV4_BLOCKED: [string, number][] = [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved and broadcast
];

function isBlockedIpv4(ip: string): boolean {
  const value = ipv4ToNumber(ip);
  return IPV4_BLOCKED.some(([base, bits]) => {
    const size = 2 ** (32 - bits);
    const start = ipv4ToNumber(base);
    return value >= start && value < start + size;
  });
}

/** Expands an IPv6 address to its eight 16-bit groups. */
function ipv6Groups(ip: string): number[] {
  let address = ip.split('%')[0]!.toLowerCase();
  const embedded = /(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (embedded) {
    const v4 = ipv4ToNumber(embedded[1]!);
    address = address.slice(0, -embedded[1]!.length) + `${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [head, tail] = address.split('::') as [string, string | undefined];
  const parse = (part: string) => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const missing = 8 - left.length - right.length;
  return [...left, ...new Array<number>(tail === undefined ? 0 : missing).fill(0), ...right];
}

/** The IPv4 address in two 16-bit groups. */
const ipv4Of = (high: number, low: number) => `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;

function isBlockedIpv6(ip: string): boolean {
  const g = ipv6Groups(ip);
  if (g.slice(0, 7).every((x) => x === 0) && (g[7] === 0 || g[7] === 1)) return true; // :: and ::1
  // Forms that carry an IPv4 address, which the network may route to it: judge the address inside.
  // IPv4-mapped ::ffff:a.b.c.d, its "translated" form ::ffff:0:a.b.c.d, the deprecated IPv4-compatible
  // ::a.b.c.d, NAT64 64:ff9b::a.b.c.d (and the local-use 64:ff9b:1::/48), 6to4 2002:AABB:CCDD::.
  if (g.slice(0, 5).every((x) => x === 0) && (g[5] === 0xffff || g[5] === 0)) return isBlockedIpv4(ipv4Of(g[6]!, g[7]!));
  if (g.slice(0, 4).every((x) => x === 0) && g[4] === 0xffff && g[5] === 0) return isBlockedIpv4(ipv4Of(g[6]!, g[7]!));
  if (g[0] === 0x64 && g[1] === 0xff9b) return g[2] === 1 || isBlockedIpv4(ipv4Of(g[6]!, g[7]!));
  if (g[0] === 0x2002) return isBlockedIpv4(ipv4Of(g[1]!, g[2]!));
  const first = g[0]!;
  if ((first & 0xfe00) === 0xfc00) return true; // fc00::/7 unique local
  if ((first & 0xffc0) === 0xfe80) return true; // fe80::/10 link-local
  if ((first & 0xffc0) === 0xfec0) return true; // fec0::/10 site-local (deprecated, still routed on some networks)
  if ((first & 0xff00) === 0xff00) return true; // multicast
  if (first === 0x2001 && g[1] === 0x0db8) return true; // documentation
  return false;
}

/** True when the address is not a public internet address. */
export function isPrivateAddress(ip: string): boolean {
  const family = net.isIP(ip);
  if (family === 4) return isBlockedIpv4(ip);
  if (family === 6) return isBlockedIpv6(ip);
  return true;
}

/** Why a webhook URL is refused when saved, or null when it is acceptable. */
export function urlRefusal(raw: string, allowPrivate: boolean): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'must be an absolute http(s) URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must use http or https';
  if (url.username || url.password) return 'must not contain credentials';
  if (allowPrivate) return null;
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.local') || host.endsWith('.internal')) return 'must not point to a private or loopback address';
  if (net.isIP(host) && isPrivateAddress(host)) return 'must not point to a private or loopback address';
  return null;
}

export class PrivateAddressError extends Error {}

type LookupAll = (hostname: string, options: { all: true }, callback: (err: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[]) => void) => void;

/**
 * A `lookup` for `http.request` that resolves the hostname, refuses it when any address is private,
 * and hands the request the address it checked.
 */
export function guardedLookup(allowPrivate: boolean, resolve: LookupAll = dns.lookup as unknown as LookupAll) {
  return (hostname: string, options: dns.LookupOptions, callback: (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void): void => {
    resolve(hostname, { all: true }, (err, addresses) => {
      if (err) return callback(err, '');
      const refused = allowPrivate ? undefined : addresses.find((a) => isPrivateAddress(a.address));
      if (refused) return callback(new PrivateAddressError(`${hostname} resolves to the private address ${refused.address}`), '');
      const usable = addresses.filter((a) => !options.family || a.family === options.family);
      const chosen = usable[0] ?? addresses[0];
      if (!chosen) return callback(new Error(`${hostname} has no address`), '');
      if (options.all) return callback(null, [chosen]);
      callback(null, chosen.address, chosen.family);
    });
  };
}

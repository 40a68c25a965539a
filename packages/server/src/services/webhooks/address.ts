// Where a webhook may be sent. A webhook URL is chosen by an organisation's admin but the
// request leaves from the Palisade server, inside the operator's network: without a check
// it could reach the cloud metadata service, the database or any internal admin page (SSRF).
// Public addresses are always allowed; private and loopback ones only when the operator
// says so (PALISADE_WEBHOOK_ALLOW_PRIVATE=1, for an internal chat server); link-local
// (metadata services), unspecified, multicast and reserved addresses never.
import { BlockList, isIP } from 'node:net';

export type AddressClass = 'public' | 'private' | 'forbidden';

const forbidden = new BlockList();
forbidden.addSubnet('0.0.0.0', 8, 'ipv4'); // "this network"; 0.0.0.0 reaches the local host
forbidden.addSubnet('169.254.0.0', 16, 'ipv4'); // link-local, cloud metadata (169.254.169.254)
forbidden.addSubnet('224.0.0.0', 4, 'ipv4'); // multicast
forbidden.addSubnet('240.0.0.0', 4, 'ipv4'); // reserved and broadcast
forbidden.addSubnet('192.0.0.0', 24, 'ipv4'); // IETF protocol assignments
forbidden.addAddress('::', 'ipv6');
forbidden.addSubnet('fe80::', 10, 'ipv6'); // link-local
forbidden.addSubnet('fec0::', 10, 'ipv6'); // old site-local
forbidden.addSubnet('ff00::', 8, 'ipv6'); // multicast
forbidden.addSubnet('100::', 64, 'ipv6'); // discard-only

const privateNets = new BlockList();
privateNets.addSubnet('10.0.0.0', 8, 'ipv4');
privateNets.addSubnet('172.16.0.0', 12, 'ipv4');
privateNets.addSubnet('192.168.0.0', 16, 'ipv4');
privateNets.addSubnet('127.0.0.0', 8, 'ipv4'); // loopback
privateNets.addSubnet('100.64.0.0', 10, 'ipv4'); // carrier-grade NAT
privateNets.addSubnet('198.18.0.0', 15, 'ipv4'); // benchmarking
privateNets.addAddress('::1', 'ipv6');
privateNets.addSubnet('fc00::', 7, 'ipv6'); // unique local

/** The IPv4 address inside an IPv4-mapped, IPv4-compatible or NAT64 IPv6 address, else null. */
function embeddedIpv4(v6: string): string | null {
  const groups = expandIpv6(v6);
  if (!groups) return null;
  const high = groups.slice(0, 6);
  const mapped = high.slice(0, 5).every((g) => g === 0) && (high[5] === 0xffff || high[5] === 0);
  const nat64 = groups[0] === 0x64 && groups[1] === 0xff9b && groups.slice(2, 6).every((g) => g === 0);
  if (!mapped && !nat64) return null;
  if (mapped && high[5] === 0 && groups[6] === 0) return null; // ::, ::1 and the like are IPv6 themselves
  const [a, b] = [groups[6]!, groups[7]!];
  return `${a >> 8}.${a & 255}.${b >> 8}.${b & 255}`;
}

/** Eight 16-bit groups of an IPv6 address (with or without a dotted IPv4 tail), or null. */
function expandIpv6(v6: string): number[] | null {
  let s = v6.toLowerCase();
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    s = `${s.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => Number.parseInt(g, 16)));
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const groups = [...head, ...Array<number>(Math.max(0, fill)).fill(0), ...tail];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : null;
}

export function classifyAddress(ip: string): AddressClass {
  const family = isIP(ip);
  if (family === 4) {
    if (forbidden.check(ip, 'ipv4')) return 'forbidden';
    return privateNets.check(ip, 'ipv4') ? 'private' : 'public';
  }
  if (family === 6) {
    const v4 = embeddedIpv4(ip);
    if (v4) return classifyAddress(v4);
    const plain = ip.split('%')[0]!;
    if (forbidden.check(plain, 'ipv6')) return 'forbidden';
    return privateNets.check(plain, 'ipv6') ? 'private' : 'public';
  }
  return 'forbidden'; // not an address at all
}

/** Why an address may not be a webhook destination, or null when it may. */
export function addressProblem(ip: string, allowPrivate: boolean): string | null {
  const cls = classifyAddress(ip);
  if (cls === 'forbidden') return `${ip} is a link-local, multicast or reserved address; webhooks are never sent there.`;
  if (cls === 'private' && !allowPrivate) return `${ip} is a private or loopback address; set PALISADE_WEBHOOK_ALLOW_PRIVATE=1 on the server to allow internal receivers.`;
  return null;
}

export function privateTargetsAllowed(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.PALISADE_WEBHOOK_ALLOW_PRIVATE === '1';
}

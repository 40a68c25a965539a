// SSRF guard for upstream URLs: the host is resolved and every address it resolves to must be
// public (not loopback, private, link-local, cloud metadata, CGNAT, multicast, unspecified),
// unless the upstream is explicitly allowed private addresses. Checked before every request
// and again on every redirect, which is followed by hand so each hop is checked; the
// connection goes to the addresses that were checked (the name is not resolved again), so a
// DNS answer that changes after the check (rebinding) cannot redirect it.
import { lookup } from 'node:dns/promises';
import type { LookupAddress } from 'node:dns';
import net from 'node:net';
import { Agent, fetch as undiciFetch, type Dispatcher, type RequestInit as UndiciRequestInit } from 'undici';

export class SsrfError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SsrfError';
  }
}

function ipv4Blocked(ip: string): string | undefined {
  const p = ip.split('.').map(Number);
  const [a, b] = [p[0]!, p[1]!];
  if (a === 0) return 'an unspecified address';
  if (a === 127) return 'a loopback address';
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return 'a private address';
  if (a === 169 && b === 254) return 'a link-local address (cloud metadata lives here)';
  if (a === 100 && b >= 64 && b <= 127) return 'a carrier-grade NAT address';
  if (a === 192 && b === 0 && p[2] === 0) return 'an IETF protocol address';
  if (a === 198 && (b === 18 || b === 19)) return 'a benchmarking address';
  if (a >= 224) return 'a multicast or reserved address';
  return undefined;
}

function expandIpv6(ip: string): number[] | undefined {
  let s = ip.toLowerCase().split('%')[0]!;
  // trailing dotted IPv4 (::ffff:1.2.3.4)
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const q = v4[1]!.split('.').map(Number);
    s = s.slice(0, -v4[1]!.length) + `${((q[0]! << 8) | q[1]!).toString(16)}:${((q[2]! << 8) | q[3]!).toString(16)}`;
  }
  const [head, tail] = s.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const fill = tail !== undefined ? 8 - h.length - t.length : 0;
  const parts = [...h, ...Array<string>(Math.max(0, fill)).fill('0'), ...t].map((x) => parseInt(x, 16));
  return parts.length === 8 && parts.every((n) => Number.isInteger(n) && n >= 0 && n <= 0xffff) ? parts : undefined;
}

/** Why an address may not be reached, or undefined when it is public. */
export function blockedAddressReason(ip: string): string | undefined {
  if (net.isIPv4(ip)) return ipv4Blocked(ip);
  if (!net.isIPv6(ip)) return 'not an IP address';
  const w = expandIpv6(ip);
  if (!w) return 'an unparseable IPv6 address';
  if (w.every((x) => x === 0)) return 'an unspecified address';
  if (w.slice(0, 7).every((x) => x === 0) && w[7] === 1) return 'a loopback address';
  // IPv4-mapped / -compatible / NAT64 forms carry an IPv4 address: judge that
  const embedded = `${w[6]! >> 8}.${w[6]! & 255}.${w[7]! >> 8}.${w[7]! & 255}`;
  if (w.slice(0, 5).every((x) => x === 0) && (w[5] === 0xffff || w[5] === 0)) return ipv4Blocked(embedded) ?? undefined;
  if (w[0] === 0x64 && w[1] === 0xff9b) return ipv4Blocked(embedded);
  if ((w[0]! & 0xfe00) === 0xfc00) return 'a private (unique local) address';
  if ((w[0]! & 0xffc0) === 0xfe80) return 'a link-local address';
  if ((w[0]! & 0xff00) === 0xff00) return 'a multicast address';
  if (w[0] === 0x2001 && w[1] === 0xdb8) return 'a documentation address';
  return undefined;
}

export type Resolver = (host: string) => Promise<string[]>;
const defaultResolver: Resolver = async (host) => (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

/** Why an address may not be reached (undefined: it may). The default is blockedAddressReason. */
export type AddressPolicy = (ip: string) => string | undefined;

/**
 * Resolve `url`'s host once and return the addresses it resolved to, after checking every one;
 * throws SsrfError unless each may be reached. The caller must connect to these addresses
 * (not resolve the name again), or a DNS answer that changes between the check and the
 * connection (DNS rebinding) would reach an address that was never checked.
 */
export async function resolveChecked(url: URL, allowPrivate: boolean, resolve: Resolver = defaultResolver, policy: AddressPolicy = blockedAddressReason): Promise<string[]> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new SsrfError(`Refused ${url.protocol} URL: upstreams are reached over http or https only.`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  if (net.isIP(host)) addresses = [host];
  else {
    try {
      addresses = await resolve(host);
    } catch (err) {
      throw new SsrfError(`Cannot resolve ${host} (${(err as NodeJS.ErrnoException).code ?? 'error'}).`);
    }
  }
  addresses = addresses.filter((a) => net.isIP(a));
  if (addresses.length === 0) throw new SsrfError(`${host} resolves to no address.`);
  if (allowPrivate) return addresses;
  for (const a of addresses) {
    const why = policy(a);
    if (why)
      throw new SsrfError(
        `Refused ${url.host}: it resolves to ${a}, ${why}. If this upstream really is on your network, set allowPrivateAddress: true for it in the gateway config.`,
      );
  }
  return addresses;
}

/** Throws SsrfError unless every address `url`'s host resolves to may be reached. */
export async function checkUrl(url: URL, allowPrivate: boolean, resolve: Resolver = defaultResolver, policy: AddressPolicy = blockedAddressReason): Promise<void> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new SsrfError(`Refused ${url.protocol} URL: upstreams are reached over http or https only.`);
  if (allowPrivate) return;
  await resolveChecked(url, allowPrivate, resolve, policy);
}

const MAX_REDIRECTS = 5;
/** headers never carried to another origin on a redirect */
export const CREDENTIAL_HEADERS = ['authorization', 'cookie'] as const;

/**
 * The next hop of a redirect from `from` to `location` (the `hop`-th followed so far): its URL
 * and whether it leaves the origin, where the caller drops CREDENTIAL_HEADERS. Throws SsrfError
 * past MAX_REDIRECTS. The caller checks and pins the new URL's addresses before connecting.
 */
export function redirectHop(from: URL, location: string, hop: number): { url: URL; crossOrigin: boolean } {
  if (hop >= MAX_REDIRECTS) throw new SsrfError(`Too many redirects from ${from.host}.`);
  const url = new URL(location, from);
  return { url, crossOrigin: url.origin !== from.origin };
}
const MAX_PINNED_HOSTS = 64;

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * An undici Agent whose connections go only to addresses pinned for their host name: the
 * socket's DNS lookup is answered from the pins (set just after the check), never from DNS.
 * TLS SNI and the Host header keep the name (undici takes them from the URL, not the lookup).
 * A host without a pin cannot be connected to at all.
 */
class PinnedAgent {
  private readonly pins = new Map<string, string[]>();
  readonly agent: Agent;

  constructor() {
    this.agent = new Agent({
      connect: {
        lookup: (hostname: string, options: { all?: boolean; family?: number | string }, cb: LookupCallback) => {
          const pinned = this.pins.get(hostname.replace(/^\[|\]$/g, '').toLowerCase());
          if (!pinned || pinned.length === 0) {
            const err: NodeJS.ErrnoException = new SsrfError(`Refused to connect to ${hostname}: its addresses were not checked.`);
            err.code = 'ENOTFOUND';
            cb(err, '');
            return;
          }
          const all = pinned.map((address) => ({ address, family: net.isIPv6(address) ? 6 : 4 }));
          if (options?.all) cb(null, all);
          else cb(null, all[0]!.address, all[0]!.family);
        },
      },
    });
  }

  pin(host: string, addresses: string[]): void {
    const key = host.replace(/^\[|\]$/g, '').toLowerCase();
    this.pins.delete(key);
    if (this.pins.size >= MAX_PINNED_HOSTS) this.pins.delete(this.pins.keys().next().value!);
    this.pins.set(key, addresses);
  }
}

export interface GuardOptions {
  /** DNS resolver (tests answer differently on each call to play a rebinding attacker) */
  resolve?: Resolver;
  /** which addresses are refused (tests may allow a loopback address to stand for a public one) */
  policy?: AddressPolicy;
  /** test seam: a fetch to send the checked request with instead of the pinned one */
  base?: typeof fetch;
}

/** What guardedFetch returns: the fetch, its pool's close, and the pool itself for the lean HTTP path. */
export type GuardedFetch = typeof fetch & {
  close: () => Promise<void>;
  /**
   * Checks `url` as the fetch does before each request (resolve, check, pin) and returns the
   * dispatcher whose connections go only to the pinned addresses; undefined with the test seam
   * `base`, which has no pool. Redirects are the caller's to check (each hop through this again).
   */
  checked?: (url: URL) => Promise<Dispatcher>;
};

/**
 * A fetch that resolves the target once, checks every address, and connects only to the
 * checked addresses (pinned in the connection's lookup); each redirect hop is checked and
 * pinned the same way before it is followed.
 */
export function guardedFetch(allowPrivate: boolean, opts: GuardOptions = {}): GuardedFetch {
  const resolve = opts.resolve ?? defaultResolver;
  const pinned = opts.base ? undefined : new PinnedAgent();
  const send = async (url: URL, init: RequestInit): Promise<Response> => {
    if (opts.base) return opts.base(url, init);
    // The MCP SDK gives every request of a connection the same abort signal. undici hangs one
    // listener per request on it and lets go only when the request is garbage-collected, and
    // each new listener is checked against all the others: thousands of calls in flight or
    // awaiting collection made every request slower than the last. A signal of its own per
    // request, following the connection's (AbortSignal.any holds it weakly, no listener), keeps
    // aborting on close the same.
    const signal = init.signal ? AbortSignal.any([init.signal]) : undefined;
    return (await undiciFetch(url, { ...(init as UndiciRequestInit), signal, dispatcher: pinned!.agent })) as unknown as Response;
  };
  /** resolve `url`'s host, check every address, pin them for the pool's connections */
  const check = async (url: URL): Promise<void> => {
    const addresses = await resolveChecked(url, allowPrivate, resolve, opts.policy);
    pinned?.pin(url.hostname, addresses);
  };
  const fn = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    let url = new URL(input instanceof Request ? input.url : String(input));
    let reqInit: RequestInit = { ...init, redirect: 'manual' };
    for (let hop = 0; ; hop++) {
      await check(url);
      const res = await send(url, reqInit);
      const location = res.status >= 300 && res.status < 400 ? res.headers.get('location') : null;
      if (!location) return res;
      const next = redirectHop(url, location, hop);
      await res.body?.cancel().catch(() => undefined);
      if (next.crossOrigin) {
        const headers = new Headers(reqInit.headers);
        for (const h of CREDENTIAL_HEADERS) headers.delete(h);
        reqInit = { ...reqInit, headers };
      }
      if (res.status === 303 || ((res.status === 301 || res.status === 302) && reqInit.method === 'POST'))
        reqInit = { ...reqInit, method: 'GET', body: undefined };
      url = next.url;
    }
  };
  const checked = pinned
    ? async (url: URL): Promise<Dispatcher> => {
        await check(url);
        return pinned.agent;
      }
    : undefined;
  return Object.assign(fn as typeof fetch, { close: async () => pinned?.agent.destroy().catch(() => undefined), checked });
}

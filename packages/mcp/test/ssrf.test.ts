import { EventEmitter } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockedAddressReason, checkUrl, guardedFetch, SsrfError, type AddressPolicy } from '../src/index.js';

describe('SSRF guard', () => {
  it.each([
    ['127.0.0.1', /loopback/],
    ['127.5.6.7', /loopback/],
    ['10.1.2.3', /private/],
    ['172.16.0.1', /private/],
    ['192.168.1.1', /private/],
    ['169.254.169.254', /link-local/],
    ['100.64.0.1', /carrier-grade/],
    ['0.0.0.0', /unspecified/],
    ['224.0.0.1', /multicast/],
    ['::1', /loopback/],
    ['::', /unspecified/],
    ['::ffff:127.0.0.1', /loopback/],
    ['::ffff:7f00:1', /loopback/],
    ['::ffff:a9fe:a9fe', /link-local/],
    ['64:ff9b::a9fe:a9fe', /link-local/],
    ['fd00::1', /unique local/],
    ['fe80::1', /link-local/],
    ['ff02::1', /multicast/],
  ])('refuses %s', (ip, why) => {
    expect(blockedAddressReason(ip)).toMatch(why);
  });

  it.each(['93.184.216.34', '8.8.8.8', '2606:4700::1111', '172.32.0.1', '100.128.0.1'])('allows public %s', (ip) => {
    expect(blockedAddressReason(ip)).toBeUndefined();
  });

  it('judges numeric host spellings as the address they are (WHATWG URL normalises them)', async () => {
    for (const u of ['http://2130706433/', 'http://0x7f.1/', 'http://0177.0.0.1/', 'http://[::ffff:127.0.0.1]/', 'http://127.1/']) {
      await expect(checkUrl(new URL(u), false), u).rejects.toThrow(SsrfError);
    }
  });

  it('checks what a name resolves to (a public-looking name pointing at metadata is refused)', async () => {
    const resolver = async (host: string) => (host === 'metadata.attacker.test' ? ['169.254.169.254'] : ['93.184.216.34']);
    await expect(checkUrl(new URL('http://metadata.attacker.test/mcp'), false, resolver)).rejects.toThrow(/169\.254\.169\.254/);
    await expect(checkUrl(new URL('https://ok.test/mcp'), false, resolver)).resolves.toBeUndefined();
    // one private address among several is enough to refuse
    await expect(checkUrl(new URL('http://mixed.test/'), false, async () => ['93.184.216.34', '10.0.0.1'])).rejects.toThrow(/10\.0\.0\.1/);
  });

  it('allows private addresses only when told to', async () => {
    await expect(checkUrl(new URL('http://127.0.0.1:1/'), true)).resolves.toBeUndefined();
    await expect(checkUrl(new URL('file:///etc/passwd'), true)).rejects.toThrow(/http or https/);
  });

  it('checks every redirect hop: a redirect to a private address is refused', async () => {
    // a real loopback server that redirects to the metadata address
    const server = createServer((req, res) => {
      res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    // the first hop's name resolves (for the test) to a public address but reaches the loopback server
    const resolver = async () => ['93.184.216.34'];
    const toLoopback: typeof fetch = (input, init) => fetch(String(input).replace('http://public.test', `http://127.0.0.1:${port}`), init);
    try {
      await expect(guardedFetch(false, { resolve: resolver, base: toLoopback })('http://public.test/mcp')).rejects.toThrow(/169\.254\.169\.254.*link-local/);
    } finally {
      server.close();
    }
  });

  describe('DNS rebinding: the connection goes to the checked address', () => {
    // On loopback, 127.0.0.1 plays a public server and 127.0.0.2 the internal target an
    // attacker wants to reach: the policy refuses 127.0.0.2 only. The hostile resolver answers
    // 127.0.0.1 to the first question and 127.0.0.2 to every later one, as a rebinding DNS
    // server with TTL 0 does; a guard that checks and then lets the connection resolve again
    // would be sent to 127.0.0.2.
    const policy: AddressPolicy = (ip) => (ip === '127.0.0.1' ? undefined : blockedAddressReason(ip));
    let good: Server;
    let internal: Server;
    let port: number;
    const hits = { good: [] as string[], internal: 0 };

    async function listen(server: Server, host: string, p: number): Promise<number> {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(p, host, () => resolve());
      });
      return (server.address() as AddressInfo).port;
    }

    beforeAll(async () => {
      good = createServer((req, res) => {
        hits.good.push(String(req.headers.host));
        if (req.url === '/hop') res.writeHead(302, { location: `http://rebind-2.test:${port}/final` }).end();
        else if (req.url === '/slow') setTimeout(() => res.end('late'), 2000).unref();
        else res.end('good');
      });
      internal = createServer((_req, res) => {
        hits.internal++;
        res.end('internal');
      });
      port = await listen(good, '127.0.0.1', 0);
      await listen(internal, '127.0.0.2', port);
    });
    afterAll(() => {
      good?.close();
      internal?.close();
    });

    function rebinder() {
      const asked: string[] = [];
      const resolve = async (host: string) => {
        asked.push(host);
        return asked.filter((h) => h === host).length === 1 ? ['127.0.0.1'] : ['127.0.0.2'];
      };
      return { asked, resolve };
    }

    it('asks DNS once per request and connects to the answer it checked, with the name as Host', async () => {
      // the hostile resolver proves the connection does not resolve the name itself
      const { asked, resolve } = rebinder();
      const f = guardedFetch(false, { resolve, policy });
      try {
        const before = hits.internal;
        const res = await f(`http://rebind.test:${port}/`);
        expect(await res.text()).toBe('good');
        expect(asked).toEqual(['rebind.test']);
        expect(hits.good.at(-1)).toBe(`rebind.test:${port}`);
        expect(hits.internal).toBe(before);
        // the next request asks again, gets the internal address, and is refused before connecting
        await expect(f(`http://rebind.test:${port}/`)).rejects.toThrow(/127\.0\.0\.2/);
        expect(hits.internal).toBe(before);
      } finally {
        await f.close();
      }
    });

    it('pins every redirect hop to its own checked answer', async () => {
      const { asked, resolve } = rebinder();
      const f = guardedFetch(false, { resolve, policy });
      try {
        const before = hits.internal;
        const res = await f(`http://rebind-1.test:${port}/hop`);
        expect(await res.text()).toBe('good');
        expect(asked).toEqual(['rebind-1.test', 'rebind-2.test']);
        expect(hits.good.slice(-2)).toEqual([`rebind-1.test:${port}`, `rebind-2.test:${port}`]);
        expect(hits.internal).toBe(before);
      } finally {
        await f.close();
      }
    });

    it('refuses a name that resolves to several addresses when one of them is refused, before connecting', async () => {
      const before = hits.internal;
      const f = guardedFetch(false, { resolve: async () => ['127.0.0.1', '127.0.0.2'], policy });
      try {
        await expect(f(`http://both.test:${port}/`)).rejects.toThrow(SsrfError);
        expect(hits.internal).toBe(before);
      } finally {
        await f.close();
      }
    });

    it('with allowPrivateAddress the resolved answer is still the one connected to', async () => {
      const { asked, resolve } = rebinder();
      const f = guardedFetch(true, { resolve });
      try {
        const res = await f(`http://private-ok.test:${port}/`);
        expect(await res.text()).toBe('good');
        expect(asked).toEqual(['private-ok.test']);
      } finally {
        await f.close();
      }
    });
    it("leaves the caller's shared abort signal without a listener per request, and still aborts on it", async () => {
      const f = guardedFetch(true);
      const connection = new AbortController();
      let warned = 0;
      const onWarning = (w: Error) => {
        if (w.name === 'MaxListenersExceededWarning') warned++;
      };
      process.on('warning', onWarning);
      try {
        // the MCP SDK sends every request of a connection with one signal, as here
        for (let i = 0; i < 50; i++) await (await f(`http://127.0.0.1:${port}/`, { signal: connection.signal })).text();
        const listeners = EventEmitter.getEventListeners(connection.signal, 'abort');
        expect(listeners).toHaveLength(0);
        // a request still running when the connection closes is aborted
        const slow = f(`http://127.0.0.1:${port}/slow`, { signal: connection.signal });
        connection.abort();
        await expect(slow).rejects.toThrow(/abort/i);
        expect(warned).toBe(0);
      } finally {
        process.off('warning', onWarning);
        await f.close();
      }
    });
  });
});

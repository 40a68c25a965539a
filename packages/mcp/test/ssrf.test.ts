import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { blockedAddressReason, checkUrl, guardedFetch, SsrfError } from '../src/index.js';

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
      await expect(guardedFetch(false, resolver, toLoopback)('http://public.test/mcp')).rejects.toThrow(/169\.254\.169\.254.*link-local/);
    } finally {
      server.close();
    }
  });
});

// Webhook destinations (SSRF): which addresses a webhook may reach, checked when the URL is
// saved and again, after DNS, when a delivery is sent; against a real receiver on loopback.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { classifyAddress } from '../../src/services/webhooks/address.js';
import { sendWebhook } from '../../src/services/webhooks/send.js';
import { checkWebhookUrl } from '../../src/services/webhooks/url.js';

describe('address classes', () => {
  it.each([
    ['93.184.216.34', 'public'],
    ['8.8.8.8', 'public'],
    ['2606:4700:4700::1111', 'public'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.1.1', 'private'],
    ['127.0.0.1', 'private'],
    ['127.8.9.10', 'private'],
    ['100.64.0.1', 'private'],
    ['::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['169.254.169.254', 'forbidden'],
    ['0.0.0.0', 'forbidden'],
    ['::', 'forbidden'],
    ['fe80::1', 'forbidden'],
    ['224.0.0.1', 'forbidden'],
    ['255.255.255.255', 'forbidden'],
    ['ff02::1', 'forbidden'],
    // IPv4 inside IPv6 is judged as the IPv4 address it carries
    ['::ffff:127.0.0.1', 'private'],
    ['::ffff:7f00:1', 'private'],
    ['::ffff:a9fe:a9fe', 'forbidden'],
    ['64:ff9b::a9fe:a9fe', 'forbidden'],
    ['::ffff:5db8:d822', 'public'],
    ['not-an-ip', 'forbidden'],
  ])('%s is %s', (ip, cls) => {
    expect(classifyAddress(ip)).toBe(cls);
  });
});

describe('webhook URLs when saved', () => {
  const closed = { allowPrivate: false };
  const open = { allowPrivate: true };
  it('refuses private, loopback and localhost targets unless the operator allows them', () => {
    for (const url of ['http://127.0.0.1:8080/x', 'http://10.0.0.5/hook', 'http://[::1]/x', 'http://[::ffff:127.0.0.1]/x', 'http://2130706433/x', 'http://0x7f.1/x', 'http://localhost:3000/x', 'http://api.localhost/x']) {
      const r = checkWebhookUrl(url, closed);
      expect(r.ok, url).toBe(false);
      if (!r.ok) expect(r.message).toContain('PALISADE_WEBHOOK_ALLOW_PRIVATE=1');
      expect(checkWebhookUrl(url, open).ok, url).toBe(true);
    }
  });
  it('never allows link-local (cloud metadata), unspecified or multicast targets', () => {
    for (const url of ['http://169.254.169.254/latest/meta-data/', 'http://0.0.0.0:8080/', 'http://[fe80::1]/', 'http://224.0.0.1/', 'http://[::ffff:169.254.169.254]/']) {
      expect(checkWebhookUrl(url, open).ok, url).toBe(false);
    }
  });
  it('accepts public addresses and host names (checked again after DNS on delivery)', () => {
    expect(checkWebhookUrl('https://hooks.slack.com/services/T/B/x', closed).ok).toBe(true);
    expect(checkWebhookUrl('https://93.184.216.34/hook', closed).ok).toBe(true);
  });
});

describe('webhook delivery destinations', () => {
  const got: string[] = [];
  const receiver = http.createServer((req, res) => {
    got.push(req.url ?? '');
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  let port = 0;
  beforeAll(async () => {
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    port = (receiver.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => receiver.close(() => r())));
  const send = (url: string, allowPrivate: boolean) => sendWebhook({ url, secret: 's', body: '{"a":1}', event: 'webhook.test', allowPrivate, timeoutMs: 3000 });

  it('refuses a host name that resolves to a loopback address, without connecting, and says retrying cannot help', async () => {
    const r = await send(`http://localhost:${port}/by-name`, false);
    expect(r.ok).toBe(false);
    expect(r.permanent).toBe(true);
    expect(r.error).toMatch(/localhost resolves to .*private or loopback/);
    expect(got).not.toContain('/by-name');
  });
  it('refuses a private address literal stored before the policy (no connection)', async () => {
    const r = await send(`http://127.0.0.1:${port}/literal`, false);
    expect(r).toMatchObject({ ok: false, permanent: true });
    expect(got).not.toContain('/literal');
  });
  it('delivers to the same receiver when private targets are allowed, by name and by address', async () => {
    expect(await send(`http://localhost:${port}/ok-name`, true)).toMatchObject({ ok: true, statusCode: 200 });
    expect(await send(`http://127.0.0.1:${port}/ok-ip`, true)).toMatchObject({ ok: true, statusCode: 200 });
    expect(got).toEqual(expect.arrayContaining(['/ok-name', '/ok-ip']));
  });
  it('never sends to a metadata address, even when private targets are allowed', async () => {
    const r = await send('http://169.254.169.254/latest/meta-data/', true);
    expect(r).toMatchObject({ ok: false, permanent: true });
  });
  it('reports an unreachable receiver as a retryable failure', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const r = await send(`http://127.0.0.1:${deadPort}/`, true);
    expect(r.ok).toBe(false);
    expect(r.permanent).toBeFalsy();
    expect(r.error).toMatch(/^Could not reach 127\.0\.0\.1: the connection was refused\.$/);
  });
});

// `palisade configure` checks the URL and key before saving: a loopback stand-in answers the
// whoami check with each status a user can meet; the real backend's answers are covered in
// report-e2e.test.ts and packages/server/test/agent-whoami.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkBackend, WHOAMI_PATH } from '../../src/commands/check-backend.js';
import { runCli } from '../cli/helpers.js';

// test fixture keys, shaped like agent keys
const GOOD = 'pal_fixture_good_key_0123456789abcdef';
const SCOPED = 'pal_fixture_scoped_key_0123456789abcd';

let receiver: Server;
let url: string;
let closedUrl: string;
let tmp: string;

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'palisade-configure-'));
  receiver = createServer((req, res) => {
    const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.url === '/not-palisade' + WHOAMI_PATH) return void res.writeHead(404).end('not found');
    if (req.url !== WHOAMI_PATH || req.method !== 'GET') return void res.writeHead(404).end();
    if (req.headers['x-api-key'] === GOOD) return json(200, { orgId: 'org-1', keyId: 'key-1' });
    if (req.headers['x-api-key'] === SCOPED) return json(403, { error: { message: 'forbidden' } });
    return json(401, { error: { message: 'invalid key' } });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const addr = receiver.address();
  url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  // a port that was just free: nothing listens there
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const p = probe.address();
  closedUrl = `http://127.0.0.1:${typeof p === 'object' && p ? p.port : 0}`;
  await new Promise((resolve) => probe.close(resolve));
});

afterAll(async () => {
  await new Promise((resolve) => receiver.close(resolve));
  rmSync(tmp, { recursive: true, force: true });
});

describe('checkBackend', () => {
  it('returns the organisation for a key the backend accepts', async () => {
    await expect(checkBackend(url, GOOD)).resolves.toEqual({ orgId: 'org-1', keyId: 'key-1' });
  });

  it('says what went wrong for a wrong key, a wrong scope, no Palisade there, and nothing listening', async () => {
    await expect(checkBackend(url, 'pal_fixture_unknown_key_000000000000')).rejects.toThrow(/does not accept this agent key \(it is unknown or revoked\); create a key in the dashboard/);
    await expect(checkBackend(url, SCOPED)).rejects.toThrow(/knows this key but does not let it send reports \(wrong scope\)/);
    await expect(checkBackend(`${url}/not-palisade`, GOOD)).rejects.toThrow(/has no Palisade agent endpoint .* answered 404/);
    await expect(checkBackend(closedUrl, GOOD)).rejects.toThrow(/^cannot reach the backend at .* \(connection refused: nothing listens there\); .* --no-check/);
  });
});

describe('palisade configure', () => {
  it('saves only after the check passes; --no-check saves without asking', async () => {
    const env = { PALISADE_STATE_DIR: path.join(tmp, 'state') };
    const refused = await runCli(['configure', '--server', closedUrl, '--api-key', GOOD], { env });
    expect(refused.code).toBe(2);
    expect(refused.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(refused.stderr).toMatch(/^palisade: cannot reach the backend/);
    expect(existsSync(path.join(tmp, 'state', 'agent.json'))).toBe(false);
    const unchecked = await runCli(['configure', '--server', closedUrl, '--api-key', GOOD, '--no-check'], { env });
    expect(unchecked.code).toBe(0);
    expect(existsSync(path.join(tmp, 'state', 'agent.json'))).toBe(true);
    const ok = await runCli(['configure', '--server', url, '--api-key', GOOD], { env });
    expect(ok.stdout).toMatch(/the key was accepted \(organisation org-1\); reports will go to http:\/\/127\.0\.0\.1:/);
  }, 60_000);
});

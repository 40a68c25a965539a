// Production mode: Secure cookies and HSTS; and the dashboard's files with SPA fallback.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestApp, setupOwner, type TestApp } from './helpers/app.js';
import { tempDir } from './helpers/databases.js';

describe('production mode and the dashboard files', () => {
  let t: TestApp;
  const web = tempDir('palisade-web-');

  beforeAll(async () => {
    fs.writeFileSync(path.join(web, 'index.html'), '<!doctype html><title>Palisade test dashboard</title>');
    fs.mkdirSync(path.join(web, 'assets'));
    fs.writeFileSync(path.join(web, 'assets', 'app.js'), 'console.log("test asset")');
    t = await makeTestApp('sqlite', { production: true, webDir: web });
  });
  afterAll(async () => {
    await t?.close();
    fs.rmSync(web, { recursive: true, force: true });
  });

  it('marks every auth cookie Secure and sends HSTS', async () => {
    const r = await t.app.inject({ method: 'GET', url: '/healthz' });
    expect(r.headers['strict-transport-security']).toMatch(/max-age=31536000/);
    const { client } = await setupOwner(t.app);
    expect([...client.jar.keys()].sort()).toEqual(['palisade_csrf', 'palisade_refresh', 'palisade_session']);
    const login = await client.post('/api/v1/auth/refresh');
    expect(login.statusCode).toBe(200);
    for (const c of login.cookies as { name: string; secure?: boolean }[]) expect(c.secure, c.name).toBe(true);
  });

  it('serves the built dashboard, falls back to index.html for app paths, never for the API', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/' })).body).toContain('Palisade test dashboard');
    expect((await t.app.inject({ method: 'GET', url: '/assets/app.js' })).body).toContain('test asset');
    const deep = await t.app.inject({ method: 'GET', url: '/servers/123?tab=tools' });
    expect(deep.statusCode).toBe(200);
    expect(deep.body).toContain('Palisade test dashboard');
    expect(deep.headers['content-security-policy']).toContain("script-src 'self'");
    const api = await t.app.inject({ method: 'GET', url: '/api/v1/not-a-route' });
    expect(api.statusCode).toBe(404);
    expect(api.json().error.code).toBe('not_found');
  });
});

// The dashboard in a real browser (Debian's Chromium) against a real `palisade serve` on a
// temporary SQLite data folder, fed by real scans of the fixture homes in e2e/fixtures.
import { createHmac } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, skipBrowserTests, skipReason } from './support/browser.js';
import { ensureWebBuilt, REPO, runCli, startServer, type RunningServer } from './support/palisade.js';

const SHOTS = path.join(REPO, 'test-results/screenshots');
const OWNER = { email: 'owner@example.test', password: 'correct horse battery staple 42' };
const VIEWER_PASSWORD = 'read-only passphrase for tests 7'; // not containing the address: the strength check refuses that
// expect.poll waits 1 s by default: too short on a busy two-core machine
const POLL = { timeout: 15_000 };

if (skipBrowserTests) console.warn(`[e2e] skipping the dashboard browser tests: ${skipReason}`);

describe.skipIf(skipBrowserTests)('dashboard in a real browser', { timeout: 90_000 }, () => {
  let server: RunningServer;
  let browser: Browser;
  let ctx: BrowserContext;
  let page: Page;
  let agentKey = '';
  let criticalId = ''; // the critical server whose risk the admin accepts
  const pageErrors: string[] = [];
  const scans = new Map<string, string>(); // fixture home -> its scan JSON (scanned once)

  const url = (p: string) => server.origin + p;
  const nav = (name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });
  const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  /** the API as the signed-in browser sees it (same cookies) */
  const apiGet = async <T>(p: string): Promise<T> => {
    const r = await page.request.get(url('/api/v1' + p));
    expect(r.status(), `GET ${p}`).toBe(200);
    return (await r.json()) as T;
  };

  /** The agent as a user runs it: the configure command copied from the dashboard, then `palisade report`. */
  async function configureAndReport(configureCommand: string, home: string): Promise<void> {
    const env = { PALISADE_STATE_DIR: path.join(server.dataDir, 'agent-state') };
    const [program, pkg, ...args] = configureCommand.split(' ');
    expect([program, pkg]).toEqual(['npx', 'palisade-mcp']);
    const configured = await runCli(args, env);
    expect(configured.code, configured.stderr).toBe(0);
    const r = await runCli(['report', '--home', path.join(REPO, 'e2e/fixtures', home), '--platform', 'linux'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('report sent');
  }

  /** A second machine: a real scan of a fixture home posted under another host identity. */
  async function reportHome(home: string, key: string, hostname: string, user: string): Promise<number> {
    let json = scans.get(home);
    if (!json) {
      const scan = await runCli(['scan', '--json', '--home', path.join(REPO, 'e2e/fixtures', home), '--platform', 'linux']);
      expect(scan.code, scan.stderr).toBe(0);
      json = scan.stdout;
      scans.set(home, json);
    }
    const report = JSON.parse(json) as { host: { hostname: string; user: string } };
    report.host.hostname = hostname;
    report.host.user = user;
    const r = await fetch(url('/api/v1/agent/report'), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-API-Key': key, Prefer: 'wait=30' },
      body: JSON.stringify(report),
    });
    return r.status;
  }

  function watch(p: Page) {
    p.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
    p.on('console', (m) => {
      if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) pageErrors.push(`console: ${m.text()}`);
    });
  }

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    ensureWebBuilt();
    server = await startServer();
    browser = await launchChromium();
    ctx = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    ctx.setDefaultTimeout(15_000);
    page = await ctx.newPage();
    watch(page);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('the page is served under a strict CSP with no inline code', async () => {
    const r = await fetch(url('/servers'));
    expect(r.status).toBe(200);
    const csp = r.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    const html = await r.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i); // every script is a file
    expect(html).not.toMatch(/<style|\sstyle=/i);
    expect(html).not.toMatch(/\son[a-z]+=/i); // no inline event handlers
  });

  it('first-run setup from the one-time link signs the owner in and teaches how to add a machine', async () => {
    await page.goto(url('/'));
    // no session: the app sends us to sign-in, which explains that setup comes first
    await page.getByRole('heading', { name: 'Set up Palisade' }).waitFor();
    await page.goto(url(`/setup?token=${server.setupToken}`));
    await page.getByLabel('Organisation name').fill('Example Security');
    await page.getByLabel('Your email').fill(OWNER.email);
    await page.getByLabel('Password').fill(OWNER.password);
    await page.getByRole('button', { name: 'Create organisation' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.getByRole('heading', { name: 'No machine has reported yet' }).waitFor();
    expect(await page.getByText(`npx palisade-mcp configure --server ${server.origin}`).count()).toBe(1);
    await shot('overview-empty');
  });

  it('creates an agent key shown once with the configure command, and the agent reports with it', async () => {
    await nav('Settings').click();
    await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Agent keys' }).click();
    await page.getByLabel('Key name').fill('fixture laptops');
    await page.getByRole('button', { name: 'Create key' }).click();
    const key = (await page.getByTestId('new-agent-key').textContent())?.trim() ?? '';
    expect(key).toMatch(/^pal_[A-Za-z0-9_-]{43}$/);
    const configureCommand = (await page.getByTestId('configure-command').textContent())?.trim() ?? '';
    expect(configureCommand).toBe(`npx palisade-mcp configure --server ${server.origin} --api-key ${key}`);
    await shot('settings-agent-keys');
    agentKey = key;
    await configureAndReport(configureCommand, 'home-alice');
    expect(await reportHome('home-bob', key, 'bob-laptop', 'bob')).toBe(200);
    // shown once: after a reload only the prefix is left
    await page.reload();
    await page.getByRole('cell', { name: 'fixture laptops', exact: true }).waitFor();
    expect(await page.getByText(key).count()).toBe(0);
  });

  it('overview numbers match the API', async () => {
    await nav('Overview').click();
    await page.getByTestId('stat-servers').waitFor();
    const o = await apiGet<{
      servers: { total: number; byLevel: Record<string, number> };
      hosts: { total: number; reporting: number };
      alerts: { open: number };
      newThisWeek: number;
    }>('/overview');
    expect(o.hosts.total).toBe(2);
    expect(await page.getByTestId('stat-servers').textContent()).toBe(String(o.servers.total));
    expect(await page.getByTestId('stat-critical-high').textContent()).toBe(String((o.servers.byLevel.critical ?? 0) + (o.servers.byLevel.high ?? 0)));
    expect(await page.getByTestId('stat-hosts').textContent()).toBe(`${o.hosts.reporting} / ${o.hosts.total}`);
    expect(await page.getByTestId('stat-alerts').textContent()).toBe(String(o.alerts.open));
    expect(await page.getByTestId('stat-new').textContent()).toBe(String(o.newThisWeek));
    for (const level of ['critical', 'high', 'medium', 'low', 'none']) {
      expect(await page.locator(`.level-bar-count[data-level="${level}"]`).textContent()).toBe(String(o.servers.byLevel[level] ?? 0));
    }
    await shot('overview');
    // the layout holds on a wide screen too
    await page.setViewportSize({ width: 1920, height: 1000 });
    await shot('overview-wide');
    await page.setViewportSize({ width: 1280, height: 860 });
  });

  it('filters the servers list by level and by text', async () => {
    await nav('Servers').click();
    await page.getByRole('heading', { name: 'Servers' }).waitFor();
    expect(await page.title()).toBe('Servers · Palisade');
    await page.locator('.servers-table tbody tr:not(.skeleton-row)').first().waitFor();
    await shot('servers');
    await page.getByLabel('Risk level').selectOption('critical');
    await page.waitForURL(/level=critical/);
    const api = await apiGet<{ items: Array<{ name: string; level: string }>; total: number }>('/servers?level=critical');
    expect(api.total).toBeGreaterThan(0);
    await expect.poll(() => page.locator('.servers-table tbody tr:not(.skeleton-row)').count(), POLL).toBe(api.total);
    for (const s of api.items) expect(await page.getByRole('link', { name: s.name, exact: true }).count()).toBe(1);
    // export of the current filter: every matching row, as CSV and as JSON
    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
    const csvText = readFileSync(await csv.path(), 'utf8');
    const lines = csvText.trim().split(/\r\n/);
    expect(lines[0]).toMatch(/^id,name,level,/);
    expect(lines.length - 1).toBe(api.total);
    const [json] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export JSON' }).click()]);
    const rows = JSON.parse(readFileSync(await json.path(), 'utf8')) as Array<{ level: string }>;
    expect(rows.length).toBe(api.total);
    expect(rows.every((r) => r.level === 'critical')).toBe(true);
    // text search narrows further; the filter lives in the address for links and reloads
    await page.getByLabel('Risk level').selectOption('');
    await page.getByLabel('Search').fill('memory');
    await page.waitForURL(/q=memory/);
    await expect.poll(() => page.locator('.servers-table tbody tr:not(.skeleton-row)').count(), POLL).toBe(1);
    expect(await page.getByRole('link', { name: 'memory', exact: true }).count()).toBe(1);
  });

  it('opens a critical server and reads its finding with the rule explanation', async () => {
    const api = await apiGet<{ items: Array<{ id: string; name: string }> }>('/servers?level=critical&sort=score');
    const critical = api.items[0]!;
    criticalId = critical.id;
    await page.goto(url('/servers?level=critical'));
    await page.getByRole('link', { name: critical.name, exact: true }).click();
    await page.getByRole('heading', { name: critical.name, level: 1 }).waitFor();
    const detail = await apiGet<{ findings: Array<{ title: string; ruleId: string; remediation: string | null }> }>(`/servers/${critical.id}`);
    const top = detail.findings[0]!;
    await page.getByText(top.ruleId).first().waitFor();
    expect(await page.locator('.finding h3').filter({ hasText: top.title }).count()).toBeGreaterThan(0);
    // the explanation is rendered from Markdown (code spans, links), so its text is matched in parts
    if (top.remediation) {
      const explain = page.locator('.finding', { hasText: top.title }).locator('.explain', { hasText: 'What to do' });
      await explain.first().waitFor();
      const words = top.remediation.replace(/[`*_[\]()]/g, ' ').split(/\s+/).filter((w) => w.length > 6).slice(0, 3);
      for (const w of words) expect(await explain.first().textContent()).toContain(w);
    }
    await page.getByRole('heading', { name: /Where it runs/ }).waitFor();
    await shot('server-detail');
  });

  it('a server with a known-vulnerable package lists its advisories', async () => {
    const list = await apiGet<{ items: Array<{ id: string }> }>('/servers?q=server-filesystem');
    const id = list.items[0]!.id;
    const detail = await apiGet<{ advisories: Array<{ id: string; fixed: string | null }> }>(`/servers/${id}`);
    expect(detail.advisories.length).toBeGreaterThan(0); // the fixture pins a release with published advisories
    await page.goto(url(`/servers/${id}`));
    const panel = page.locator('.panel', { has: page.getByRole('heading', { name: 'Advisories', exact: true, level: 2 }) });
    await panel.locator('li').first().waitFor();
    expect(await panel.locator('li').count()).toBe(detail.advisories.length);
    for (const a of detail.advisories) {
      expect(await panel.getByText(a.id).count()).toBeGreaterThan(0);
      if (a.fixed) expect(await panel.getByText(`fixed in ${a.fixed}`).count()).toBeGreaterThan(0);
    }
    await shot('server-advisories');
  });

  it('an admin accepts a risk with a reason; the badge shows and the audit log records it', async () => {
    await page.goto(url(`/servers/${criticalId}`));
    await page.getByRole('button', { name: 'Accept risk…' }).click();
    await page.getByLabel(/Reason/).fill('Vendor installer reviewed by the security team for this quarter.');
    await page.getByRole('button', { name: 'Record override' }).click();
    await page.locator('.title-row .badge.override').waitFor();
    expect(await page.getByText('Vendor installer reviewed by the security team').count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Accept risk…' }).count()).toBe(0);
    await shot('server-risk-accepted');

    await nav('Audit log').click();
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    await page.getByLabel('Action').selectOption('override.created');
    await page.waitForURL(/action=override\.created/);
    const row = page.locator('.audit-table tbody tr', { hasText: 'override.created' });
    await row.first().waitFor();
    expect(await row.count()).toBe(1);
    expect(await row.getByText(OWNER.email).count()).toBe(1);
    await shot('audit');
  });

  it('revokes an agent key; the API then refuses that key', async () => {
    await page.goto(url('/settings/agent-keys'));
    await page.getByLabel('Key name').fill('temporary key');
    await page.getByRole('button', { name: 'Create key' }).click();
    const temp = (await page.getByTestId('new-agent-key').textContent())?.trim() ?? '';
    expect(temp).toMatch(/^pal_/);
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Revoke key temporary key' }).click();
    await page.locator('tr', { hasText: 'temporary key' }).getByText('revoked').waitFor();
    expect(await reportHome('home-bob', temp, 'bob-laptop', 'bob')).toBe(401);
    expect(await reportHome('home-bob', agentKey, 'bob-laptop', 'bob')).toBe(200);
  });

  it('a quietly expired session refreshes and the page keeps working', async () => {
    await ctx.clearCookies({ name: 'palisade_session' });
    await page.goto(url('/hosts'));
    await page.getByRole('link', { name: os.hostname(), exact: true }).waitFor();
    await page.getByRole('link', { name: 'bob-laptop', exact: true }).waitFor();
    expect(page.url()).toBe(url('/hosts'));
    await shot('hosts');
    await page.getByRole('link', { name: 'bob-laptop', exact: true }).click();
    await page.getByRole('heading', { name: 'bob-laptop', level: 1 }).waitFor();
    await page.getByRole('link', { name: 'memory', exact: true }).waitFor();
    await shot('host-detail');
  });

  it('a session that cannot be refreshed returns to sign-in, then back to the same page', async () => {
    await page.goto(url('/alerts'));
    await page.getByRole('heading', { name: 'Alerts' }).waitFor();
    await ctx.clearCookies({ name: 'palisade_session' });
    await ctx.clearCookies({ name: 'palisade_refresh' });
    await nav('Servers').click();
    await page.waitForURL(/\/login\?expired=1&next=%2Fservers/);
    await page.getByText('Your session ended').waitFor();
    await page.getByLabel('Email').fill(OWNER.email);
    await page.getByLabel('Password').fill(OWNER.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(url('/servers'));
    await page.getByRole('heading', { name: 'Servers' }).waitFor();
  });

  it('a viewer sees no buttons it cannot use, and the API refuses it too', async () => {
    await page.goto(url('/settings/users'));
    await page.getByLabel('Email to invite').fill('viewer@example.test');
    await page.locator('form.inline-form').getByLabel(/^Role/).selectOption('viewer');
    await page.getByRole('button', { name: 'Invite' }).click();
    const link = (await page.locator('.copy-row code').first().textContent())?.trim() ?? '';
    expect(link).toContain('/invite?token=');

    const vctx = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    vctx.setDefaultTimeout(15_000);
    const vpage = await vctx.newPage();
    watch(vpage);
    try {
      await vpage.goto(link);
      await vpage.getByLabel('Choose a password').fill(VIEWER_PASSWORD);
      await vpage.getByRole('button', { name: 'Join' }).click();
      await vpage.getByRole('heading', { name: 'Overview' }).waitFor();
      const vnav = vpage.getByRole('navigation', { name: 'Main' });
      expect(await vnav.getByRole('link', { name: 'Audit log' }).count()).toBe(0);
      expect(await vnav.getByRole('link', { name: 'Settings' }).count()).toBe(0);
      await vpage.goto(url(`/servers/${criticalId}`));
      await vpage.getByRole('heading', { name: /Findings/ }).waitFor();
      // the risk the admin accepted is visible to everyone
      expect(await vpage.locator('.title-row .badge.override').textContent()).toBe('Risk accepted');
      await vpage.getByText('Vendor installer reviewed by the security team').waitFor();
      expect(await vpage.getByRole('button', { name: /Accept risk|Revoke override/ }).count()).toBe(0);
      await vpage.goto(url('/settings'));
      await vpage.getByText('has no settings to change').waitFor();
      await vpage.goto(url('/alerts'));
      await vpage.getByRole('heading', { name: 'Alerts' }).waitFor();
      expect(await vpage.getByRole('button', { name: /Acknowledge|Resolve/ }).count()).toBe(0);
      await vpage.screenshot({ path: path.join(SHOTS, 'viewer-alerts.png'), fullPage: true });
      // the API refuses a viewer even with a valid CSRF token
      const csrf = (await vctx.cookies()).find((c) => c.name === 'palisade_csrf')?.value ?? '';
      const created = await vpage.request.post(url('/api/v1/agent-keys'), { data: { name: 'nope' }, headers: { 'X-CSRF-Token': csrf } });
      expect(created.status()).toBe(403);
      const override = await vpage.request.post(url(`/api/v1/servers/${criticalId}/overrides`), {
        data: { decision: 'accept_risk', reason: 'a viewer should not be able to do this', expiresAt: new Date(Date.now() + 86_400_000).toISOString() },
        headers: { 'X-CSRF-Token': csrf },
      });
      expect(override.status()).toBe(403);
    } finally {
      await vctx.close();
    }
  });

  it('the other settings pages load for an owner', async () => {
    await page.goto(url('/settings/users'));
    await page.getByRole('cell', { name: `${OWNER.email} (you)` }).waitFor();
    // the invited viewer has joined: an owner may change their role
    const roleOfViewer = page.getByRole('combobox', { name: 'Role of viewer@example.test' });
    expect(await roleOfViewer.inputValue()).toBe('viewer');
    // change a role, then remove the user
    await roleOfViewer.selectOption('analyst');
    const roleIn = async (email: string) =>
      (await apiGet<{ items: Array<{ email: string; role: string }> }>('/users')).items.find((u) => u.email === email)?.role;
    await expect.poll(() => roleIn('viewer@example.test'), POLL).toBe('analyst');
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Remove viewer@example.test' }).click();
    await expect.poll(() => roleIn('viewer@example.test'), POLL).toBeUndefined();
    await page.getByRole('cell', { name: 'viewer@example.test', exact: true }).waitFor({ state: 'detached' });
    await shot('settings-users');
    await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Webhooks' }).click();
    await page.getByRole('heading', { name: 'No webhooks yet' }).waitFor();
    // a real receiver on loopback: the test delivery arrives signed with the secret shown once
    const received: Array<{ headers: Record<string, string | string[] | undefined>; body: string }> = [];
    const receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const port = (receiver.address() as AddressInfo).port;
      await page.getByLabel('Name').fill('security channel');
      await page.getByLabel('URL').fill(`http://127.0.0.1:${port}/hook`);
      await page.getByLabel('Alerts at or above').selectOption('info');
      await page.getByRole('button', { name: 'Add webhook' }).click();
      const secret = (await page.locator('[role="status"] code').first().textContent())?.trim() ?? '';
      expect(secret.length).toBeGreaterThan(15);
      await page.getByRole('button', { name: 'Send test' }).click();
      await page.getByText(/Test to “security channel”: delivered/).waitFor();
      expect(received.length).toBeGreaterThan(0);
      const got = received[received.length - 1]!;
      const mac = createHmac('sha256', secret)
        .update(`${String(got.headers['x-palisade-timestamp'])}.${got.body}`)
        .digest('hex');
      expect(got.headers['x-palisade-signature']).toBe(`sha256=${mac}`);
      await shot('settings-webhooks');
    } finally {
      receiver.close();
    }
    await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Organisation' }).click();
    await page.getByLabel(/second admin/).waitFor();
    // the retention period: a bad value is explained and cannot be saved; a good one is kept
    const days = page.getByLabel('Keep history for (days)');
    await expect.poll(() => days.inputValue(), POLL).toBe('365');
    await days.fill('10');
    await page.getByText('Give a whole number of days from 30 to 3650.').waitFor();
    expect(await page.getByRole('button', { name: 'Save retention' }).isDisabled()).toBe(true);
    await days.fill('180');
    await page.getByRole('button', { name: 'Save retention' }).click();
    await expect.poll(() => apiGet<{ retentionDays: number }>('/settings').then((x) => x.retentionDays), POLL).toBe(180);
    await page.getByText('Currently 180 days.').waitFor();
    await shot('settings-org');
  });

  it('a missing server is explained in words', async () => {
    await page.goto(url('/servers/no-such-server'));
    await page.getByRole('alert').filter({ hasText: 'This server could not be loaded' }).waitFor();
  });

  it('with the second-approver setting, a critical override waits for another admin', async () => {
    await page.goto(url('/settings/org'));
    const box = page.getByLabel(/second admin/);
    await box.click();
    await expect.poll(() => box.isChecked(), POLL).toBe(true);
    await expect
      .poll(() => apiGet<{ requireSecondApproverForCritical: boolean }>('/settings').then((x) => x.requireSecondApproverForCritical), POLL)
      .toBe(true);

    // replace the accepted risk on the critical server: revoke it, then record a new one
    await page.goto(url(`/servers/${criticalId}`));
    await page.getByRole('button', { name: 'Revoke override' }).click();
    await page.getByRole('button', { name: 'Accept risk…' }).waitFor();
    await page.getByRole('button', { name: 'Accept risk…' }).click();
    await page.getByLabel(/Reason/).fill('Needs a second pair of eyes before we accept it.');
    await page.getByRole('button', { name: 'Record override' }).click();
    await page.locator('.title-row .badge.override', { hasText: 'awaiting approval' }).waitFor();
    expect(await page.getByRole('button', { name: 'Approve' }).count()).toBe(0); // not by its author

    await page.goto(url('/settings/users'));
    await page.getByLabel('Email to invite').fill('second-admin@example.test');
    await page.locator('form.inline-form').getByLabel(/^Role/).selectOption('admin');
    await page.getByRole('button', { name: 'Invite' }).click();
    const link = (await page.locator('.copy-row code').first().textContent())?.trim() ?? '';
    const actx = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    actx.setDefaultTimeout(15_000);
    const apage = await actx.newPage();
    watch(apage);
    try {
      await apage.goto(link);
      await apage.getByLabel('Choose a password').fill('second admin passphrase 99');
      await apage.getByRole('button', { name: 'Join' }).click();
      await apage.getByRole('heading', { name: 'Overview' }).waitFor();
      await apage.goto(url(`/servers/${criticalId}`));
      await apage.getByRole('button', { name: 'Approve' }).click();
      await apage.locator('.title-row .badge.override', { hasText: /^Risk accepted$/ }).waitFor();
      await apage.getByText('approved by second-admin@example.test').waitFor();
      await apage.screenshot({ path: path.join(SHOTS, 'server-override-approved.png'), fullPage: true });
    } finally {
      await actx.close();
    }
  });

  it('alerts can be acknowledged and resolved, with who did it', async () => {
    await page.goto(url('/alerts'));
    await page.getByRole('heading', { name: 'Alerts' }).waitFor();
    const open = await apiGet<{ items: Array<{ id: string; title: string }>; total: number }>('/alerts?status=open');
    expect(open.total).toBeGreaterThan(0); // the fixture reports raise alerts for new risky servers
    // triage: select an open alert, acknowledge it from the bulk bar, then resolve it the same way
    const bar = page.getByRole('region', { name: 'Actions on selected alerts' });
    await page.locator('tbody tr input[type=checkbox]').first().check();
    await bar.getByRole('button', { name: 'Acknowledge', exact: true }).click();
    await page.getByText(`acknowledged by ${OWNER.email}`).first().waitFor();
    await shot('alerts');
    const acknowledged = page.locator('tbody tr', { hasText: `acknowledged by ${OWNER.email}` }).first();
    const box = acknowledged.locator('input[type=checkbox]');
    if (!(await box.isChecked())) await box.check();
    // alerts of the server whose risk was accepted above were resolved by Palisade already
    const resolvedBefore = (await apiGet<{ total: number }>('/alerts?status=resolved')).total;
    await bar.getByRole('button', { name: 'Resolve', exact: true }).click();
    await expect.poll(async () => (await apiGet<{ total: number }>('/alerts?status=resolved')).total, POLL).toBe(resolvedBefore + 1);
    await page.getByLabel('Status').selectOption('resolved');
    await page.getByText(`resolved by ${OWNER.email}`).waitFor();
  });

  it('signs out, and the session no longer works', async () => {
    await page.goto(url('/'));
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await shot('sign-in');
    expect((await page.request.get(url('/api/v1/me'))).status()).toBe(401);
    // signing in again returns to the page asked for
    await page.goto(url('/hosts'));
    await page.waitForURL(/\/login\?(.*&)?next=%2Fhosts/);
    // a signed-out visitor is not told that a session "ended"
    expect(await page.getByText('Your session ended').count()).toBe(0);
    // by keyboard only: the email field has focus, Tab moves on, Enter submits
    await page.keyboard.type(OWNER.email);
    await page.keyboard.press('Tab');
    await page.keyboard.type(OWNER.password);
    await page.keyboard.press('Enter');
    await page.waitForURL(url('/hosts'));
    await page.getByRole('heading', { name: 'Hosts' }).waitFor();
  });

  it('ran without script errors or CSP violations', () => {
    expect(pageErrors).toEqual([]);
  });
});

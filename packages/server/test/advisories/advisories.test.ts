// Advisories on the backend against real SQLite and PostgreSQL (app role, RLS on): stored
// idempotently with the newest `modified`, and an inventory that becomes vulnerable after an
// import raises exactly one alert per affected server per host, with findings and scores.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundledAdvisoriesDir, knownVulnerablePackage, type OsvRecord } from '@palisade/core';
import { withOrg } from '../../src/db/index.js';
import { ingestReport } from '../../src/services/ingest.js';
import { getServer } from '../../src/services/queries.js';
import { rematchAfterImport, rematchInventory, seedBundledAdvisories, rematchOrganisation, serverAdvisories, storeAdvisories, storeKnownExploited } from '../../src/services/advisories.js';
import { dialects, PG_SKIP_REASON, skipReason } from '../helpers/databases.js';
import { report, server, testRules } from '../inventory/fixtures.js';
import { openInventoryDb, type InventoryDb } from '../inventory/helpers.js';

const at = (day: number) => new Date(Date.UTC(2026, 10, day, 12));
const curated = (id: string) => JSON.parse(readFileSync(path.join(bundledAdvisoriesDir(), `${id}.json`), 'utf8')) as OsvRecord;
const remote = (version: string, name = `remote-${version}`) => server({ name, command: 'npx', args: ['-y', `mcp-remote@${version}`, 'https://mcp.example.com/sse'], package: { ecosystem: 'npm', name: 'mcp-remote', version, pinned: true, runner: 'npx' } });

for (const dialect of dialects) {
  describe.skipIf(skipReason(dialect))(`advisories on ${dialect}${skipReason(dialect) ? ` (${PG_SKIP_REASON})` : ''}`, () => {
    let db: InventoryDb;
    beforeAll(async () => {
      db = await openInventoryDb(dialect);
      const [org, other] = db.orgs;
      // two hosts run the vulnerable mcp-remote 0.1.15, one also runs the fixed 0.1.16
      await ingestReport(db.store, org!, report([remote('0.1.15'), remote('0.1.16')], { hostname: 'laptop-a' }), { rules: testRules, now: at(1) });
      await ingestReport(db.store, org!, report([remote('0.1.15')], { hostname: 'laptop-b' }), { rules: testRules, now: at(1) });
      // another organisation runs the same thing: its alerts are its own
      await ingestReport(db.store, other!, report([remote('0.1.15')], { hostname: 'laptop-z' }), { rules: testRules, now: at(1) });
    });
    afterAll(async () => {
      await db?.close();
    });

    const alerts = (i: number) => withOrg(db.store, db.orgs[i]!, (tx) => tx.selectFrom('alerts').select(['type', 'title', 'severity', 'message', 'host_id', 'server_id']).where('org_id', '=', db.orgs[i]!.orgId).where('type', '=', 'advisory_matched').execute());

    it('matches nothing before any advisory is stored', async () => {
      expect(await rematchInventory(db.store, db.orgs, { now: at(2) })).toMatchObject({ newMatches: 0, alerts: 0 });
    });

    it('stores advisories idempotently, keeping the newest modified and skipping malformed ones', async () => {
      const rec = curated('GHSA-6xpm-ggf7-wc3p');
      const first = await storeAdvisories(db.store, [rec, { id: 'BROKEN' }], { now: at(3) });
      expect(first).toMatchObject({ added: 1, skipped: 1 });
      expect(first.reasons[0]).toMatch(/modified/);
      expect(await storeAdvisories(db.store, [rec], { now: at(3) })).toMatchObject({ added: 0, unchanged: 1 });
      expect(await storeAdvisories(db.store, [{ ...rec, modified: '2020-01-01T00:00:00Z' }], { now: at(3) })).toMatchObject({ unchanged: 1, updated: 0 });
    });

    it('raises exactly one alert per affected server per host, with findings and a critical score', async () => {
      const r = await rematchInventory(db.store, [db.orgs[0]!], { now: at(4) });
      expect(r).toMatchObject({ newMatches: 1, alerts: 2 });
      const list = await alerts(0);
      expect(list).toHaveLength(2);
      expect(new Set(list.map((a) => a.host_id)).size).toBe(2);
      expect(list.every((a) => a.title === 'Known vulnerability in an MCP server' && a.severity === 'critical' && /GHSA-6xpm-ggf7-wc3p\/CVE-2025-6514; move mcp-remote to 0\.1\.16/.test(a.message))).toBe(true);
      const rows = await withOrg(db.store, db.orgs[0]!, (tx) => tx.selectFrom('servers').select(['id', 'name', 'level', 'finding_count']).where('org_id', '=', db.orgs[0]!.orgId).orderBy('name').execute());
      expect(rows.map((s) => [s.name, s.level, s.finding_count])).toEqual([
        ['remote-0.1.15', 'critical', 1],
        ['remote-0.1.16', 'none', 0],
      ]);
      const findings = await withOrg(db.store, db.orgs[0]!, (tx) => tx.selectFrom('findings').select(['rule_id', 'severity', 'message']).where('org_id', '=', db.orgs[0]!.orgId).where('rule_id', '=', 'PAL-V001').execute());
      expect(findings).toHaveLength(2);
      expect(findings[0]!.message).toMatch(/Move to 0\.1\.16 or later/);
      const page = await serverAdvisories(db.store, db.orgs[0]!, rows[0]!.id);
      expect(page).toMatchObject([{ advisoryId: 'GHSA-6xpm-ggf7-wc3p', aliases: ['CVE-2025-6514'], status: 'affected', severity: 'critical', fixed: '0.1.16' }]);
      // the server page lists it, with a link to the advisory
      const detail = await withOrg(db.store, db.orgs[0]!, (tx) => getServer(tx, db.orgs[0]!, rows[0]!.id));
      expect(detail?.advisories).toMatchObject([{ id: 'GHSA-6xpm-ggf7-wc3p', aliases: ['CVE-2025-6514'], severity: 'critical', status: 'affected', fixed: '0.1.16', url: 'https://github.com/advisories/GHSA-6xpm-ggf7-wc3p' }]);
      // the other organisation saw nothing yet
      expect(await alerts(1)).toHaveLength(0);
    });

    it('is idempotent: re-matching again raises nothing', async () => {
      expect(await rematchOrganisation(db.store, db.orgs[0]!, { now: at(5) })).toMatchObject({ newMatches: 0, alerts: 0, cleared: 0 });
      expect(await alerts(0)).toHaveLength(2);
    });

    it('each organisation gets its own alert, never another one\'s', async () => {
      expect(await rematchOrganisation(db.store, db.orgs[1]!, { now: at(5) })).toMatchObject({ newMatches: 1, alerts: 1 });
      expect(await alerts(1)).toHaveLength(1);
      expect(await alerts(0)).toHaveLength(2);
    });

    it('clears matches, findings and the score when a newer record narrows the range', async () => {
      const rec = curated('GHSA-6xpm-ggf7-wc3p');
      const narrowed = { ...rec, modified: '2027-01-01T00:00:00Z', affected: [{ ...rec.affected![0]!, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0.0.5' }, { fixed: '0.1.10' }] }] }] };
      expect(await storeAdvisories(db.store, [narrowed], { now: at(6) })).toMatchObject({ updated: 1 });
      expect(await rematchOrganisation(db.store, db.orgs[0]!, { now: at(6) })).toMatchObject({ cleared: 1, alerts: 0 });
      const s = await withOrg(db.store, db.orgs[0]!, (tx) => tx.selectFrom('servers').select(['level', 'finding_count']).where('name', '=', 'remote-0.1.15').executeTakeFirstOrThrow());
      expect(s).toEqual({ level: 'none', finding_count: 0 });
    });

    it('escalates a known-exploited advisory to critical', async () => {
      await ingestReport(db.store, db.orgs[0]!, report([server({ name: 'git', command: 'uvx', args: ['mcp-server-git==2025.7.1'], package: { ecosystem: 'PyPI', name: 'mcp-server-git', version: '2025.7.1', pinned: true, runner: 'uvx' } })], { hostname: 'laptop-c' }), { rules: testRules, now: at(7) });
      await storeAdvisories(db.store, [curated('GHSA-5cgr-j3jf-jw3v')], { now: at(7) });
      // a test catalog: CVE-2025-68143 is not claimed to be in the real CISA KEV catalog
      expect(await storeKnownExploited(db.store, ['CVE-2025-68143', 'not-a-cve'], at(7))).toBe(1);
      expect(await rematchOrganisation(db.store, db.orgs[0]!, { now: at(8) })).toMatchObject({ newMatches: 1, alerts: 1 });
      const list = await alerts(0);
      expect(list.find((a) => /git on laptop-c/.test(a.message))?.severity).toBe('critical');
    });

    it('scores a report against stored advisories at ingest, and a later re-match does not alert again', async () => {
      const org = db.orgs[0]!;
      const res = await ingestReport(db.store, org, report([server({ name: 'inspector', command: 'npx', args: ['-y', '@modelcontextprotocol/inspector@0.14.0'], package: { ecosystem: 'npm', name: '@modelcontextprotocol/inspector', version: '0.14.0', pinned: true, runner: 'npx' } })], { hostname: 'laptop-d' }), { rules: [...testRules, knownVulnerablePackage], now: at(9) });
      expect(res.unchanged).toBe(false);
      await storeAdvisories(db.store, [curated('GHSA-7f8r-222p-6f5g')], { now: at(9) });
      // stored after that report: the re-match finds it and alerts once
      expect(await rematchOrganisation(db.store, org, { now: at(10) })).toMatchObject({ newMatches: 1, alerts: 1 });
      // the next report of the same host carries the finding itself (the backend re-scores with the advisories)
      await ingestReport(db.store, org, report([server({ name: 'inspector', command: 'npx', args: ['-y', '@modelcontextprotocol/inspector@0.14.0'], package: { ecosystem: 'npm', name: '@modelcontextprotocol/inspector', version: '0.14.0', pinned: true, runner: 'npx' } })], { hostname: 'laptop-d' }, '2026-11-21T10:00:00.000Z'), { rules: [...testRules, knownVulnerablePackage], now: at(11) });
      const f = await withOrg(db.store, org, (tx) => tx.selectFrom('findings as f').innerJoin('hosts as h', 'h.id', 'f.host_id').select(['f.rule_id', 'f.severity']).where('f.org_id', '=', org.orgId).where('h.hostname', '=', 'laptop-d').execute());
      expect(f).toEqual([{ rule_id: 'PAL-V001', severity: 'critical' }]);
      // a new host reporting the same vulnerable server: its report shows it, the re-match adds nothing
      await ingestReport(db.store, org, report([server({ name: 'inspector', command: 'npx', args: ['-y', '@modelcontextprotocol/inspector@0.14.0'], package: { ecosystem: 'npm', name: '@modelcontextprotocol/inspector', version: '0.14.0', pinned: true, runner: 'npx' } })], { hostname: 'laptop-e' }), { rules: [...testRules, knownVulnerablePackage], now: at(12) });
      expect(await rematchOrganisation(db.store, org, { now: at(13) })).toMatchObject({ newMatches: 0, alerts: 0 });
    });

    it('after an import, re-matches exactly the organisations that run a package it names: one alert per server per host', async () => {
      const gitMcp = (name: string) => server({ name, command: 'npx', args: ['-y', '@cyanheads/git-mcp-server@2.1.4'], package: { ecosystem: 'npm', name: '@cyanheads/git-mcp-server', version: '2.1.4', pinned: true, runner: 'npx' } });
      await ingestReport(db.store, db.orgs[0]!, report([gitMcp('git-tools')], { hostname: 'laptop-f' }), { rules: testRules, now: at(14) });
      for (const h of ['y1', 'y2']) await ingestReport(db.store, db.orgs[1]!, report([gitMcp('git-tools')], { hostname: h }), { rules: testRules, now: at(14) });
      const stored = await storeAdvisories(db.store, [curated('GHSA-3q26-f695-pp76')], { now: at(15) });
      expect(stored.changedPackages).toEqual(['npm:@cyanheads/git-mcp-server']);
      const before = [(await alerts(0)).length, (await alerts(1)).length];
      expect(await rematchAfterImport(db.store, stored.changedPackages, { now: at(15) })).toMatchObject({ organisations: 2, newMatches: 2, alerts: 3 });
      expect([(await alerts(0)).length - before[0]!, (await alerts(1)).length - before[1]!]).toEqual([1, 2]);
      // nothing new the second time
      expect(await rematchAfterImport(db.store, stored.changedPackages, { now: at(16) })).toMatchObject({ organisations: 2, alerts: 0 });
    });

    it('seeds the bundled advisories idempotently', async () => {
      const first = await seedBundledAdvisories(db.store, { now: at(17) });
      expect(first.added + first.updated + first.unchanged).toBe(14);
      expect(first.skipped).toBe(0);
      expect(await seedBundledAdvisories(db.store, { now: at(18) })).toMatchObject({ added: 0, updated: 0, unchanged: 14, alerts: 0 });
    });
  });
}

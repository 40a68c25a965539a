// PAL-V001: the package a server runs has a published advisory (CVE/GHSA/OSV) for its version.
// Registered in rules/index.ts through `advisoryRules`. The database comes in RuleContext
// (the CLI passes the bundled set merged with imports); without one the rule stays silent.
import type { PackageRef, ServerConfig } from '../../model.js';
import { MemoryAdvisoryDb } from '../../advisories/db.js';
import type { Rule, RuleCases, RuleContext, RuleHit, ServerRule } from '../types.js';
import { effectiveVersion, matchPackage, type AdvisoryMatch } from '../../advisories/match.js';
import type { OsvRecord } from '../../advisories/osv.js';
import { compareText } from '../../order.js';

/** A server whose package has more advisories than this gets the worst ones and a count of the rest. */
const MAX_FINDINGS_PER_PACKAGE = 50;

const rank = { critical: 4, high: 3, medium: 2, low: 1 } as const;

function idsText(m: AdvisoryMatch): string {
  const [first, ...rest] = m.ids;
  return rest.length ? `${first} (${rest.slice(0, 6).join(', ')})` : (first ?? m.advisory.id);
}

function hitFor(pkg: PackageRef, m: AdvisoryMatch): RuleHit {
  const summary = (m.advisory.summary ?? m.advisory.details ?? '').replace(/\s+/g, ' ').trim().slice(0, 300);
  const kev = m.severity.knownExploited ? ' Known to be exploited in the wild (CISA KEV).' : '';
  const at = m.version ? `${pkg.name}@${m.version}` : pkg.name;
  let message: string;
  if (m.status === 'affected') {
    const fix = m.fixed ? ` Move to ${m.fixed} or later.` : ' No fixed version is published: remove the server or isolate it.';
    message = `${at} is affected by ${idsText(m)}${summary ? `: ${summary}` : ''}.${kev}${fix}`;
  } else {
    const why = m.version ? `its version "${m.version}" is not one exact version` : 'no version is pinned';
    const fix = m.fixed ? ` Pin ${m.fixed} or later.` : ' No fixed version is published.';
    message = `Possibly affected: pin a fixed version. ${pkg.name} runs whatever the registry serves (${why}) and ${idsText(m)} affects some versions${summary ? `: ${summary}` : ''}.${kev}${fix}`;
  }
  const evidence = [
    `${pkg.ecosystem} ${at}`,
    `advisory ${m.ids.join(', ')}`,
    m.status === 'affected' ? 'affected' : 'possibly affected (version not pinned)',
    m.fixed ? `fixed in ${m.fixed}` : 'no fixed version',
    `severity ${m.severity.severity} (${m.severity.basis})`,
  ].join('; ');
  return { message, evidence, severity: m.severity.severity };
}

export const knownVulnerablePackage: ServerRule = {
  kind: 'server',
  meta: {
    id: 'PAL-V001',
    title: 'Package with a known vulnerability',
    severity: 'high',
    category: 'advisory',
    rationale:
      'The server runs a package version that a published advisory (CVE, GHSA, OSV) lists as vulnerable. Its flaw runs with the AI client\'s access to files, credentials and the network; a known-exploited one (CISA KEV) is being used by attackers now.',
    remediation:
      'Pin the package to the fixed version the finding names (for example `npx -y mcp-remote@0.1.16`), or later. If no fix exists, remove the server or run it isolated. An unpinned package is "possibly affected": pin an exact fixed version so the client cannot fetch a vulnerable one.',
    references: ['https://osv.dev', 'https://www.cisa.gov/known-exploited-vulnerabilities-catalog'],
  },
  // the case table travels with the rule (tests, docs and `palisade rules PAL-V001` read it)
  get cases() {
    return knownVulnerablePackageCases();
  },
  check(server, ctx) {
    const db = ctx.advisories;
    const pkg = server.package;
    if (!db || !pkg) return [];
    // many servers run the same package (84 of 500 launch one filesystem server): within one
    // evaluation (one context object, one database) its hits are worked out once; each
    // server gets its own copies
    const key = hitsKey(pkg);
    let memo = hitsMemo.get(ctx);
    if (memo?.db !== db) hitsMemo.set(ctx, (memo = { db, hits: new Map() }));
    let hits = memo.hits.get(key);
    if (!hits) memo.hits.set(key, (hits = packageHits(pkg, db)));
    return hits.map((h) => ({ ...h }));
  },
};

const hitsMemo = new WeakMap<object, { db: object; hits: Map<string, RuleHit[]> }>();

/** What the hits depend on: the package's ecosystem, name and the version it runs (effectiveVersion). */
function hitsKey(pkg: PackageRef): string {
  const version = effectiveVersion(pkg);
  return JSON.stringify([pkg.ecosystem, pkg.name, version === undefined ? null : version]);
}

function packageHits(pkg: PackageRef, db: NonNullable<RuleContext['advisories']>): RuleHit[] {
  const matches = matchPackage(db, pkg).sort((a, b) => rank[b.severity.severity] - rank[a.severity.severity] || compareText(a.advisory.id, b.advisory.id));
  const hits = matches.slice(0, MAX_FINDINGS_PER_PACKAGE).map((m) => hitFor(pkg, m));
  if (matches.length > MAX_FINDINGS_PER_PACKAGE) {
    const rest = matches.length - MAX_FINDINGS_PER_PACKAGE;
    hits.push({ message: `${rest} more advisories also name ${pkg.name}; run \`palisade advisories list --package ${pkg.name}\` to see them all.`, evidence: `${pkg.ecosystem} ${pkg.name}; ${rest} more advisories`, severity: 'low' });
  }
  return hits;
}

/**
 * Advisories the case table below is written against (real records, trimmed to what matching
 * reads). A test builds a MemoryAdvisoryDb from them and runs every case.
 */
export const PAL_V001_CASE_ADVISORIES: OsvRecord[] = [
  {
    id: 'GHSA-6xpm-ggf7-wc3p',
    aliases: ['CVE-2025-6514'],
    modified: '2025-07-10T00:00:00Z',
    summary: 'mcp-remote exposed to OS command injection via untrusted MCP server connections',
    severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:H/I:H/A:H' }],
    affected: [{ package: { ecosystem: 'npm', name: 'mcp-remote' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0.0.5' }, { fixed: '0.1.16' }] }] }],
  },
  {
    id: 'GHSA-5cgr-j3jf-jw3v',
    aliases: ['CVE-2025-68143'],
    modified: '2025-12-18T00:00:00Z',
    summary: "mcp-server-git's unrestricted git_init tool allows repository creation at arbitrary filesystem locations",
    severity: [{ type: 'CVSS_V4', score: 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:P/VC:N/VI:N/VA:N/SC:H/SI:H/SA:H' }],
    database_specific: { severity: 'MODERATE' },
    affected: [{ package: { ecosystem: 'PyPI', name: 'mcp-server-git' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '2025.9.25' }] }] }],
  },
];

const npx = (spec: string): Partial<ServerConfig> => ({
  command: 'npx',
  args: ['-y', spec, 'https://mcp.example.com/sse'],
  package: { ecosystem: 'npm', name: spec.replace(/@[^@/]*$/, ''), ...(spec.lastIndexOf('@') > 0 ? { version: spec.slice(spec.lastIndexOf('@') + 1) } : {}), pinned: /@\d/.test(spec), runner: 'npx' },
});

const caseCtx = (): { advisories: MemoryAdvisoryDb } => ({ advisories: new MemoryAdvisoryDb(PAL_V001_CASE_ADVISORIES) });

const withDb = (cases: RuleCases): RuleCases => ({ valid: cases.valid.map((c) => ({ ...c, ctx: caseCtx() })), invalid: cases.invalid.map((c) => ({ ...c, ctx: caseCtx() })) });

// Built when a test, `palisade rules PAL-V001` or the docs ask for it, not at every start (a
// scan never reads it), as every other rule's case table.
const caseTable = (): RuleCases => withDb({
  valid: [
    { name: 'fixed version of mcp-remote', server: npx('mcp-remote@0.1.16') },
    { name: 'version before the range was introduced', server: npx('mcp-remote@0.0.4') },
    { name: 'a package no advisory names', server: npx('@modelcontextprotocol/server-everything@2026.8.31') },
    { name: 'npm range entirely above the fix', server: npx('mcp-remote@^0.1.16') },
    { name: 'no package at all (remote URL)', server: { transport: 'http', url: 'https://mcp.example.com/mcp', command: null, args: [] } },
    { name: 'PyPI package at the fixed version', server: { command: 'uvx', args: ['mcp-server-git==2025.9.25'], package: { ecosystem: 'PyPI', name: 'mcp-server-git', version: '2025.9.25', pinned: true, runner: 'uvx' } } },
  ],
  invalid: [
    { name: 'mcp-remote 0.1.15 (last vulnerable)', server: npx('mcp-remote@0.1.15'), evidence: /CVE-2025-6514.*fixed in 0\.1\.16/, severity: 'critical' },
    { name: 'mcp-remote 0.0.5 (first vulnerable)', server: npx('mcp-remote@0.0.5'), evidence: /GHSA-6xpm-ggf7-wc3p/, severity: 'critical' },
    { name: 'unpinned mcp-remote is possibly affected', server: npx('mcp-remote'), evidence: /possibly affected/, severity: 'critical' },
    { name: 'mcp-remote@latest is possibly affected', server: npx('mcp-remote@latest'), evidence: /possibly affected/ },
    { name: 'resolved version from the npx cache wins over the open spec', server: { ...npx('mcp-remote'), package: { ecosystem: 'npm', name: 'mcp-remote', pinned: false, resolvedVersion: '0.1.10', runner: 'npx' } }, evidence: /mcp-remote@0\.1\.10; .*; affected;/ },
    { name: 'PyPI name normalised (Mcp_Server.Git)', server: { command: 'uvx', args: ['Mcp_Server.Git==2025.7.1'], package: { ecosystem: 'PyPI', name: 'Mcp_Server.Git', version: '2025.7.1', pinned: true, runner: 'uvx' } }, evidence: /CVE-2025-68143/, severity: 'medium' },
  ],
});

let cases: RuleCases | undefined;

/** PAL-V001's case table, each case with a database of PAL_V001_CASE_ADVISORIES. */
export function knownVulnerablePackageCases(): RuleCases {
  return (cases ??= caseTable());
}

export const advisoryRules: readonly Rule[] = [knownVulnerablePackage];

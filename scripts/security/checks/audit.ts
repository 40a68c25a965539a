// npm audit against the registry, with a reviewed, dated allowlist of accepted advisories.
// When the registry's audit service cannot be reached, the check says it skipped and why;
// it never turns an unanswered question into a pass.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { notExpired, REPO_ROOT, runTool, tail, type CheckResult } from '../lib.js';

export interface AcceptedAdvisory {
  /** GHSA id or npm advisory URL */
  id: string;
  package: string;
  reason: string;
  reviewedBy: string;
  reviewed: string;
  expires: string;
}

interface AuditVia {
  source?: number;
  name?: string;
  title?: string;
  url?: string;
  severity?: string;
}

interface AuditReport {
  vulnerabilities?: Record<string, { severity: string; via: Array<AuditVia | string> }>;
  error?: { code?: string; summary?: string; detail?: string };
  message?: string;
  statusCode?: number;
}

export interface Advisory {
  id: string;
  package: string;
  severity: string;
  title: string;
}

const FAILING = new Set(['moderate', 'high', 'critical']);

export const AUDIT_ALLOWLIST = path.join(REPO_ROOT, 'scripts/security/audit-allowlist.json');

export function loadAuditAllowlist(file = AUDIT_ALLOWLIST): AcceptedAdvisory[] {
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { advisories?: AcceptedAdvisory[] };
  const list = doc.advisories ?? [];
  for (const a of list) {
    for (const k of ['id', 'package', 'reason', 'reviewedBy', 'reviewed', 'expires'] as const) {
      if (typeof a[k] !== 'string' || a[k].trim() === '') throw new Error(`${file}: an accepted advisory lacks "${k}"; every entry needs id, package, reason, reviewedBy, reviewed and expires.`);
    }
  }
  return list;
}

/** The advisories an `npm audit --json` report names (direct ones, not the "via another package" links). */
export function advisoriesOf(report: AuditReport): Advisory[] {
  const out = new Map<string, Advisory>();
  for (const [pkg, v] of Object.entries(report.vulnerabilities ?? {})) {
    for (const via of v.via) {
      if (typeof via === 'string') continue;
      const ghsa = via.url?.match(/GHSA-[\w-]+/)?.[0];
      const id = ghsa ?? via.url ?? String(via.source ?? via.title);
      out.set(`${id} ${pkg}`, { id, package: via.name ?? pkg, severity: via.severity ?? v.severity, title: via.title ?? '' });
    }
  }
  return [...out.values()];
}

/** Split advisories into those that fail the build and notes; an expired acceptance no longer counts. */
export function judgeAdvisories(found: Advisory[], accepted: AcceptedAdvisory[], today = new Date()): { failing: string[]; notes: string[] } {
  const failing: string[] = [];
  const notes: string[] = [];
  for (const a of found) {
    const ok = accepted.find((x) => x.id === a.id && x.package === a.package);
    const line = `${a.severity} ${a.id} in ${a.package}: ${a.title}`;
    if (ok && notExpired(ok.expires, today)) notes.push(`accepted until ${ok.expires}: ${line} (${ok.reason})`);
    else if (ok) failing.push(`acceptance expired on ${ok.expires}, review it again: ${line}`);
    else if (FAILING.has(a.severity)) failing.push(line);
    else notes.push(line);
  }
  for (const x of accepted) if (!notExpired(x.expires, today)) notes.push(`allowlist entry ${x.id} (${x.package}) expired on ${x.expires}; remove or review it`);
  return { failing, notes };
}

const UNREACHABLE = /E405|405 Method Not Allowed|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|network|audit endpoint returned an error|offline/i;

export async function checkAudit(): Promise<CheckResult> {
  let accepted: AcceptedAdvisory[];
  try {
    accepted = loadAuditAllowlist();
  } catch (err) {
    return { status: 'fail', summary: 'the audit allowlist cannot be read', details: [(err as Error).message] };
  }
  // ~/.npmrc may say audit=false: ask for the audit explicitly.
  const r = await runTool('npm', ['audit', '--audit=true', '--json', '--workspaces', '--include-workspace-root'], { timeoutMs: 120_000 });
  let report: AuditReport;
  try {
    report = JSON.parse(r.stdout) as AuditReport;
  } catch {
    if (UNREACHABLE.test(r.stderr)) return { status: 'skip', summary: 'npm audit skipped: the registry audit service is unreachable', details: tail(r.stderr, 3) };
    return { status: 'fail', summary: 'npm audit gave no readable answer', details: tail(r.stdout + r.stderr) };
  }
  if (report.error || report.message) {
    const why = `${report.error?.code ?? ''} ${report.error?.summary ?? ''} ${report.message ?? ''}`.trim();
    if (UNREACHABLE.test(why) || UNREACHABLE.test(r.stderr)) {
      return { status: 'skip', summary: 'npm audit skipped: the registry audit service did not answer, so nothing was checked', details: [why, 'Run `npm run security` where registry.npmjs.org is reachable to audit dependencies.'] };
    }
    return { status: 'fail', summary: 'npm audit failed', details: [why] };
  }
  const found = advisoriesOf(report);
  const { failing, notes } = judgeAdvisories(found, accepted);
  if (failing.length) return { status: 'fail', summary: `npm audit: ${failing.length} advisories not accepted`, details: [...failing, ...notes] };
  return { status: 'pass', summary: `npm audit: ${found.length} advisories, none unaccepted at moderate or above`, details: notes };
}

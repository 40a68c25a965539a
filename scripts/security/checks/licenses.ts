// License check of the production dependency tree (package-lock.json entries that are not
// dev-only), against an allowlist of licences and a short list of reviewed exceptions.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, type CheckResult } from '../lib.js';

export interface LicenseAllowlist {
  licenses: string[];
  exceptions: Array<{ package: string; license: string; reason: string }>;
}

export const LICENSE_ALLOWLIST = path.join(REPO_ROOT, 'scripts/security/license-allowlist.json');

interface LockEntry {
  name?: string;
  version?: string;
  license?: string | { type?: string };
  dev?: boolean;
  link?: boolean;
}

/**
 * Is an SPDX expression acceptable? `A OR B` needs one allowed side, `A AND B` both;
 * parentheses group; `WITH` exceptions are judged by their licence. Anything unparsable is not.
 */
export function licenseAllowed(expression: string, allowed: ReadonlySet<string>): boolean {
  const tokens = expression.replace(/[()]/g, ' $& ').split(/\s+/).filter(Boolean);
  let pos = 0;
  const atom = (): boolean => {
    const t = tokens[pos++];
    if (t === undefined) throw new Error('unexpected end');
    if (t === '(') {
      const v = or();
      if (tokens[pos++] !== ')') throw new Error('missing )');
      return v;
    }
    if (/^(?:AND|OR|WITH|\))$/i.test(t)) throw new Error(`unexpected ${t}`);
    let ok = allowed.has(t.replace(/\+$/, ''));
    if (tokens[pos]?.toUpperCase() === 'WITH') {
      pos += 2;
      ok = ok && tokens[pos - 1] !== undefined;
    }
    return ok;
  };
  const and = (): boolean => {
    let v = atom();
    while (tokens[pos]?.toUpperCase() === 'AND') {
      pos++;
      v = atom() && v;
    }
    return v;
  };
  const or = (): boolean => {
    let v = and();
    while (tokens[pos]?.toUpperCase() === 'OR') {
      pos++;
      v = and() || v;
    }
    return v;
  };
  try {
    const v = or();
    return pos === tokens.length && v;
  } catch {
    return false;
  }
}

export interface ProductionPackage {
  name: string;
  version: string;
  license: string | undefined;
  location: string;
}

/** Production (non-dev) third-party packages recorded in a package-lock.json (v2/v3). */
export function productionPackages(lock: { packages?: Record<string, LockEntry> }, root = REPO_ROOT): ProductionPackage[] {
  const out: ProductionPackage[] = [];
  for (const [location, e] of Object.entries(lock.packages ?? {})) {
    if (!location.includes('node_modules/') || e.dev || e.link) continue;
    const name = e.name ?? location.slice(location.lastIndexOf('node_modules/') + 'node_modules/'.length);
    let license = typeof e.license === 'string' ? e.license : e.license?.type;
    if (!license) {
      // old lockfiles leave the licence out: read the installed package.json
      try {
        const pj = JSON.parse(readFileSync(path.join(root, location, 'package.json'), 'utf8')) as { license?: unknown; licenses?: Array<{ type?: string }> };
        license = typeof pj.license === 'string' ? pj.license : pj.licenses?.map((l) => l.type).filter(Boolean).join(' OR ') || undefined;
      } catch {
        license = undefined;
      }
    }
    out.push({ name, version: e.version ?? '?', license, location });
  }
  return out;
}

export function judgeLicenses(pkgs: ProductionPackage[], list: LicenseAllowlist): string[] {
  const allowed = new Set(list.licenses);
  const problems: string[] = [];
  for (const p of pkgs) {
    if (p.license && licenseAllowed(p.license, allowed)) continue;
    const ex = list.exceptions.find((x) => x.package === p.name && x.license === (p.license ?? ''));
    if (ex) continue;
    problems.push(`${p.name}@${p.version} (${p.location}): licence ${p.license ? `"${p.license}" is not on the allowlist` : 'is not declared'}; review it and add it to scripts/security/license-allowlist.json with a reason, or replace the package`);
  }
  return problems;
}

export async function checkLicenses(): Promise<CheckResult> {
  let list: LicenseAllowlist;
  let lock: { packages?: Record<string, LockEntry> };
  try {
    list = JSON.parse(readFileSync(LICENSE_ALLOWLIST, 'utf8')) as LicenseAllowlist;
    lock = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package-lock.json'), 'utf8')) as typeof lock;
  } catch (err) {
    return { status: 'fail', summary: 'cannot read package-lock.json or the licence allowlist', details: [(err as Error).message] };
  }
  const pkgs = productionPackages(lock);
  const problems = judgeLicenses(pkgs, list);
  if (problems.length) return { status: 'fail', summary: `licences: ${problems.length} of ${pkgs.length} production packages not allowed`, details: problems };
  return { status: 'pass', summary: `licences: ${pkgs.length} production packages, all on the allowlist` };
}

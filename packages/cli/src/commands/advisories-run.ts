// The actions behind `palisade advisories ...`. Output is plain text (or --json); errors a user
// can meet are one sentence on stderr saying what to do, with exit code 1.
import { advisorySeverity, fixedVersions, type AdvisoryDb, type OsvRecord } from '@palisade/core';
import path from 'node:path';
import { stateDirPath } from '@palisade/agent';
import { importAdvisories, ImportError, loadAdvisories, readAdvisorySource, SyncError, type ImportSummary } from '@palisade/agent/advisories';

const out = (t: string): void => void process.stdout.write(t);
const err = (t: string): void => void process.stderr.write(`palisade: ${t}\n`);

function reasonsText(reasons: readonly string[], skipped: number): string {
  if (!skipped) return '';
  const shown = reasons.slice(0, 10).map((r) => `  skipped ${r}\n`).join('');
  return shown + (skipped > 10 ? `  ... and ${skipped - 10} more skipped\n` : '');
}

export async function runImport(source: string, flags: { json?: boolean }): Promise<number> {
  let s: ImportSummary;
  // a progress line on a terminal only: large exports take a while
  let shown = false;
  const onProgress = process.stderr.isTTY
    ? (n: number): void => {
        shown = true;
        process.stderr.write(`\rpalisade: ${n} files read...`);
      }
    : undefined;
  try {
    s = await importAdvisories(source, { stateDir: stateDirPath(), onProgress });
  } catch (e) {
    if (shown) process.stderr.write('\r\u001b[K');
    if (e instanceof ImportError) {
      err(e.message);
      return 1;
    }
    throw e;
  }
  if (shown) process.stderr.write('\r\u001b[K');
  if (flags.json) {
    out(JSON.stringify(s, null, 2) + '\n');
    return 0;
  }
  if (s.kind === 'kev') {
    const { db, bundled, store } = loadAdvisories();
    const marked = countKnownExploited(db, [...bundled.records(), ...(store?.all() ?? [])]);
    out(`Imported the CISA KEV catalog: ${s.kev?.cves ?? 0} known-exploited CVEs; ${marked} advisor${marked === 1 ? 'y' : 'ies'} in the database ${marked === 1 ? 'is' : 'are'} among them and now ${marked === 1 ? 'counts' : 'count'} as critical.\n`);
  } else {
    out(`Imported ${source} (${s.kind}): ${s.added} added, ${s.updated} updated, ${s.unchanged} unchanged, ${s.skipped} skipped. ${s.total} imported advisories in total.\n`);
  }
  out(reasonsText(s.reasons, s.skipped));
  return 0;
}

/**
 * `import --server`: the same sources, stored in the backend's database; then every
 * organisation whose servers run a changed package is re-matched (alerts for newly affected
 * servers, one per server per host).
 */
export async function runServerImport(source: string, flags: { json?: boolean; data?: string }): Promise<number> {
  let read;
  try {
    read = await readAdvisorySource(source);
  } catch (e) {
    if (e instanceof ImportError) {
      err(e.message);
      return 1;
    }
    throw e;
  }
  const server = await import('@palisade/server');
  const dataDir = path.resolve(flags.data ?? process.env.PALISADE_DATA_DIR ?? './.palisade-data');
  let store;
  try {
    store = server.openDatabase({ databaseUrl: process.env.DATABASE_URL || undefined, dataDir, poolSize: 2 });
    await server.migrate(store);
  } catch (e) {
    err(`cannot open the backend database (${e instanceof Error ? e.message.split('\n')[0] : String(e)}); set DATABASE_URL or give the data folder of palisade serve with --data.`);
    await store?.close();
    return 1;
  }
  try {
    let summary: Record<string, unknown>;
    if (read.kind === 'kev') {
      const cves = await server.storeKnownExploited(store, read.kev?.cves ?? []);
      const r = await server.rematchWatched(store);
      summary = { kind: 'kev', cves, skipped: read.skipped, reasons: read.reasons, ...r };
      if (!flags.json) out(`Stored the CISA KEV catalog in the backend: ${cves} known-exploited CVEs. Re-matched ${r.organisations} organisation(s): ${r.newMatches} new matches, ${r.alerts} alerts raised.\n`);
    } else {
      const stored = await server.storeAdvisories(store, read.records, { source: 'import' });
      const r = await server.rematchAfterImport(store, stored.changedPackages);
      summary = { kind: read.kind, added: stored.added, updated: stored.updated, unchanged: stored.unchanged, skipped: read.skipped + stored.skipped, reasons: [...read.reasons, ...stored.reasons], ...r };
      if (!flags.json) out(`Stored ${source} (${read.kind}) in the backend: ${stored.added} added, ${stored.updated} updated, ${stored.unchanged} unchanged, ${read.skipped + stored.skipped} skipped. Re-matched ${r.organisations} organisation(s): ${r.newMatches} new matches, ${r.alerts} alerts raised.\n`);
    }
    if (flags.json) out(JSON.stringify(summary, null, 2) + '\n');
    else out(reasonsText(read.reasons, read.skipped));
    return 0;
  } finally {
    await store.close();
  }
}

function countKnownExploited(db: AdvisoryDb, records: readonly OsvRecord[]): number {
  const ids = new Set<string>();
  for (const r of records) if (db.isKnownExploited(r)) ids.add(r.id);
  return ids.size;
}

export async function runSync(flags: { api: string; home?: string; platform?: 'darwin' | 'linux' | 'win32'; path?: string[]; config?: string[]; json?: boolean }): Promise<number> {
  const { locationContext, discoverServers } = await import('@palisade/agent');
  const { syncAdvisories } = await import('@palisade/agent/advisories');
  // the scan pipeline's discovery step: the same packages and installed versions as `palisade scan`
  const discovery = await discoverServers({ loc: locationContext({ platform: flags.platform, home: flags.home }), paths: flags.path, configFiles: flags.config });
  const packages = discovery.servers.flatMap((s) => (s.package ? [s.package] : []));
  try {
    const s = await syncAdvisories(packages, { stateDir: stateDirPath(), api: flags.api });
    if (flags.json) out(JSON.stringify(s, null, 2) + '\n');
    else {
      out(`Asked ${s.api} about ${s.queried} package${s.queried === 1 ? '' : 's'}: ${s.found} advisories found, ${s.added} added, ${s.updated} updated, ${s.unchanged} already current, ${s.skipped} skipped. ${s.total} imported advisories in total.\n`);
      if (s.queried === 0) out('No npm or PyPI packages were found in the MCP configs on this machine; nothing to ask.\n');
      out(reasonsText(s.reasons, s.skipped));
    }
    return 0;
  } catch (e) {
    if (e instanceof SyncError) {
      err(e.message);
      return 1;
    }
    throw e;
  }
}

function line(r: OsvRecord, db: AdvisoryDb): string {
  const sev = advisorySeverity(r, db.isKnownExploited(r));
  const pkgs = [...new Set((r.affected ?? []).flatMap((a) => (a.package ? [`${a.package.ecosystem}:${a.package.name}`] : [])))].slice(0, 3).join(', ');
  const aliases = (r.aliases ?? []).slice(0, 2).join(', ');
  return `${r.id.padEnd(22)} ${sev.severity.padEnd(9)}${sev.knownExploited ? 'KEV ' : ''}${aliases.padEnd(16)} ${pkgs}  ${(r.summary ?? '').replace(/\s+/g, ' ').slice(0, 80)}`;
}

export async function runList(flags: { package?: string; ecosystem: string; json?: boolean }): Promise<number> {
  const { db, bundled, store, warning } = loadAdvisories();
  if (warning) err(warning);
  let records: OsvRecord[];
  if (flags.package) records = [...db.forPackage(flags.ecosystem, flags.package)];
  else {
    const byId = new Map<string, OsvRecord>();
    for (const r of [...bundled.records(), ...(store?.all() ?? [])]) byId.set(r.id, db.get?.(r.id) ?? r);
    records = [...byId.values()];
  }
  records.sort((a, b) => a.id.localeCompare(b.id));
  if (flags.json) {
    out(JSON.stringify(records.map((r) => ({ id: r.id, aliases: r.aliases ?? [], summary: r.summary, modified: r.modified, severity: advisorySeverity(r, db.isKnownExploited(r)) })), null, 2) + '\n');
    return 0;
  }
  for (const r of records) out(line(r, db) + '\n');
  out(`${records.length} advisor${records.length === 1 ? 'y' : 'ies'} (${bundled.size} bundled, ${store?.size ?? 0} imported${store?.knownExploitedCount ? `, ${store.knownExploitedCount} known-exploited CVEs from KEV` : ''}).\n`);
  return 0;
}

export async function runShow(id: string, flags: { json?: boolean }): Promise<number> {
  const { db, warning } = loadAdvisories();
  if (warning) err(warning);
  const r = db.get?.(id);
  if (!r) {
    err(`no advisory ${id} is known; run \`palisade advisories list\` to see the ids, or import more with \`palisade advisories import PATH\`.`);
    return 1;
  }
  if (flags.json) {
    out(JSON.stringify(r, null, 2) + '\n');
    return 0;
  }
  const sev = advisorySeverity(r, db.isKnownExploited(r));
  const lines = [`${r.id}${r.aliases?.length ? ` (${r.aliases.join(', ')})` : ''}`, r.summary ?? '', '', `Severity: ${sev.severity} (${sev.basis})${sev.knownExploited ? ' - known exploited (CISA KEV)' : ''}`, `Modified: ${r.modified}${r.withdrawn ? `   Withdrawn: ${r.withdrawn}` : ''}`, ''];
  for (const a of r.affected ?? []) {
    if (!a.package) continue;
    const ranges = (a.ranges ?? []).filter((x) => x.type !== 'GIT').map((x) => x.events.map((e) => Object.entries(e).map(([k, v]) => `${k} ${v}`).join('')).join(', '));
    const fixes = fixedVersions(r, a.package.ecosystem, a.package.name);
    lines.push(`Affects ${a.package.ecosystem} ${a.package.name}: ${ranges.join(' | ') || '(listed versions)'}${a.versions?.length ? `; versions ${a.versions.slice(0, 10).join(', ')}${a.versions.length > 10 ? ' ...' : ''}` : ''}`);
    lines.push(`  fixed in: ${fixes.length ? fixes.join(', ') : 'no fixed version published'}`);
  }
  if (r.details) lines.push('', r.details.trim());
  if (r.references?.length) lines.push('', 'References:', ...r.references.slice(0, 20).map((x) => `  ${x.url}`));
  const note = r.database_specific?.palisade_note;
  if (typeof note === 'string') lines.push('', `Palisade note: ${note}`);
  out(lines.join('\n') + '\n');
  return 0;
}

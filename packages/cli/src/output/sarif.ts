// SARIF 2.1.0 for code-scanning dashboards: one rule entry per rule in the registry, one result
// per finding, each pointing at the line of the config file that declares the server, relative
// to the scanned root (%SRCROOT%) when the file is under it.
import { pathToFileURL } from 'node:url';
import type * as Sarif from 'sarif';
import { allRules, compareText, sha256, type ScanReport, type Severity, type RuleMeta } from '@palisade/core';

export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';

type SarifLevel = 'error' | 'warning' | 'note';

export function sarifLevel(severity: Severity): SarifLevel {
  if (severity === 'critical' || severity === 'high') return 'error';
  if (severity === 'medium') return 'warning';
  return 'note';
}

// GitHub code scanning reads security-severity as a CVSS-like number:
// >= 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low.
const SECURITY_SEVERITY: Record<Severity, string> = { critical: '9.5', high: '8.0', medium: '5.5', low: '3.0', info: '0.0' };

export function securitySeverity(severity: Severity): string {
  return SECURITY_SEVERITY[severity];
}

/** A config path as a SARIF artifact URI: file URI for absolute paths (POSIX or Windows), else relative. */
export function artifactUri(path: string): string {
  const win = /^([A-Za-z]):[\\/](.*)$/.exec(path);
  if (win) {
    const rest = win[2]!.split(/[\\/]+/).map(encodeURIComponent).join('/');
    return `file:///${win[1]!.toUpperCase()}:/${rest}`;
  }
  if (path.startsWith('/')) return pathToFileURL(path).href;
  return path.split(/[\\/]+/).map(encodeURIComponent).join('/');
}

/** A PascalCase identifier from a rule title, for SARIF's reportingDescriptor.name. */
function ruleName(title: string): string {
  const name = title
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');
  return name || 'Rule';
}

function ruleEntry(meta: RuleMeta): Sarif.ReportingDescriptor {
  const entry: Sarif.ReportingDescriptor = {
    id: meta.id,
    name: ruleName(meta.title),
    shortDescription: { text: meta.title },
    fullDescription: { text: meta.rationale },
    help: { text: meta.remediation, markdown: `**${meta.title}**\n\n${meta.rationale}\n\n**Remediation:** ${meta.remediation}` },
    defaultConfiguration: { level: sarifLevel(meta.severity) },
    properties: { 'security-severity': securitySeverity(meta.severity), tags: ['security', 'mcp', meta.category], precision: 'high', 'problem.severity': sarifLevel(meta.severity) === 'note' ? 'recommendation' : sarifLevel(meta.severity) },
  };
  const ref = meta.references?.find((r) => /^https?:\/\//.test(r));
  if (ref) entry.helpUri = ref;
  return entry;
}

export interface SarifOptions {
  /** rule metadata to describe; defaults to every rule in the registry */
  rules?: readonly RuleMeta[];
  /**
   * The scanned root (the --path folder, else the home folder): config files under it are
   * written relative to %SRCROOT%, which originalUriBaseIds maps to this folder, so code-scanning
   * dashboards can place them in a checkout. Files outside it keep an absolute file URI.
   */
  root?: string;
}

/** The base id SARIF consumers (GitHub code scanning, VS Code's SARIF viewer) resolve against the checkout. */
export const SRCROOT = '%SRCROOT%';

/** A folder as a file URI ending in '/', as originalUriBaseIds requires. */
function folderUri(dir: string): string {
  const uri = artifactUri(dir);
  return uri.endsWith('/') ? uri : `${uri}/`;
}

/** configPath relative to root with '/' separators, or undefined when it is not under root. */
export function relativeToRoot(configPath: string, root: string): string | undefined {
  const norm = (p: string) => p.replace(/\\/g, '/').replace(/\/+$/, '');
  const file = norm(configPath);
  const base = norm(root);
  const win = /^[A-Za-z]:\//.test(base);
  const prefix = `${base}/`;
  const under = win ? file.toLowerCase().startsWith(prefix.toLowerCase()) : file.startsWith(prefix);
  if (!under || base === '') return undefined;
  return file.slice(prefix.length);
}

function artifactLocation(configPath: string, root: string | undefined): Sarif.ArtifactLocation {
  const rel = root === undefined ? undefined : relativeToRoot(configPath, root);
  if (rel === undefined) return { uri: artifactUri(configPath) };
  return { uri: rel.split('/').map(encodeURIComponent).join('/'), uriBaseId: SRCROOT };
}

export function renderSarif(report: ScanReport, opts: SarifOptions = {}): string {
  const metas = [...(opts.rules ?? allRules.map((r) => r.meta))];
  const known = new Set(metas.map((m) => m.id));
  // A finding from a rule outside the registry (say, a newer server's rule) still needs an entry.
  const stray = [...report.servers.flatMap((s) => s.findings), ...report.findings].filter((f) => !known.has(f.ruleId));
  for (const f of stray) {
    if (known.has(f.ruleId)) continue;
    known.add(f.ruleId);
    metas.push({ id: f.ruleId, title: f.title, severity: f.severity, category: 'config', rationale: f.title, remediation: `Run \`palisade rules ${f.ruleId}\` for details.` });
  }
  metas.sort((a, b) => compareText(a.id, b.id));
  const rules = metas.map(ruleEntry);
  const index = new Map(rules.map((r, i) => [r.id, i]));

  const results: Sarif.Result[] = [];
  for (const s of report.servers) {
    for (const f of s.findings) {
      results.push({
        ruleId: f.ruleId,
        ruleIndex: index.get(f.ruleId),
        level: sarifLevel(f.severity),
        message: { text: `${s.name} (${s.client}): ${f.message}` },
        locations: [location(s, opts.root)],
        partialFingerprints: { 'palisadeFinding/v1': sha256(`${s.id}\0${f.ruleId}\0${f.evidence}`) },
        properties: { severity: f.severity, serverId: s.id, server: s.name, client: s.client, score: s.score, level: s.level, evidence: f.evidence },
      });
    }
  }
  const byId = new Map(report.servers.map((s) => [s.id, s]));
  for (const f of report.findings) {
    const involved = f.servers.map((id) => byId.get(id)).filter((s) => s !== undefined);
    results.push({
      ruleId: f.ruleId,
      ruleIndex: index.get(f.ruleId),
      level: sarifLevel(f.severity),
      message: { text: `${involved.map((s) => s.name).join(', ') || 'several servers'}: ${f.message}` },
      locations: involved.length > 0 ? involved.map((s) => location(s, opts.root)) : [],
      partialFingerprints: { 'palisadeFinding/v1': sha256(`${f.servers.join(',')}\0${f.ruleId}\0${f.evidence}`) },
      properties: { severity: f.severity, servers: f.servers, evidence: f.evidence },
    });
  }

  const notifications: Sarif.Notification[] = report.clients
    .filter((c) => c.error)
    .map((c) => ({
      level: 'warning',
      message: { text: `${c.name}: ${c.error}` },
      locations: [{ physicalLocation: { artifactLocation: artifactLocation(c.configPath, opts.root) } }],
    }));

  const sarif: Sarif.Log = {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'Palisade',
            semanticVersion: report.agent.version,
            version: report.agent.version,
            rules,
          },
        },
        ...(opts.root !== undefined ? { originalUriBaseIds: { [SRCROOT]: { uri: folderUri(opts.root), description: { text: 'The folder that was scanned (the --path folder, else the home folder).' } } } } : {}),
        invocations: [{ executionSuccessful: true, endTimeUtc: report.scannedAt, toolExecutionNotifications: notifications }],
        results,
        properties: { summary: report.summary, host: report.host },
      },
    ],
  };
  return JSON.stringify(sarif, null, 2) + '\n';
}

function location(s: { configPath: string; client: string; name: string; configLine?: number }, root: string | undefined): Sarif.Location {
  return {
    physicalLocation: { artifactLocation: artifactLocation(s.configPath, root), ...(s.configLine ? { region: { startLine: s.configLine } } : {}) },
    logicalLocations: [{ name: s.name, fullyQualifiedName: `${s.client}/${s.name}`, kind: 'module' }],
  };
}

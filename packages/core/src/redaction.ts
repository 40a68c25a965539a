// Redaction of whole servers and whole reports: the one function every path that shows,
// spools, uploads or stores a scan goes through (discovery for each server, `report` before
// the spool, the backend when it accepts a report). Built on secrets.ts, which decides what a
// secret is; this module decides where in a report to look. Idempotent: a redacted report
// comes back unchanged.
import type { ScanReport, SecretSignal, ServerConfig, Tool } from './model.js';
import { classifyValueShared, envDisablesTls, redactArgs, redactFreeText, redactUrl } from './secrets.js';
import { shallowCopy } from './copy.js';

export interface RedactedServer<T extends ServerConfig = ServerConfig> {
  server: T;
  /** secrets found by this pass (also merged into `server.secrets`) */
  found: SecretSignal[];
}

const text = (v: unknown): string => (typeof v === 'string' ? redactFreeText(v) : (v as string));
const texts = (v: unknown): string[] => (Array.isArray(v) ? v.map((x) => (typeof x === 'string' ? redactFreeText(x) : x)) : (v as string[]));

function signalKey(s: SecretSignal): string {
  return `${s.location}\u0000${s.name}\u0000${s.type}`;
}

/** Findings worth a signal: a value hidden only because it was not plainly harmless is not one. */
function worthSignal(type: string): boolean {
  return type !== 'url-query-value';
}

function redactTool(tool: Tool): Tool {
  if (!tool || typeof tool !== 'object') return tool;
  const out: Tool = { ...tool, name: text(tool.name) };
  if (typeof tool.description === 'string') out.description = text(tool.description);
  if (typeof tool.schemaText === 'string') out.schemaText = text(tool.schemaText);
  if (tool.annotations && typeof tool.annotations === 'object') {
    const a: NonNullable<Tool['annotations']> = {};
    for (const [k, v] of Object.entries(tool.annotations)) a[k] = typeof v === 'string' ? redactFreeText(v) : v;
    out.annotations = a;
  }
  return out;
}

/**
 * A copy of one server with every secret value redacted in its command, arguments, URL,
 * working folder, names, tools and probe error, and a signal for each secret found in the
 * command line or URL (the arg index or URL part, the kind; never the value), merged into
 * `secrets` so PAL-C008 and PAL-C009 report them.
 */
export function redactServer<T extends ServerConfig>(server: T): RedactedServer<T> {
  const found: SecretSignal[] = [];
  const s: T = shallowCopy(server);
  const command = typeof server.command === 'string' ? server.command : null;
  if (command !== null) {
    const r = redactArgs([command]);
    s.command = r.args[0] ?? command;
    for (const f of r.found) if (worthSignal(f.type)) found.push({ location: 'arg', name: 'command', type: f.type });
  }
  // an argument that was redacted, as it was and as it is now (a package ref read from it goes too)
  const changed = new Map<string, string>();
  if (Array.isArray(server.args)) {
    // the list itself when every argument is a string (redactArgs only reads it), else their text
    const args = server.args.every((a) => typeof a === 'string') ? server.args : server.args.map((a) => (typeof a === 'string' ? a : String(a)));
    const r = redactArgs(args, command);
    s.args = r.args;
    for (const f of r.found) {
      changed.set(args[f.index]!, r.args[f.index]!);
      if (worthSignal(f.type)) found.push({ location: 'arg', name: String(f.index), type: f.type });
    }
  }
  const pkgText = (v: string): string => {
    for (const [before, after] of changed) if (v === before || (before.length >= 6 && v.includes(before))) return after === before ? text(v) : '<redacted>';
    return text(v);
  };
  if (typeof server.url === 'string') {
    const r = redactUrl(server.url);
    s.url = redactFreeText(r.url);
    for (const type of new Set(r.found)) if (worthSignal(type)) found.push({ location: 'url', name: type === 'url-credentials' ? 'userinfo' : 'query', type });
  }
  if (typeof server.cwd === 'string') s.cwd = text(server.cwd);
  s.name = text(server.name);
  s.configPath = text(server.configPath);
  if (typeof server.projectPath === 'string') s.projectPath = text(server.projectPath);
  s.envNames = texts(server.envNames);
  s.headerNames = texts(server.headerNames);
  if (server.autoApprove) s.autoApprove = texts(server.autoApprove);
  if (server.package && typeof server.package === 'object') {
    s.package = { ...server.package, name: pkgText(server.package.name), ...(typeof server.package.version === 'string' ? { version: pkgText(server.package.version) } : {}), ...(typeof server.package.resolvedVersion === 'string' ? { resolvedVersion: text(server.package.resolvedVersion) } : {}) };
  }
  if (Array.isArray(server.tools)) s.tools = server.tools.map(redactTool);
  if (server.probe && typeof server.probe === 'object' && typeof server.probe.error === 'string') s.probe = { ...server.probe, error: text(server.probe.error) };
  if (Array.isArray(server.secrets)) s.secrets = server.secrets.map((x) => (x && typeof x === 'object' ? { ...x, name: text(x.name), type: text(x.type) } : x));
  if (found.length) {
    const have = new Set((s.secrets ?? []).map(signalKey));
    const merged = [...(s.secrets ?? [])];
    for (const f of found) {
      if (have.has(signalKey(f))) continue;
      merged.push(f);
      have.add(signalKey(f));
    }
    s.secrets = merged;
  }
  return { server: s, found };
}

/**
 * A copy of a whole report with every secret value redacted: each server (see redactServer),
 * the clients' paths and errors, the host fields, and the text of every finding.
 */
export function redactReport<R extends ScanReport>(report: R): R {
  const out: R = { ...report };
  if (Array.isArray(report.servers)) {
    out.servers = report.servers.map((srv) => {
      const { server } = redactServer(srv);
      return Array.isArray(srv.findings) ? { ...server, findings: srv.findings.map((f) => ({ ...f, title: text(f.title), message: text(f.message), evidence: text(f.evidence) })) } : server;
    });
  }
  if (Array.isArray(report.findings)) out.findings = report.findings.map((f) => ({ ...f, title: text(f.title), message: text(f.message), evidence: text(f.evidence) }));
  if (Array.isArray(report.clients)) out.clients = report.clients.map((c) => ({ ...c, name: text(c.name), configPath: text(c.configPath), ...(typeof c.error === 'string' ? { error: text(c.error) } : {}) }));
  if (report.host && typeof report.host === 'object') out.host = { ...report.host, hostname: text(report.host.hostname), user: text(report.host.user), os: text(report.host.os) };
  return out;
}


export interface ValueSignals {
  envNames: string[];
  headerNames: string[];
  /** literal secrets among the values (name and kind, never the value) */
  secrets: SecretSignal[];
  /** an env setting turns TLS verification or transport security off */
  tlsVerifyDisabled: boolean;
}

/**
 * Classify env and header values in memory (see classifyValue) and keep only what may leave:
 * the names, a signal for each literal secret, and whether an env setting turns transport
 * security off (NODE_TLS_REJECT_UNAUTHORIZED=0, OAUTHLIB_INSECURE_TRANSPORT=1 ...). The values
 * themselves are dropped here.
 */
export function classifyEnvAndHeaders(env: Record<string, unknown> | undefined | null, headers: Record<string, unknown> | undefined | null): ValueSignals {
  const out: ValueSignals = { envNames: [], headerNames: [], secrets: [], tlsVerifyDisabled: false };
  // indexed loops over the names (every server of a scan comes through here)
  if (env) {
    const names = Object.keys(env);
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      const v = valueText(env[name]);
      out.envNames.push(name);
      const cls = classifyValueShared(name, v);
      if (cls.kind === 'secret') out.secrets.push({ location: 'env', name, type: cls.secretType ?? 'generic-secret' });
      if (envDisablesTls(name, v)) out.tlsVerifyDisabled = true;
    }
  }
  if (headers) {
    const names = Object.keys(headers);
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      out.headerNames.push(name);
      const cls = classifyValueShared(name, valueText(headers[name]));
      if (cls.kind === 'secret') out.secrets.push({ location: 'header', name, type: cls.secretType ?? 'generic-secret' });
    }
  }
  return out;
}

function valueText(value: unknown): string {
  return typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value);
}

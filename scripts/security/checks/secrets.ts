// Secret scanning of the working tree (tracked and new, unignored files) and of every line
// ever added in git history, with core's token shapes. Test fixtures hold fake but
// well-shaped secrets on purpose: their paths are listed, with reasons, in
// secret-allowlist.json. A finding names the file, line and token kind, never the value.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { detectSecret } from '@palisade/core';
import { globToRegExp, REPO_ROOT, runTool, type CheckResult } from '../lib.js';

export interface SecretAllowEntry {
  path: string;
  reason: string;
}

export interface SecretFinding {
  where: string;
  path: string;
  line: number;
  type: string;
}

export const SECRET_ALLOWLIST = path.join(REPO_ROOT, 'scripts/security/secret-allowlist.json');
const MAX_FILE_BYTES = 2 * 1024 * 1024;

export function loadSecretAllowlist(file = SECRET_ALLOWLIST): SecretAllowEntry[] {
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { paths?: SecretAllowEntry[] };
  const list = doc.paths ?? [];
  for (const e of list) if (!e.path || !e.reason) throw new Error(`${file}: every entry needs a path glob and a reason.`);
  return list;
}

export function pathAllowed(p: string, allow: readonly SecretAllowEntry[]): boolean {
  return allow.some((e) => globToRegExp(e.path).test(p));
}

/** Secret-shaped lines of one text; line numbers start at 1. */
export function scanText(text: string, file: string, where: string): SecretFinding[] {
  if (!detectSecret(text)) return [];
  const out: SecretFinding[] = [];
  text.split('\n').forEach((line, i) => {
    const type = detectSecret(line);
    if (type) out.push({ where, path: file, line: i + 1, type });
  });
  return out;
}

/** Lines added in each commit's patch (`git log -p` output), attributed to their file. */
export function scanHistoryPatch(patch: string): SecretFinding[] {
  const out: SecretFinding[] = [];
  let commit = '';
  let file = '';
  let line = 0;
  for (const raw of patch.split('\n')) {
    if (raw.startsWith('commit ')) commit = raw.slice(7, 19);
    else if (raw.startsWith('+++ ')) file = raw.startsWith('+++ b/') ? raw.slice(6) : '';
    else if (raw.startsWith('@@')) line = Number(/\+(\d+)/.exec(raw)?.[1] ?? 0) - 1;
    else if (raw.startsWith('+') && file) {
      line++;
      const type = detectSecret(raw.slice(1));
      if (type) out.push({ where: `commit ${commit}`, path: file, line, type });
    } else if (!raw.startsWith('-')) line++;
  }
  return out;
}

export async function scanTree(root = REPO_ROOT): Promise<SecretFinding[]> {
  const ls = await runTool('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root });
  if (ls.code !== 0) throw new Error(`git ls-files failed: ${ls.stderr.trim()}`);
  const out: SecretFinding[] = [];
  for (const file of new Set(ls.stdout.split('\0').filter(Boolean))) {
    let buf: Buffer;
    try {
      buf = readFileSync(path.join(root, file));
    } catch {
      continue; // deleted in the working tree
    }
    if (buf.length > MAX_FILE_BYTES || buf.includes(0)) continue; // binary or generated
    out.push(...scanText(buf.toString('utf8'), file, 'tree'));
  }
  return out;
}

export async function scanHistory(root = REPO_ROOT): Promise<SecretFinding[]> {
  const log = await runTool('git', ['log', '-p', '--all', '--no-color', '--no-ext-diff', '--unified=0', '--diff-filter=AM'], { cwd: root });
  if (log.code !== 0) throw new Error(`git log failed: ${log.stderr.trim()}`);
  return scanHistoryPatch(log.stdout);
}

export async function checkSecrets(root = REPO_ROOT): Promise<CheckResult> {
  let allow: SecretAllowEntry[];
  try {
    allow = loadSecretAllowlist();
  } catch (err) {
    return { status: 'fail', summary: 'the secret allowlist cannot be read', details: [(err as Error).message] };
  }
  const found = [...(await scanTree(root)), ...(await scanHistory(root))];
  const bad = found.filter((f) => !pathAllowed(f.path, allow));
  const fixtures = found.length - bad.length;
  if (bad.length) {
    return {
      status: 'fail',
      summary: `secrets: ${bad.length} secret-shaped values outside the listed test fixtures`,
      details: [...bad.slice(0, 40).map((f) => `${f.where}: ${f.path}:${f.line} looks like a ${f.type}`), 'Remove and rotate a real secret (history too); a fake fixture value belongs under a path listed in scripts/security/secret-allowlist.json.'],
    };
  }
  return { status: 'pass', summary: `secrets: tree and history clean (${fixtures} fake values in listed test fixtures)` };
}

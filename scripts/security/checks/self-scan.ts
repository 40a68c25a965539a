// Palisade scans itself: every project-level MCP config file in the repository (the files
// `palisade scan --path` looks for), except the deliberately risky test fixtures listed in
// self-scan-exclude.json, goes through the built CLI with --fail-on high. The home folder
// is an empty temporary one, so the machine's own AI clients are not part of the result.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { discoverers } from '@palisade/agent';
import { globToRegExp, REPO_ROOT, runTool, tail, type CheckResult } from '../lib.js';

export const SELF_SCAN_EXCLUDE = path.join(REPO_ROOT, 'scripts/security/self-scan-exclude.json');
const CLI = path.join(REPO_ROOT, 'packages/cli/bin/palisade.js');

/** Repository paths (relative, `/`-separated) that a --path walk would pick up as config files. */
export function projectConfigFiles(files: readonly string[]): string[] {
  const patterns = discoverers.flatMap((d) => d.projectFiles ?? []).map((p) => new RegExp(`(?:^|/)${globToRegExp(p).source.slice(1)}`));
  return files.filter((f) => patterns.some((re) => re.test(f)));
}

export async function checkSelfScan(root = REPO_ROOT): Promise<CheckResult> {
  const exclude = (JSON.parse(readFileSync(SELF_SCAN_EXCLUDE, 'utf8')) as { paths: Array<{ path: string }> }).paths.map((e) => globToRegExp(e.path));
  const ls = await runTool('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root });
  const all = projectConfigFiles(ls.stdout.split('\0').filter(Boolean));
  const files = all.filter((f) => !exclude.some((re) => re.test(f)));
  const home = mkdtempSync(path.join(os.tmpdir(), 'palisade-self-scan-'));
  try {
    const args = [CLI, 'scan', '--home', home, '--fail-on', 'high', '--json', ...files.flatMap((f) => ['--config', path.join(root, f)])];
    const r = await runTool(process.execPath, args, { cwd: root, timeoutMs: 120_000 });
    let servers = 0;
    let worst: string[] = [];
    try {
      const report = JSON.parse(r.stdout) as { servers: Array<{ name: string; configPath: string; level: string; findings: Array<{ ruleId: string; severity: string; title: string }> }> };
      servers = report.servers.length;
      worst = report.servers.flatMap((s) => s.findings.filter((f) => f.severity === 'high' || f.severity === 'critical').map((f) => `${path.relative(root, s.configPath)} ${s.name}: ${f.ruleId} ${f.severity} ${f.title}`));
    } catch {
      /* judged by the exit code below */
    }
    const what = `${files.length} project config files (${all.length - files.length} excluded test fixtures), ${servers} servers`;
    if (r.code === 0) return { status: 'pass', summary: `palisade scan --fail-on high: ${what}, nothing high or critical` };
    if (r.code === 1) return { status: 'fail', summary: `palisade scan --fail-on high found high or critical risk: ${what}`, details: worst };
    return { status: 'fail', summary: `palisade scan did not run (exit ${String(r.code)}); build it first with npm run build`, details: tail(r.stderr) };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

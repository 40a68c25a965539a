// Writes docs/agent-data.md: every file the agent reads, per client and OS, from the
// discoverers' own locations() (so the list cannot drift from the code; a test checks the
// page still names each one). Run: node --conditions=source --import tsx scripts/security/agent-data-doc.ts
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { discoverers, type ConfigLocation, type LocationContext, type Platform } from '@palisade/agent';
import { REPO_ROOT } from './lib.js';
import { redactionDocMarkdown } from '../../packages/core/src/redaction-doc.js';

const OS_NAMES: Record<Platform, string> = { darwin: 'macOS', linux: 'Linux', win32: 'Windows' };

/** A location context whose folders are the placeholders a reader recognises (~, %APPDATA%). */
export function placeholderContext(platform: Platform): LocationContext {
  if (platform === 'win32') {
    return { platform, home: '%USERPROFILE%', appData: '%APPDATA%', localAppData: '%LOCALAPPDATA%', xdgConfig: '%USERPROFILE%\\.config', env: {}, join: (...p) => path.win32.join(...p), systemRoot: 'C:\\' };
  }
  const appData = platform === 'darwin' ? '~/Library/Application Support' : '~/.config';
  return { platform, home: '~', appData, localAppData: appData, xdgConfig: '~/.config', env: {}, join: (...p) => path.posix.join(...p), systemRoot: '/' };
}

export function describeLocation(l: ConfigLocation): string {
  if (l.list?.childFile) return `${l.path} (each sub-folder's ${l.list.childFile})`;
  if (l.list?.suffixes) return `${l.path} (files ending ${l.list.suffixes.join(', ')})`;
  if (l.index) return `${l.path} (an index: the plugin config files it names are read too)`;
  return l.path;
}

export function locationsByClient(): Array<{ name: string; id: string; rows: Array<{ os: string; path: string; scope: string }>; projectFiles: string[] }> {
  return discoverers.map((d) => ({
    name: d.name,
    id: d.id,
    rows: (['darwin', 'linux', 'win32'] as const).flatMap((p) => d.locations(placeholderContext(p)).map((l) => ({ os: OS_NAMES[p], path: describeLocation(l), scope: l.scope }))),
    projectFiles: d.projectFiles ?? [],
  }));
}

export function renderAgentDataDoc(): string {
  const out: string[] = [
    '# What the agent reads',
    '',
    'Generated from the discoverers in `packages/agent/src/clients` by',
    '`node --conditions=source --import tsx scripts/security/agent-data-doc.ts`; a test',
    '(`test/security/agent-data-doc.test.ts`) fails when a location is missing here.',
    '',
    '`palisade scan` opens only the files below (those that exist), plus the project files listed',
    'per client under each folder given with `--path` (bounded depth; `node_modules`, build',
    'output and hidden folders are not descended into), plus files named with `--config`. It',
    'reads nothing else: not the files of folders a server is given, not other files next to',
    'the configs. Folders marked "files ending" or "each sub-folder" are listed one level deep.',
    'What it sends from them is in [SECURITY.md](../SECURITY.md#what-the-agent-reads-and-sends).',
    '',
    'Placeholders: `~` is the home folder; `%APPDATA%`, `%LOCALAPPDATA%`, `%USERPROFILE%` as on',
    'Windows. Environment overrides (for example `CLAUDE_CONFIG_DIR`, `CODEX_HOME`,',
    '`XDG_CONFIG_HOME`) move some of these; the scan honours them on the real machine and ignores',
    'them under `--home`. Managed (system-wide) files are read from the system root.',
    '',
    // what is redacted before anything is sent or shown (core's own examples, run for real)
    redactionDocMarkdown(),
  ];
  for (const c of locationsByClient()) {
    out.push(`## ${c.name} (\`${c.id}\`)`, '', '| OS | File | Scope |', '|---|---|---|');
    for (const r of c.rows) out.push(`| ${r.os} | \`${r.path}\` | ${r.scope} |`);
    if (c.projectFiles.length) out.push('', `Project files (with \`--path\`): ${c.projectFiles.map((f) => `\`${f}\``).join(', ')}.`);
    out.push('');
  }
  return out.join('\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(REPO_ROOT, 'scripts/security/agent-data-doc.ts')) {
  const file = path.join(REPO_ROOT, 'docs/agent-data.md');
  writeFileSync(file, renderAgentDataDoc());
  console.log(`wrote ${path.relative(REPO_ROOT, file)}`);
}

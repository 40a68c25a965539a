// The --path walk: find project-level config files (.mcp.json, .cursor/mcp.json, ...) below
// the given folders. Bounded: at most MAX_PROJECT_DEPTH levels below each root and
// MAX_PROJECT_DIRS folders in all; heavy and generated folders (node_modules, .git, build
// output, virtualenvs) and hidden folders are not descended into (a project's own dot-folders
// such as .cursor are still checked for config files); symbolic links to folders are followed
// once per real path, so a link loop ends.
import { promises as fs, type Dirent } from 'node:fs';
import path from 'node:path';
import type { ConfigLocation, Discoverer } from './clients/types.js';
import { errMessage } from './formats/file.js';

export const MAX_PROJECT_DEPTH = 6;
export const MAX_PROJECT_DIRS = 20_000;

const SKIP_DIRS = new Set(['node_modules', 'bower_components', 'vendor', 'dist', 'build', 'out', 'target', 'coverage', 'venv', 'env', '__pycache__', 'site-packages', 'Library', 'AppData', 'Pods', 'DerivedData']);

export interface ProjectFile {
  d: Discoverer;
  location: ConfigLocation;
}

export interface ProjectWalk {
  locations: ProjectFile[];
  errors: Array<{ path: string; error: string }>;
}

interface Pattern {
  d: Discoverer;
  /** path segments below the project root; the last may be `*.ext` (a folder listing) */
  segments: string[];
}

function patternsOf(discoverers: readonly Discoverer[]): Pattern[] {
  const out: Pattern[] = [];
  for (const d of discoverers) for (const f of d.projectFiles ?? []) out.push({ d, segments: f.split('/').filter(Boolean) });
  return out;
}

function locationFor(p: Pattern, root: string): ConfigLocation {
  const last = p.segments[p.segments.length - 1]!;
  if (last.startsWith('*')) {
    return { path: path.join(root, ...p.segments.slice(0, -1)), scope: 'project', projectPath: root, list: { suffixes: [last.slice(1)] } };
  }
  return { path: path.join(root, ...p.segments), scope: 'project', projectPath: root };
}

/** Walk the --path folders breadth-first, level by level, reading each folder's listing once. */
export async function findProjectFiles(roots: readonly string[], discoverers: readonly Discoverer[]): Promise<ProjectWalk> {
  const patterns = patternsOf(discoverers);
  const found: ProjectFile[] = [];
  const errors: ProjectWalk['errors'] = [];
  const visited = new Set<string>();
  let level: string[] = [];
  for (const r of roots) {
    const abs = path.resolve(r);
    try {
      const st = await fs.stat(abs);
      if (!st.isDirectory()) errors.push({ path: abs, error: 'not a folder; --path takes a project folder (use --config for a single file)' });
      else level.push(abs);
    } catch (err) {
      errors.push({ path: abs, error: `cannot open the folder: ${errMessage(err)}; check the --path value` });
    }
  }
  let dirsSeen = 0;
  for (let depth = 0; depth <= MAX_PROJECT_DEPTH && level.length > 0; depth++) {
    const next: string[] = [];
    await Promise.all(
      level.map(async (dir) => {
        let real: string;
        try {
          real = await fs.realpath(dir);
        } catch {
          return;
        }
        if (visited.has(real) || dirsSeen >= MAX_PROJECT_DIRS) return;
        visited.add(real);
        dirsSeen++;
        let entries: Dirent[];
        try {
          entries = await fs.readdir(dir, { withFileTypes: true });
        } catch {
          return; // unreadable folders are skipped: the walk is a search, not a promise
        }
        const names = new Set(entries.map((e) => e.name));
        for (const p of patterns) if (names.has(p.segments[0]!)) found.push({ d: p.d, location: locationFor(p, dir) });
        if (depth === MAX_PROJECT_DEPTH) return;
        for (const e of entries) {
          if (e.name.startsWith('.') || SKIP_DIRS.has(e.name)) continue;
          if (e.isDirectory()) next.push(path.join(dir, e.name));
          else if (e.isSymbolicLink()) {
            // followed only when it points at a folder; realpath dedup above stops loops
            try {
              if ((await fs.stat(path.join(dir, e.name))).isDirectory()) next.push(path.join(dir, e.name));
            } catch {
              // a dangling or looping link
            }
          }
        }
      }),
    );
    level = next;
  }
  return { locations: found, errors };
}

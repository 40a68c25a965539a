// Package references from launch commands: which package a server runs, from which
// ecosystem, at which version. Extended by the advisories work (PEP 440, more runners).
import type { PackageRef } from '../model.js';
import { BoundedMemo } from '../memo.js';

function readBasename(cmd: string): string {
  const parts = cmd.split(/[\\/]/);
  return (parts[parts.length - 1] ?? cmd).replace(/\.(?:cmd|exe|bat|ps1)$/i, '').toLowerCase();
}

// the same few commands (npx, uvx, docker, node ...) come again and again: each is read once;
// short commands only, so the memo stays small whatever a config or report holds
const basenames = new BoundedMemo<string, string>(4096);
const basename = (cmd: string): string => (cmd.length <= 256 ? basenames.get(cmd, readBasename) : readBasename(cmd));

/** The list itself when every item is a string (the usual case; callers only read it), else the strings of it. */
function stringsOf(args: readonly unknown[]): readonly string[] {
  for (let i = 0; i < args.length; i++) if (typeof args[i] !== 'string') return args.filter((a): a is string => typeof a === 'string');
  return args as readonly string[];
}

// made once: a regular expression literal inside a function is a new object every time it runs
const ENV_ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/;

/** Split `@scope/name@1.2.3` or `name@latest` into name and version. */
export function splitNpmSpec(spec: string): { name: string; version?: string } {
  const at = spec.lastIndexOf('@');
  if (at > 0) return { name: spec.slice(0, at), version: spec.slice(at + 1) };
  return { name: spec };
}

/** Split `pkg==1.2.3`, `pkg@1.2.3`, `pkg>=1` (PyPI). */
export function splitPypiSpec(spec: string): { name: string; version?: string; exact: boolean } {
  // read piece by piece (name, [extras], operator, version): no backtracking on hostile input
  const t = spec.trim();
  const name = /^[A-Za-z0-9][A-Za-z0-9._-]*/.exec(t)?.[0];
  if (!name) return { name: spec, exact: false };
  let rest = t.slice(name.length);
  if (rest.startsWith('[')) {
    const end = rest.indexOf(']');
    if (end < 0) return { name: spec, exact: false };
    rest = rest.slice(end + 1);
  }
  rest = rest.trimStart();
  const op = /^(?:===?|@|>=|<=|~=|!=|>|<)/.exec(rest)?.[0];
  const ver = op ? rest.slice(op.length).trim() : '';
  if (!op || !ver) return { name, exact: false };
  // `pkg@latest` names a moving tag, not a version: it is never a pin
  if (op === '@' && ver.toLowerCase() === 'latest') return { name, version: ver, exact: false };
  const exact = op === '@' || op === '==' || op === '===';
  return { name, version: exact ? ver : `${op}${ver}`, exact };
}

const EXACT_SEMVER = /^v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

function isGitSpec(spec: string): boolean {
  return /^(?:git\+|git:|github:|gitlab:|bitbucket:)|^https?:\/\/.*\.git(?:#.*)?$|^[\w-]+\/[\w.-]+(?:#.*)?$/.test(spec) && !spec.startsWith('@');
}

// Flags of npx/npm exec/pnpm dlx/bunx/yarn dlx that take a value.
const NPX_VALUE_FLAGS = new Set(['-p', '--package', '--registry', '--cache', '--userconfig', '-c', '--call', '--prefix', '-w', '--workspace']);
const UVX_VALUE_FLAGS = new Set(['--from', '--with', '--python', '-p', '--index', '--index-url', '--extra-index-url', '--default-index', '--with-requirements', '--directory', '--project', '--constraints', '--overrides']);

function firstPositional(args: readonly string[], valueFlags: Set<string>): { spec?: string; from?: string } {
  let from: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') return { spec: args[i + 1], from };
    if (a.startsWith('-')) {
      const [flag, inline] = a.split('=', 2) as [string, string | undefined];
      if ((flag === '--from' || flag === '-p' || flag === '--package') && (inline ?? args[i + 1])) from = inline ?? args[i + 1];
      if (valueFlags.has(flag) && inline === undefined) i++;
      continue;
    }
    return { spec: a, from };
  }
  return { from };
}

/** `https://host/x.tgz`, `git+ssh://...`, `file:` specs: code from a URL or a repository, not a registry package. */
function isUrlSpec(spec: string): boolean {
  return /^(?:https?|git|git\+[a-z]+|ssh|ftp):\/\//i.test(spec);
}

function npmRef(spec: string, runner: string): PackageRef {
  if (isGitSpec(spec) || isUrlSpec(spec)) return { ecosystem: 'git', name: spec, pinned: /#[0-9a-f]{40}$/.test(spec), runner };
  const { name, version } = splitNpmSpec(spec);
  const pinned = version !== undefined && EXACT_SEMVER.test(version);
  return version ? { ecosystem: 'npm', name, version, pinned, runner } : { ecosystem: 'npm', name, pinned: false, runner };
}

function pypiRef(spec: string, runner: string): PackageRef {
  if (/^git\+/.test(spec)) return { ecosystem: 'git', name: spec, pinned: /@[0-9a-f]{40}$/.test(spec), runner };
  const { name, version, exact } = splitPypiSpec(spec);
  return version ? { ecosystem: 'PyPI', name, version, pinned: exact, runner } : { ecosystem: 'PyPI', name, pinned: false, runner };
}

/** The package a server's command launches, if one can be told from the command line. */
export function parsePackageRef(command: string | null | undefined, args: readonly string[]): PackageRef | undefined {
  return launchedPackages(command, args)[0];
}

// npm packages that are themselves launchers of other servers: `npx @smithery/cli run @owner/server`
const NPM_LAUNCHERS: Record<string, { sub: RegExp; runner: string }> = {
  '@smithery/cli': { sub: /^(?:run|install)$/, runner: 'smithery run' },
  smithery: { sub: /^(?:run|install)$/, runner: 'smithery run' },
};

const DENO_VALUE_FLAGS = new Set(['-c', '--config', '--import-map', '--lock', '--cert', '--location', '--seed', '--v8-flags', '--inspect', '--inspect-brk']);
const DOCKER_GLOBAL_VALUE_FLAGS = new Set(['--context', '-c', '--config', '-H', '--host', '-l', '--log-level']);

/**
 * Every package a command line fetches and runs, outermost first, with wrappers unwrapped:
 * `mise exec -- bunx -y pkg@latest`, `env A=1 npx pkg`, `asdf exec npx pkg`, `cmd /c npx pkg`,
 * `npx -y @smithery/cli@latest run @owner/server` (the CLI from npm, then the server it runs),
 * `uv run --with pkg ...` (each --with), `deno run npm:pkg` / `jsr:` / a URL, `docker run image`.
 */
export function launchedPackages(command: string | null | undefined, args: readonly string[], depth = 0): PackageRef[] {
  if (!command || depth > 4) return [];
  const cmd = basename(command);
  const rest = stringsOf(args);
  // wrappers that run another command
  if (cmd === 'mise' || cmd === 'rtx') {
    if (rest[0] !== 'exec' && rest[0] !== 'x') return [];
    const dash = rest.indexOf('--');
    return dash >= 0 && rest[dash + 1] ? launchedPackages(rest[dash + 1], rest.slice(dash + 2), depth + 1) : [];
  }
  if (cmd === 'asdf' && rest[0] === 'exec' && rest[1]) return launchedPackages(rest[1], rest.slice(2), depth + 1);
  if (cmd === 'env' || cmd === 'nohup' || cmd === 'exec' || cmd === 'time') {
    let i = 0;
    while (i < rest.length && (rest[i]!.startsWith('-') || ENV_ASSIGNMENT.test(rest[i]!))) i += rest[i] === '-u' || rest[i] === '--unset' ? 2 : 1;
    return rest[i] ? launchedPackages(rest[i], rest.slice(i + 1), depth + 1) : [];
  }
  if (cmd === 'deno') {
    let i = 0;
    while (i < rest.length && rest[i]!.startsWith('-')) i++;
    if (rest[i] !== 'run' && rest[i] !== 'x') return [];
    const runner = `deno ${rest[i]}`;
    for (let j = i + 1; j < rest.length; j++) {
      const a = rest[j]!;
      if (a.startsWith('-')) {
        if (!a.includes('=') && DENO_VALUE_FLAGS.has(a)) j++;
        continue;
      }
      if (a.startsWith('npm:')) return [npmRef(a.slice(4), runner)];
      if (a.startsWith('jsr:')) {
        const { name, version } = splitNpmSpec(a.slice(4));
        const pinned = version !== undefined && EXACT_SEMVER.test(version);
        return [{ ecosystem: 'unknown', name: `jsr:${name}`, ...(version ? { version } : {}), pinned, runner }];
      }
      if (isUrlSpec(a)) return [{ ecosystem: 'git', name: a, pinned: false, runner }];
      return [];
    }
    return [];
  }
  const one = parseOne(cmd, command, rest, depth);
  return one;
}

function parseOne(cmd: string, command: string, args: readonly string[], depth: number): PackageRef[] {
  let rest = [...args];
  // `cmd /c npx ...` on Windows
  if ((cmd === 'cmd' || cmd === 'powershell' || cmd === 'pwsh') && rest.length >= 2 && /^[/-]c(?:ommand)?$/i.test(rest[0]!)) {
    const inner = rest.slice(1).join(' ').trim().split(/\s+/);
    return launchedPackages(inner[0], inner.slice(1), depth + 1);
  }
  switch (cmd) {
    case 'npx':
    case 'pnpx':
    case 'bunx': {
      return withInner(rest, cmd);
    }
    case 'npm':
    case 'pnpm':
    case 'yarn':
    case 'bun': {
      // global flags before the sub-command: `pnpm --silent dlx pkg`
      let k = 0;
      while (k < rest.length && rest[k]!.startsWith('-')) k++;
      const sub = rest[k];
      if (sub === 'exec' || sub === 'dlx' || sub === 'x') return withInner(rest.slice(k + 1), `${cmd} ${sub}`);
      return [];
    }
    case 'uvx':
    case 'pipx':
    case 'uv': {
      let runner: string = cmd;
      if (cmd === 'pipx') {
        if (rest[0] !== 'run') return [];
        rest = rest.slice(1);
        runner = 'pipx run';
      }
      if (cmd === 'uv') {
        if (rest[0] === 'tool' && rest[1] === 'run') {
          rest = rest.slice(2);
          runner = 'uv tool run';
        } else if (rest[0] === 'run') {
          // `uv run --with pkg [--with pkg2] cmd`: each --with is fetched for the run
          const withs: PackageRef[] = [];
          for (let i = 1; i < rest.length; i++) {
            const a = rest[i]!;
            if (a === '--') break;
            if (a === '--with' && rest[i + 1]) withs.push(...rest[++i]!.split(',').map((w) => pypiRef(w.trim(), 'uv run --with')));
            else if (a.startsWith('--with=')) withs.push(...a.slice(7).split(',').map((w) => pypiRef(w.trim(), 'uv run --with')));
          }
          return withs;
        } else return [];
      }
      const { spec, from } = firstPositional(rest, UVX_VALUE_FLAGS);
      const s = from ?? spec;
      return s ? [pypiRef(s, runner)] : [];
    }
    case 'docker':
    case 'podman': {
      // global flags (`docker --context x run`) and `docker container run`
      let k = 0;
      while (k < rest.length && rest[k]!.startsWith('-')) k += !rest[k]!.includes('=') && DOCKER_GLOBAL_VALUE_FLAGS.has(rest[k]!) ? 2 : 1;
      if (rest[k] === 'container') k++;
      if (rest[k] !== 'run') return [];
      const image = dockerImage(rest.slice(k + 1));
      if (!image) return [];
      const m = /^(.*?)(?::([\w.-]+))?(?:@(sha256:[0-9a-f]{64}))?$/.exec(image)!;
      const name = m[1] ?? image;
      const version = m[3] ?? m[2];
      return [{ ecosystem: 'docker', name, ...(version ? { version } : {}), pinned: Boolean(m[3]) || (Boolean(m[2]) && m[2] !== 'latest'), runner: cmd }];
    }
    case 'python':
    case 'python3':
    case 'py': {
      const m = rest.indexOf('-m');
      const mod = m >= 0 ? rest[m + 1] : undefined;
      const ref = mod ? pythonModuleRef(mod, cmd) : undefined;
      return ref ? [ref] : [];
    }
    default: {
      // `node /…/node_modules/pkg/dist/index.js` or a command inside a package folder
      const inModules = nodeModulesPackage(command) ?? (cmd === 'node' || cmd === 'bun' || cmd === 'deno' ? args.map((a) => nodeModulesPackage(a)).find(Boolean) : undefined);
      if (inModules) return [{ ecosystem: 'npm', name: inModules.name, pinned: false, runner: 'node_modules' }];
      if (/^python\d+(?:\.\d+)?$/.test(cmd)) return launchedPackages('python', args, depth + 1);
      return [];
    }
  }
}

/** An npx-style launch: the package, and the server it runs when the package is itself a launcher. */
function withInner(rest: readonly string[], runner: string): PackageRef[] {
  const { spec, from } = firstPositional(rest, NPX_VALUE_FLAGS);
  const s = from ?? spec;
  if (!s) return [];
  const ref = npmRef(s, runner);
  const launcher = ref.ecosystem === 'npm' ? NPM_LAUNCHERS[ref.name] : undefined;
  if (!launcher) return [ref];
  const after = rest.slice(rest.indexOf(s) + 1).filter((a) => !a.startsWith('-'));
  if (!after[0] || !launcher.sub.test(after[0]) || !after[1]) return [ref];
  const inner = splitNpmSpec(after[1]);
  const pinned = inner.version !== undefined && EXACT_SEMVER.test(inner.version);
  return [ref, { ecosystem: 'unknown', name: inner.name, ...(inner.version ? { version: inner.version } : {}), pinned, runner: launcher.runner }];
}

// Standard-library modules people run with `python -m`: not PyPI packages.
const PY_STDLIB_MODULES = new Set(['http', 'json', 'venv', 'pip', 'site', 'ensurepip', 'unittest', 'pdb', 'cProfile', 'profile', 'timeit', 'zipfile', 'tarfile', 'asyncio', 'uvicorn_worker', 'idlelib', 'pydoc', 'compileall', 'py_compile', 'trace', 'webbrowser', 'smtpd', 'base64', 'calendar', 'gzip', 'tokenize', 'ast', 'dis', 'runpy']);

/**
 * `python -m mcp_server_git`: the top-level module name, PEP 503-normalised, names the PyPI
 * package where they match (the common case for MCP servers). The version is whatever is
 * installed, so the reference is unpinned.
 */
export function pythonModuleRef(module: string, runner = 'python'): PackageRef | undefined {
  const top = module.split('.')[0] ?? '';
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(top) || PY_STDLIB_MODULES.has(top)) return undefined;
  return { ecosystem: 'PyPI', name: top.toLowerCase().replace(/[-_.]+/g, '-'), pinned: false, runner: `${runner} -m` };
}

/**
 * The npm package a path inside `node_modules` belongs to: `/x/node_modules/@scope/pkg/dist/i.js`
 * gives `@scope/pkg` and its folder (the last node_modules wins, for nested installs).
 * `.bin` shims are not packages and give nothing.
 */
export function nodeModulesPackage(p: string): { name: string; root: string } | undefined {
  const parts = p.split(/[\\/]/);
  const i = parts.lastIndexOf('node_modules');
  if (i < 0 || i + 1 >= parts.length) return undefined;
  const first = parts[i + 1]!;
  if (!first || first === '.bin' || first.startsWith('.')) return undefined;
  const scoped = first.startsWith('@');
  const second = parts[i + 2];
  if (scoped && !second) return undefined;
  const name = scoped ? `${first}/${second}` : first;
  if (!/^(?:@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/i.test(name)) return undefined;
  const sep = p.includes('\\') && !p.includes('/') ? '\\' : '/';
  const root = parts.slice(0, i + (scoped ? 3 : 2)).join(sep);
  return { name, root };
}

const DOCKER_VALUE_FLAGS = new Set(['-e', '--env', '-v', '--volume', '-p', '--publish', '--name', '--network', '--net', '-w', '--workdir', '-u', '--user', '--mount', '--env-file', '--entrypoint', '--platform', '--pid', '--ipc', '--cap-add', '--cap-drop', '--device', '-l', '--label', '--memory', '-m', '--cpus', '--security-opt', '--add-host', '--hostname', '-h', '--restart', '--pull', '--tmpfs', '--ulimit', '--log-driver', '--runtime', '--gpus', '--dns', '--userns', '--group-add']);

/** The image argument of `docker run [flags] IMAGE [cmd...]`. */
export function dockerImage(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith('-')) {
      if (!a.includes('=') && DOCKER_VALUE_FLAGS.has(a)) i++;
      continue;
    }
    return a;
  }
  return undefined;
}

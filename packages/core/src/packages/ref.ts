// Package references from launch commands: which package a server runs, from which
// ecosystem, at which version. Extended by the advisories work (PEP 440, more runners).
import type { PackageRef } from '../model.js';

const basename = (cmd: string): string => {
  const parts = cmd.split(/[\\/]/);
  return (parts[parts.length - 1] ?? cmd).replace(/\.(?:cmd|exe|bat|ps1)$/i, '').toLowerCase();
};

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

function npmRef(spec: string, runner: string): PackageRef {
  if (isGitSpec(spec)) return { ecosystem: 'git', name: spec, pinned: /#[0-9a-f]{40}$/.test(spec), runner };
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
  if (!command) return undefined;
  const cmd = basename(command);
  let rest = [...args];
  // `cmd /c npx ...` on Windows
  if ((cmd === 'cmd' || cmd === 'powershell' || cmd === 'pwsh') && rest.length >= 2 && /^[/-]c(?:ommand)?$/i.test(rest[0]!)) {
    const inner = rest.slice(1).join(' ').trim().split(/\s+/);
    return parsePackageRef(inner[0], inner.slice(1));
  }
  switch (cmd) {
    case 'npx':
    case 'pnpx':
    case 'bunx': {
      const { spec, from } = firstPositional(rest, NPX_VALUE_FLAGS);
      const s = from ?? spec;
      return s ? npmRef(s, cmd) : undefined;
    }
    case 'npm':
    case 'pnpm':
    case 'yarn':
    case 'bun': {
      const sub = rest[0];
      if (sub === 'exec' || sub === 'dlx' || sub === 'x') {
        rest = rest.slice(1);
        const { spec, from } = firstPositional(rest, NPX_VALUE_FLAGS);
        const s = from ?? spec;
        return s ? npmRef(s, `${cmd} ${sub}`) : undefined;
      }
      return undefined;
    }
    case 'uvx':
    case 'pipx':
    case 'uv': {
      let runner: string = cmd;
      if (cmd === 'pipx') {
        if (rest[0] !== 'run') return undefined;
        rest = rest.slice(1);
        runner = 'pipx run';
      }
      if (cmd === 'uv') {
        if (rest[0] === 'tool' && rest[1] === 'run') rest = rest.slice(2);
        else if (rest[0] === 'run' && rest.includes('--with')) rest = rest.slice(1);
        else return undefined;
        runner = 'uv tool run';
      }
      const { spec, from } = firstPositional(rest, UVX_VALUE_FLAGS);
      const s = from ?? spec;
      return s ? pypiRef(s, runner) : undefined;
    }
    case 'docker':
    case 'podman': {
      if (rest[0] !== 'run') return undefined;
      const image = dockerImage(rest.slice(1));
      if (!image) return undefined;
      const m = /^(.*?)(?::([\w.-]+))?(?:@(sha256:[0-9a-f]{64}))?$/.exec(image)!;
      const name = m[1] ?? image;
      const version = m[3] ?? m[2];
      return { ecosystem: 'docker', name, ...(version ? { version } : {}), pinned: Boolean(m[3]) || (Boolean(m[2]) && m[2] !== 'latest'), runner: cmd };
    }
    case 'python':
    case 'python3':
    case 'py': {
      const m = rest.indexOf('-m');
      const mod = m >= 0 ? rest[m + 1] : undefined;
      return mod ? pythonModuleRef(mod, cmd) : undefined;
    }
    default: {
      // `node /…/node_modules/pkg/dist/index.js` or a command inside a package folder
      const inModules = nodeModulesPackage(command) ?? (cmd === 'node' || cmd === 'bun' || cmd === 'deno' ? args.map((a) => nodeModulesPackage(a)).find(Boolean) : undefined);
      if (inModules) return { ecosystem: 'npm', name: inModules.name, pinned: false, runner: 'node_modules' };
      if (/^python\d+(?:\.\d+)?$/.test(cmd)) return parsePackageRef('python', args);
      return undefined;
    }
  }
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

// Which paths give a server too much: the root of a disk, a whole home folder, or folders
// holding keys and system configuration. Understands ~, $HOME, ${HOME}, %USERPROFILE%,
// ${userHome} (VS Code) and literal home paths, with / or \ separators.
import type { RuleContext } from './types.js';

export type PathClass = { kind: 'root' | 'home' | 'all-homes' | 'sensitive'; label: string };

const HOME_REFERENCES = /^(?:~|\$HOME|\$\{HOME\}|\$\{env:HOME\}|\$\{env:USERPROFILE\}|\$\{userHome\}|%USERPROFILE%|%HOMEDRIVE%%HOMEPATH%|\$env:USERPROFILE|\$env:HOME)(?=\/|$)/i;
const LITERAL_HOME = /^(?:\/home\/[^/]+|\/Users\/[^/]+|[a-z]:\/users\/[^/]+|\/root)(?=\/|$)/i;

// Below the home folder: credentials, keys, cluster and cloud configs, password stores.
const SENSITIVE_IN_HOME = [
  '.ssh',
  '.aws',
  '.gnupg',
  '.kube',
  '.docker',
  '.azure',
  '.config/gcloud',
  '.config/gh',
  '.config/op',
  '.password-store',
  '.netrc',
  '.npmrc',
  '.pypirc',
  '.git-credentials',
  '.vault-token',
  '.terraform.d',
  'library/keychains',
  'appdata/roaming/microsoft/credentials',
  'appdata/roaming/microsoft/protect',
];
// System locations.
const SENSITIVE_SYSTEM = ['/etc', '/root', '/var/run/docker.sock', '/run/docker.sock', '/proc', '/sys', '/boot', '/private/etc', 'c:/windows', 'c:/programdata'];
const ALL_HOMES = ['/home', '/users', 'c:/users'];

/** Canonical form: forward slashes, no trailing slash, home written as `~`. */
export function canonicalPath(raw: string, ctx?: Pick<RuleContext, 'home' | 'platform'>): string {
  let p = raw.trim().replace(/^["']|["']$/g, '').replace(/\\/g, '/');
  p = p.replace(HOME_REFERENCES, '~');
  if (ctx?.home) {
    const home = ctx.home.replace(/\\/g, '/').replace(/\/+$/, '');
    if (home && (p.toLowerCase() === home.toLowerCase() || p.toLowerCase().startsWith(home.toLowerCase() + '/'))) p = '~' + p.slice(home.length);
  }
  p = p.replace(LITERAL_HOME, '~');
  p = p.replace(/\/\.(?=\/|$)/g, '').replace(/\/{2,}/g, '/');
  if (p.length > 1 && p.endsWith('/') && !/^[a-z]:\/$/i.test(p)) p = p.replace(/\/+$/, '');
  if (p === '') return raw.trim() === '' ? '' : '/';
  return p;
}

/** Does this word look like a filesystem path at all? */
export function looksLikePath(word: string): boolean {
  // the first character rules most words out (flags, package names) without trimming a copy
  const c = word.charCodeAt(0);
  if ((c >= 97 && c <= 122 && word.charCodeAt(1) !== 58) || c === 45 || c === 64) return false; // a-z not a drive, '-', '@'
  const w = word.trim().replace(/^["']/, '');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(w)) return false;
  return /^(?:\/|~|\$HOME|\$\{HOME\}|\$\{env:(?:HOME|USERPROFILE)\}|\$\{userHome\}|%USERPROFILE%|%HOMEDRIVE%|\$env:|[A-Za-z]:[\\/]?$|[A-Za-z]:[\\/]|\\\\)/i.test(w);
}

/** Classify a path as broad or sensitive, or undefined when it is an ordinary folder. */
export function classifyPath(raw: string, ctx?: Pick<RuleContext, 'home' | 'platform'>): PathClass | undefined {
  if (!looksLikePath(raw)) return undefined;
  const p = canonicalPath(raw, ctx);
  const lower = p.toLowerCase();
  if (lower === '/' || /^[a-z]:\/?$/.test(lower) || lower === '//' || /^\/\/[^/]+\/[a-z]\$$/.test(lower)) return { kind: 'root', label: 'the root of a disk' };
  if (lower === '~') return { kind: 'home', label: 'the whole home folder' };
  if (ALL_HOMES.includes(lower)) return { kind: 'all-homes', label: "every user's home folder" };
  if (lower.startsWith('~/')) {
    const rest = lower.slice(2);
    const hit = SENSITIVE_IN_HOME.find((s) => rest === s || rest.startsWith(s + '/'));
    if (hit) return { kind: 'sensitive', label: `~/${hit}` };
    return undefined;
  }
  const sys = SENSITIVE_SYSTEM.find((s) => lower === s || lower.startsWith(s + '/'));
  if (sys) return { kind: 'sensitive', label: sys };
  return undefined;
}

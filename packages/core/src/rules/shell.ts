// Reading launch commands the way a shell would: which interpreter runs inline code, what
// that code is, and whether a download is piped into an interpreter.
import { commandName, splitShellWords, unwrapCommand } from './helpers.js';

export interface InlineCode {
  /** bash, cmd, powershell, python, node ... */
  interpreter: string;
  /** the switch that takes code: -c, /c, -Command, -e ... */
  flag: string;
  /** the code itself (decoded for -EncodedCommand) */
  code: string;
}

const POSIX_SHELLS = new Set(['sh', 'bash', 'zsh', 'dash', 'ksh', 'mksh', 'ash', 'fish', 'csh', 'tcsh', 'busybox']);
const PYTHONS = /^(?:python(?:[23](?:\.\d+)?)?|pythonw|py|pypy3?)$/;
const ELEVATORS = new Set(['sudo', 'doas', 'pkexec', 'gsudo', 'runas']);

/** Drop `sudo`/`doas` and their flags so the command they run can be inspected. */
export function stripElevation(words: readonly string[]): readonly string[] {
  let w = unwrapCommand(words);
  while (w.length > 0 && ELEVATORS.has(commandName(w[0]))) {
    let i = 1;
    // sudo -u user, doas -u user take a value
    while (i < w.length && w[i]!.startsWith('-')) i += /^-[ugCDhpRrT]$/.test(w[i]!) ? 2 : 1;
    w = unwrapCommand(w.slice(i));
  }
  return w;
}

function decodePowershellBase64(b64: string): string {
  try {
    const bin = atob(b64.replace(/\s+/g, ''));
    let out = '';
    for (let i = 0; i + 1 < bin.length; i += 2) out += String.fromCharCode(bin.charCodeAt(i) | (bin.charCodeAt(i + 1) << 8));
    return out;
  } catch {
    return b64;
  }
}

// Powershell accepts any unambiguous prefix of a parameter, with - or /.
function psParam(word: string): string | undefined {
  const m = /^[-/]([A-Za-z]+)$/.exec(word);
  return m ? m[1]!.toLowerCase() : undefined;
}
const isPsCommand = (p: string): boolean => p === 'c' || (p.length >= 3 && 'command'.startsWith(p));
const isPsEncoded = (p: string): boolean => p === 'e' || p === 'ec' || (p.length >= 2 && p.startsWith('en') && 'encodedcommand'.startsWith(p));
const PS_VALUE_PARAMS = ['executionpolicy', 'ex', 'ep', 'windowstyle', 'w', 'inputformat', 'outputformat', 'configurationname', 'workingdirectory', 'wd', 'settingsfile', 'version', 'psconsolefile'];

/**
 * The inline code a launch command runs, if any: `bash -c CODE`, `cmd /c CODE`,
 * `powershell -Command CODE`, `python -c CODE`, `node -e CODE`, ... Wrappers such as env
 * and sudo are looked through. For `cmd /c` the code is what follows the switch.
 */
export function findInlineCode(words: readonly string[]): InlineCode | undefined {
  const w = stripElevation(words);
  if (w.length === 0) return undefined;
  const name = commandName(w[0]);
  // most servers start npx, uvx, docker or a binary: no interpreter, nothing to read further
  if (!runsInlineCode(name)) return undefined;
  const rest = w.slice(1);
  const codeAfter = (i: number): string => rest.slice(i + 1).join(' ');
  if (POSIX_SHELLS.has(name)) {
    let start = 0;
    if (name === 'busybox') {
      if (!['sh', 'ash', 'bash'].includes(rest[0] ?? '')) return undefined;
      start = 1;
    }
    for (let i = start; i < rest.length; i++) {
      const a = rest[i]!;
      if (a === '--command' || (/^-[A-Za-z]+$/.test(a) && a.includes('c'))) return { interpreter: name, flag: a, code: codeAfter(i) };
      if (!a.startsWith('-') && !a.startsWith('+')) return undefined; // a script file
    }
    return undefined;
  }
  if (name === 'cmd') {
    for (let i = 0; i < rest.length; i++) {
      const a = rest[i]!;
      if (/^\/[ckr]$/i.test(a)) return { interpreter: 'cmd', flag: a, code: codeAfter(i) };
      if (/^\/c./i.test(a)) return { interpreter: 'cmd', flag: '/c', code: [a.slice(2), ...rest.slice(i + 1)].join(' ') };
      if (!a.startsWith('/')) return undefined;
    }
    return undefined;
  }
  if (name === 'powershell' || name === 'pwsh' || name === 'powershell_ise') {
    for (let i = 0; i < rest.length; i++) {
      const p = psParam(rest[i]!);
      if (p === undefined) {
        // Windows PowerShell runs positional text as a command; pwsh treats it as a file.
        return name === 'pwsh' ? undefined : { interpreter: name, flag: '(positional)', code: rest.slice(i).join(' ') };
      }
      if (isPsCommand(p)) return { interpreter: name, flag: rest[i]!, code: codeAfter(i) };
      if (isPsEncoded(p)) return { interpreter: name, flag: rest[i]!, code: decodePowershellBase64(rest[i + 1] ?? '') };
      if (p === 'file' || p === 'f') return undefined;
      if (PS_VALUE_PARAMS.includes(p)) i++;
    }
    return undefined;
  }
  if (PYTHONS.test(name)) {
    for (let i = 0; i < rest.length; i++) {
      const a = rest[i]!;
      if (/^-[A-Za-z]*c$/.test(a)) return { interpreter: name, flag: a, code: codeAfter(i) };
      if (a === '-m' || !a.startsWith('-')) return undefined;
      if (a === '-W' || a === '-X') i++;
    }
    return undefined;
  }
  if (name === 'node' || name === 'nodejs' || name === 'bun') {
    for (let i = 0; i < rest.length; i++) {
      const a = rest[i]!;
      if (/^(?:-e|--eval|-p|--print|-pe)$/.test(a)) return { interpreter: name, flag: a, code: codeAfter(i) };
      if (/^(?:--eval|--print)=/.test(a)) return { interpreter: name, flag: a.split('=')[0]!, code: a.slice(a.indexOf('=') + 1) };
      if (!a.startsWith('-')) return undefined;
    }
    return undefined;
  }
  if (name === 'deno') return rest[0] === 'eval' ? { interpreter: 'deno', flag: 'eval', code: rest.slice(1).join(' ') } : undefined;
  if (name === 'perl' || name === 'ruby' || name === 'lua' || name === 'osascript' || name === 'rscript' || name === 'php') {
    const flag = name === 'php' ? /^-r$/ : name === 'perl' ? /^-[A-Za-z]*[eE]$/ : /^-e$/;
    for (let i = 0; i < rest.length; i++) {
      const a = rest[i]!;
      if (flag.test(a)) return { interpreter: name, flag: a, code: codeAfter(i) };
      if (!a.startsWith('-')) return undefined;
    }
  }
  return undefined;
}

const OTHER_INTERPRETERS = new Set(['cmd', 'powershell', 'pwsh', 'powershell_ise', 'node', 'nodejs', 'bun', 'deno', 'perl', 'ruby', 'lua', 'osascript', 'rscript', 'php']);

/** Is `name` one of the interpreters findInlineCode reads (a shell, cmd, PowerShell, Python, Node ...)? */
function runsInlineCode(name: string): boolean {
  return POSIX_SHELLS.has(name) || OTHER_INTERPRETERS.has(name) || PYTHONS.test(name);
}

/** Control operators that make a `cmd /c` line a script rather than one command. */
const CMD_SCRIPT = /&&|\|\||[&|<>^]|%[A-Za-z_]+%.*[&|]/;

/**
 * Inline code worth a finding. `cmd /c npx -y pkg` is how Windows starts npx and is fine;
 * `cmd /c` with operators, or wrapping another interpreter's inline code, is a script.
 */
export function findRiskyInlineCode(words: readonly string[], depth = 0): InlineCode | undefined {
  const found = findInlineCode(words);
  if (!found) return undefined;
  if (found.interpreter !== 'cmd') return found;
  if (depth < 3) {
    const inner = findRiskyInlineCode(splitShellWords(found.code), depth + 1);
    if (inner) return inner;
  }
  return CMD_SCRIPT.test(found.code) || findPipeToShell(found.code) ? found : undefined;
}

const DOWNLOADERS = String.raw`(?:curl|wget|fetch|aria2c|http|https|xh|iwr|irm|invoke-webrequest|invoke-restmethod|(?:new-object\s+(?:system\.)?net\.webclient\)?\.downloadstring))`;
const RUNNERS = String.raw`(?:sudo\s+(?:-\S+\s+)*)?(?:env\s+(?:[^\s=]+=\S*\s+)*)?(?:(?:\/usr)?\/bin\/)?(?:(?:ba|z|da|k|mk|fi|a|c|tc)?sh|python[0-9.]*|node|perl|ruby|php|iex|invoke-expression|pwsh|powershell|deno\s+run|bun)`;

const PIPE_TO_SHELL: RegExp[] = [
  // curl https://x | sh, wget -qO- x | sudo bash, iwr x | iex
  new RegExp(String.raw`\b${DOWNLOADERS}\b[^|;&\n]*\|\s*${RUNNERS}(?![\w.-])`, 'i'),
  // bash <(curl ...), source <(wget ...), . <(curl ...)
  new RegExp(String.raw`(?:\b(?:(?:ba|z|da|k)?sh|source)|(?:^|\s)\.)\s+(?:-s\s+)?<\s*\(\s*${DOWNLOADERS}\b[^)\n]*\)?`, 'i'),
  // sh -c "$(curl ...)", eval "$(wget ...)", bash -c `curl ...`
  new RegExp(String.raw`\b(?:(?:ba|z|da|k)?sh\s+-\w*c|eval|python[0-9.]*\s+-c|node\s+-e)\s+["']?(?:\$\(|\x60)\s*${DOWNLOADERS}\b[^)\x60\n]*[)\x60]?`, 'i'),
  // iex (iwr ...), iex (New-Object Net.WebClient).DownloadString(...), Invoke-Expression (irm ...)
  new RegExp(String.raw`\b(?:iex|invoke-expression)\s*\(+\s*${DOWNLOADERS}`, 'i'),
];

// curl URL -o x.sh && sh x.sh: a two-step pipe to shell. Found word by word rather than with
// one back-referencing pattern, which backtracks badly on crafted text.
const SCRIPT_FILE = /\.(?:sh|bash|ps1|py)$/i;
const RUN_SCRIPT = /^(?:(?:ba|z|da)?sh|python[0-9.]*|pwsh|powershell|\.)$/i;

function downloadThenRun(text: string): string | undefined {
  const words = text.split(/\s+/);
  for (let i = 0; i < words.length; i++) {
    if (!/^(?:curl|wget)$/i.test(words[i]!)) continue;
    let file: string | undefined;
    let j = i + 1;
    for (; j < words.length && !/^(?:&&|;|\|\|?)$|[;&|]$/.test(words[j - 1] ?? ''); j++) {
      const m = /^(?:-o|-O|--output)(?:=?(.+))?$/.exec(words[j]!);
      if (m) file = (m[1] ?? words[j + 1] ?? '').replace(/[;&]+$/, '');
    }
    if (!file || !SCRIPT_FILE.test(file)) continue;
    // the same file run by an interpreter later on the line
    for (let k = j; k + 1 < words.length; k++) {
      const runner = words[k] === 'sudo' ? words[++k] : words[k];
      if (runner && RUN_SCRIPT.test(runner) && words[k + 1] === file) return words.slice(i, k + 2).join(' ');
    }
  }
  return undefined;
}

const MAYBE_PIPE = /[|`;&]|<\s*\(|\$\(|\biex\b|invoke-expression/i;

/** The part of `text` that downloads code and hands it to an interpreter, if any. */
export function findPipeToShell(text: string): string | undefined {
  // every form needs a pipe, a substitution, a sequence or iex: skip the rest cheaply
  if (!MAYBE_PIPE.test(text)) return undefined;
  for (const re of PIPE_TO_SHELL) {
    const m = re.exec(text);
    if (m) return m[0];
  }
  return downloadThenRun(text);
}

// PAL-C005: a container started with host-level powers (privileged, docker.sock, host namespaces, host root or home mounts).
import type { Severity } from '../../model.js';
import type { RuleCases, RuleContext, RuleHit, ServerRule } from '../types.js';
import { commandName, commandWords, disabledNote, safeText, serverLabel } from '../helpers.js';
import { classifyPath } from '../paths.js';
import { stripElevation } from '../shell.js';

// The case table is built when a test, `palisade rules ID` or the docs ask for it, not at
// every start: a scan never reads it.
function caseTable(): RuleCases {
  return {
    valid: [
      { name: 'plain docker run', server: { command: 'docker', args: ['run', '-i', '--rm', '-e', 'GITHUB_PERSONAL_ACCESS_TOKEN', 'ghcr.io/github/github-mcp-server:0.13.0'] } },
      { name: 'project folder mount', server: { command: 'docker', args: ['run', '-i', '--rm', '-v', '/home/alice/projects/app:/workspace:ro', 'mcp/filesystem:1.0.2', '/workspace'] } },
      { name: 'bridge network', server: { command: 'podman', args: ['run', '--network', 'bridge', 'mcp/fetch:1.0.0'] } },
    ],
    invalid: [
      { name: '--privileged', server: { command: 'docker', args: ['run', '-i', '--privileged', 'mcp/tool:1.0.0'] }, evidence: /--privileged/, severity: 'high' },
      { name: 'docker.sock mount', server: { command: 'docker', args: ['run', '-i', '-v', '/var/run/docker.sock:/var/run/docker.sock', 'mcp/docker:1.0.0'] }, evidence: /docker\.sock/ },
      { name: 'host network', server: { command: 'docker', args: ['run', '--network=host', 'mcp/tool:1.0.0'] }, evidence: /--network=host/ },
      { name: 'host pid', server: { command: 'docker', args: ['run', '--pid', 'host', 'mcp/tool:1.0.0'] }, evidence: /--pid host/ },
      { name: 'root filesystem mount', server: { command: 'docker', args: ['run', '-v', '/:/host', 'mcp/tool:1.0.0'] }, evidence: /\/:\/host/ },
      { name: 'home mount via $HOME', server: { command: 'docker', args: ['run', '--volume', '$HOME:/home/me', 'mcp/tool:1.0.0'] }, evidence: /\$HOME/ },
      { name: 'Windows home mount', server: { command: 'docker', args: ['run', '-v', 'C:\\Users\\alice:/data', 'mcp/tool:1.0.0'] }, evidence: /Users/ },
      { name: '--mount bind of /', server: { command: 'docker', args: ['run', '--mount', 'type=bind,source=/,target=/host', 'mcp/tool:1.0.0'] }, evidence: /source=\// },
      { name: 'SYS_ADMIN capability', server: { command: 'docker', args: ['run', '--cap-add', 'SYS_ADMIN', 'mcp/tool:1.0.0'] }, evidence: /SYS_ADMIN/ },
      { name: 'seccomp off', server: { command: 'docker', args: ['run', '--security-opt', 'seccomp=unconfined', 'mcp/tool:1.0.0'] }, evidence: /seccomp=unconfined/ },
    ],
  };
}

let cases: RuleCases | undefined;

const DANGEROUS_CAPS = new Set(['ALL', 'SYS_ADMIN', 'SYS_PTRACE', 'SYS_MODULE', 'DAC_READ_SEARCH', 'DAC_OVERRIDE', 'SYS_RAWIO', 'BPF', 'PERFMON']);
const MEDIUM_CAPS = new Set(['NET_ADMIN', 'NET_RAW', 'SYS_TIME', 'MKNOD']);
const HOST_NAMESPACES: Record<string, Severity> = { '--network': 'high', '--net': 'high', '--pid': 'high', '--userns': 'high', '--ipc': 'medium', '--uts': 'medium', '--cgroupns': 'medium' };

interface Problem {
  what: string;
  evidence: string;
  severity: Severity;
}

/** The mount source of `-v SRC:DST[:opts]`, keeping a Windows drive letter. */
function volumeSource(spec: string): string {
  const m = /^([A-Za-z]:[\\/][^:]*|[^:]*)/.exec(spec);
  return m ? m[1]! : spec;
}

function mountSource(spec: string): string | undefined {
  for (const part of spec.split(',')) {
    const [k, v] = part.split('=', 2);
    if (v !== undefined && /^(?:source|src)$/i.test(k!.trim())) return v;
  }
  return undefined;
}

function checkMount(source: string, shown: string, ctx: RuleContext): Problem | undefined {
  if (/(?:^|\/)docker\.sock$|^\/\/\.\/pipe\/docker_engine$|^\\\\\.\\pipe\\docker_engine$/i.test(source)) return { what: 'mounts the Docker socket, which gives full control of the host', evidence: shown, severity: 'high' };
  const cls = classifyPath(source, ctx);
  if (!cls) return undefined;
  return { what: `mounts ${cls.label} into the container`, evidence: shown, severity: 'high' };
}

/** Flags of `docker run` that hand the container host-level power. */
export function dockerProblems(words: readonly string[], ctx: RuleContext): Problem[] {
  const w = stripElevation(words);
  const name = commandName(w[0]);
  if (name !== 'docker' && name !== 'podman' && name !== 'nerdctl') return [];
  let i = 1;
  while (i < w.length && w[i]!.startsWith('-')) i += 1; // global flags such as --context
  if (w[i] === 'container') i++;
  if (w[i] !== 'run' && w[i] !== 'create') return [];
  const problems: Problem[] = [];
  for (i = i + 1; i < w.length; i++) {
    const a = w[i]!;
    if (!a.startsWith('-')) break; // the image: everything after belongs to the container
    const eq = a.indexOf('=');
    const flag = eq > 0 ? a.slice(0, eq) : a;
    const takesValue = ['-v', '--volume', '--mount', '--network', '--net', '--pid', '--ipc', '--uts', '--userns', '--cgroupns', '--cap-add', '--security-opt', '--device', '-e', '--env', '-p', '--publish', '--name', '-w', '--workdir', '-u', '--user', '--env-file', '--entrypoint', '--platform', '-l', '--label', '--add-host', '--hostname', '-h', '--restart', '--pull', '--tmpfs', '--gpus', '--dns', '--group-add', '--memory', '-m', '--cpus', '--cap-drop', '--runtime', '--ulimit', '--log-driver'].includes(flag);
    const value = eq > 0 ? a.slice(eq + 1) : takesValue ? (w[i + 1] ?? '') : '';
    const shown = eq > 0 ? a : takesValue ? `${a} ${value}` : a;
    if (takesValue && eq < 0) i++;
    if (flag === '--privileged' && value !== 'false') problems.push({ what: 'runs privileged, with every capability and every host device', evidence: a, severity: 'high' });
    else if (flag === '-v' || flag === '--volume') {
      const p = checkMount(volumeSource(value), shown, ctx);
      if (p) problems.push(p);
    } else if (flag === '--mount') {
      const src = mountSource(value);
      const p = src === undefined ? undefined : checkMount(src, shown, ctx);
      if (p) problems.push(p);
    } else if (flag in HOST_NAMESPACES && value.toLowerCase() === 'host') {
      problems.push({ what: `shares the host's ${flag === '--net' ? 'network' : flag.slice(2)} namespace`, evidence: shown, severity: HOST_NAMESPACES[flag]! });
    } else if (flag === '--cap-add') {
      const cap = value.toUpperCase().replace(/^CAP_/, '');
      if (DANGEROUS_CAPS.has(cap)) problems.push({ what: `adds the ${cap} capability, enough to escape the container`, evidence: shown, severity: 'high' });
      else if (MEDIUM_CAPS.has(cap)) problems.push({ what: `adds the ${cap} capability`, evidence: shown, severity: 'medium' });
    } else if (flag === '--security-opt' && /^(?:seccomp|apparmor)[=:]unconfined$|^label[=:]disable$|^no-new-privileges[=:]false$/i.test(value)) {
      problems.push({ what: `turns off a kernel confinement layer (${value})`, evidence: shown, severity: 'high' });
    } else if (flag === '--device') {
      problems.push({ what: 'passes a host device into the container', evidence: shown, severity: 'medium' });
    }
  }
  return problems;
}

export const privilegedDocker: ServerRule = {
  meta: {
    id: 'PAL-C005',
    title: 'Container runs with host-level privileges',
    severity: 'high',
    category: 'config',
    rationale:
      'Containers are only a boundary when they are confined. --privileged, a mounted Docker socket, host network or PID namespaces, dangerous capabilities or a mount of / or the home folder hand the server (and any prompt injection that steers it) control of the host.',
    remediation:
      'Drop --privileged and host namespaces, never mount the Docker socket, add no capabilities, and mount only the project folder the server needs, read-only where possible.',
  },
  kind: 'server',
  get cases() {
    return (cases ??= caseTable());
  },
  check(server, ctx) {
    return dockerProblems(commandWords(server), ctx).map(
      (p): RuleHit => ({
        message: `Server ${serverLabel(server)} starts a container that ${p.what}.${disabledNote(server)}`,
        evidence: safeText(p.evidence),
        severity: p.severity,
      }),
    );
  },
};

// Stdio transport to an MCP server. On POSIX the server is started as the leader of its own
// process group, so closing kills the whole tree (an `npx` launcher AND the server it
// started), not only the direct child; stderr is kept only as a bounded tail. On Windows the
// SDK's own transport is used.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ReadBuffer, serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

export interface StdioParams {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
}

/** A started stdio server: the transport plus what we need to explain its failure. */
export interface StdioServerTransport extends Transport {
  readonly pid: number | null;
  /** the last lines the server wrote to stderr (bounded) */
  stderrTail(): string;
  /** exit code or signal once it has exited */
  exitInfo(): string | undefined;
}

const STDERR_TAIL = 4096;
const GRACE_MS = 500;
const TERM_MS = 1500;

// Groups still alive, killed if Palisade itself exits mid-probe (Ctrl-C, kill, crash): being
// in their own group, they would not get the terminal's SIGINT themselves.
const liveGroups = new Set<number>();
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let hooksInstalled = false;

function killLiveGroups(): void {
  for (const p of liveGroups) signalGroup(p, 'SIGKILL');
  liveGroups.clear();
}

function onStopSignal(signal: NodeJS.Signals): void {
  killLiveGroups();
  uninstallHooks();
  // with no other handler left, die of the signal as Node would have without ours
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', killLiveGroups);
  for (const s of STOP_SIGNALS) process.on(s, onStopSignal);
}

function uninstallHooks(): void {
  if (!hooksInstalled) return;
  hooksInstalled = false;
  process.off('exit', killLiveGroups);
  for (const s of STOP_SIGNALS) process.off(s, onStopSignal);
}

function trackGroup(pid: number): void {
  liveGroups.add(pid);
  installHooks();
}

function untrackGroup(pid: number): void {
  liveGroups.delete(pid);
  // handlers only while servers run, so Palisade's own signal handling is otherwise untouched
  if (liveGroups.size === 0) uninstallHooks();
}

function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false; // ESRCH: the group is gone
  }
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// not unref()ed: while closing, these timers may be all that keeps the process alive
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (!groupAlive(pid)) return true;
    await sleep(25);
  }
  return !groupAlive(pid);
}

export class ProcessGroupStdioTransport implements StdioServerTransport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  private child?: ChildProcess;
  private readonly buffer = new ReadBuffer();
  private stderr = '';
  private exit?: string;
  private closed = false;
  private closing?: Promise<void>;
  private corked = false;

  constructor(private readonly params: StdioParams) {}

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  stderrTail(): string {
    return this.stderr;
  }

  exitInfo(): string | undefined {
    return this.exit;
  }

  start(): Promise<void> {
    if (this.child) throw new Error('the stdio transport was already started');
    return new Promise((resolve, reject) => {
      const child = spawn(this.params.command, this.params.args, {
        env: this.params.env,
        cwd: this.params.cwd,
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: true,
        shell: false,
      });
      this.child = child;
      child.once('error', (err) => {
        reject(err);
        this.onerror?.(err);
      });
      child.once('spawn', () => {
        if (child.pid) trackGroup(child.pid);
        resolve();
      });
      child.once('exit', (code, signal) => {
        this.exit = signal ? `signal ${signal}` : `exit code ${code}`;
      });
      child.once('close', () => {
        if (!this.closed) this.onclose?.();
      });
      child.stdin?.on('error', (err) => this.onerror?.(err));
      child.stdout?.on('error', (err) => this.onerror?.(err));
      child.stdout?.on('data', (chunk: Buffer) => {
        try {
          this.buffer.append(chunk);
        } catch (err) {
          this.exit ??= 'it wrote over 10 MiB without a line break, so Palisade stopped it';
          this.onerror?.(err as Error);
          void this.close();
          return;
        }
        for (;;) {
          let message: JSONRPCMessage | null;
          try {
            message = this.buffer.readMessage();
          } catch (err) {
            // a line that is not JSON-RPC (a server logging to stdout): report and go on
            this.onerror?.(err as Error);
            continue;
          }
          if (message === null) break;
          this.onmessage?.(message);
        }
      });
      child.stderr?.on('data', (chunk: Buffer) => {
        this.stderr = (this.stderr + chunk.toString('utf8')).slice(-STDERR_TAIL);
      });
    });
  }

  send(message: JSONRPCMessage): Promise<void> {
    return new Promise((resolve, reject) => {
      const stdin = this.child?.stdin;
      if (!stdin || stdin.destroyed) {
        reject(new Error('the server process is not running'));
        return;
      }
      // messages sent in the same event-loop turn (concurrent calls) go out in one write:
      // stdin is corked until the turn's check phase, so N calls cost one pipe write, not N
      if (!this.corked) {
        this.corked = true;
        stdin.cork();
        setImmediate(() => {
          this.corked = false;
          stdin.uncork();
        });
      }
      if (stdin.write(serializeMessage(message))) resolve();
      else stdin.once('drain', resolve);
    });
  }

  /** End stdin, then SIGTERM and at last SIGKILL the whole process group. */
  close(): Promise<void> {
    // a second close (the SDK's client on a failed handshake, then its owner) waits for the
    // first to finish killing the group, so a reconnect never overlaps a dying process
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    this.closed = true;
    const child = this.child;
    const pid = child?.pid;
    if (child && pid) {
      try {
        child.stdin?.end();
      } catch {
        // already closed
      }
      if (!(await waitGone(pid, GRACE_MS))) {
        signalGroup(pid, 'SIGTERM');
        if (!(await waitGone(pid, TERM_MS))) {
          signalGroup(pid, 'SIGKILL');
          await waitGone(pid, TERM_MS);
        }
      }
      untrackGroup(pid);
      child.stdout?.destroy();
      child.stderr?.destroy();
    }
    this.buffer.clear();
    this.onclose?.();
  }
}

/** The SDK's transport (Windows: .cmd shims need cross-spawn; no process groups there). */
class SdkStdioTransport extends StdioClientTransport implements StdioServerTransport {
  private tail = '';
  constructor(params: StdioParams) {
    super({ command: params.command, args: params.args, env: params.env, cwd: params.cwd, stderr: 'pipe' });
    this.stderr?.on('data', (chunk: Buffer) => {
      this.tail = (this.tail + chunk.toString('utf8')).slice(-STDERR_TAIL);
    });
  }
  stderrTail(): string {
    return this.tail;
  }
  exitInfo(): string | undefined {
    return undefined;
  }
  /** Kill the whole tree first (an npx.cmd launcher and the node server it started). */
  override async close(): Promise<void> {
    const pid = this.pid;
    if (pid) spawnSync('taskkill', ['/pid', String(pid), '/T', '/F'], { windowsHide: true, stdio: 'ignore', timeout: 5000 });
    await super.close();
  }
}

export function createStdioTransport(params: StdioParams): StdioServerTransport {
  return process.platform === 'win32' ? new SdkStdioTransport(params) : new ProcessGroupStdioTransport(params);
}

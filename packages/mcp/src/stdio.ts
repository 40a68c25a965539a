// Stdio transport to an MCP server. On POSIX the server is started as the leader of its own
// process group, so closing kills the whole tree (an `npx` launcher AND the server it
// started), not only the direct child; stderr is kept only as a bounded tail. On Windows the
// SDK's own transport is used.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { JSONRPCMessageSchema, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { LeanRequests, type LeanRequestOptions } from './lean.js';

export interface StdioParams {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
}

export type { LeanRequestOptions } from './lean.js';

/** A started stdio server: the transport plus what we need to explain its failure. */
export interface StdioServerTransport extends Transport {
  readonly pid: number | null;
  /** the last lines the server wrote to stderr (bounded) */
  stderrTail(): string;
  /** exit code or signal once it has exited */
  exitInfo(): string | undefined;
}

const STDERR_TAIL = 4096;
/** the longest line (one JSON-RPC message) a server may write; the SDK's own bound */
const MAX_LINE_BYTES = 10 * 1024 * 1024;
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

/**
 * The server's stdout as lines. Chunks are kept as they come and joined once a line ends (a long
 * message costs one copy, not one per chunk); a line over `max` bytes is an error.
 */
class LineReader {
  private parts: Buffer[] = [];
  private size = 0;

  constructor(private readonly max: number) {}

  /** Calls `line` for every line `chunk` completes; throws when a line grows past the bound. */
  push(chunk: Buffer, line: (text: string) => void): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      if (nl < 0) break;
      let text: string;
      if (this.parts.length > 0) {
        if (this.size + nl - start > this.max) throw this.overflow();
        this.parts.push(chunk.subarray(start, nl));
        text = Buffer.concat(this.parts, this.size + nl - start).toString('utf8');
        this.parts = [];
        this.size = 0;
      } else {
        if (nl - start > this.max) throw this.overflow();
        text = chunk.toString('utf8', start, nl);
      }
      start = nl + 1;
      line(text.charCodeAt(text.length - 1) === 13 ? text.slice(0, -1) : text);
    }
    if (start < chunk.length) {
      this.size += chunk.length - start;
      if (this.size > this.max) throw this.overflow();
      this.parts.push(start === 0 ? chunk : chunk.subarray(start));
    }
  }

  clear(): void {
    this.parts = [];
    this.size = 0;
  }

  private overflow(): Error {
    this.clear();
    return new Error(`ReadBuffer exceeded maximum size of ${this.max} bytes`);
  }
}

export class ProcessGroupStdioTransport implements StdioServerTransport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  private child?: ChildProcess;
  private readonly lines = new LineReader(MAX_LINE_BYTES);
  /** stdout is no longer read (the server overflowed the line bound) */
  private deaf = false;
  private stderr = '';
  private exit?: string;
  private closed = false;
  private closing?: Promise<void>;
  private corked = false;
  /** requests of the lean path (request()) */
  private readonly lean = new LeanRequests(
    (requestId, reason) => this.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId, reason } }),
    (err) => this.onerror?.(err),
  );

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
        this.lean.closeAll();
        if (!this.closed) this.onclose?.();
      });
      child.stdin?.on('error', (err) => this.onerror?.(err));
      child.stdout?.on('error', (err) => this.onerror?.(err));
      const onLine = (line: string) => this.onLine(line);
      child.stdout?.on('data', (chunk: Buffer) => {
        if (this.deaf) return;
        try {
          this.lines.push(chunk, onLine);
        } catch (err) {
          this.deaf = true;
          this.exit ??= 'it wrote over 10 MiB without a line break, so Palisade stopped it';
          this.onerror?.(err as Error);
          void this.close();
        }
      });
      child.stderr?.on('data', (chunk: Buffer) => {
        this.stderr = (this.stderr + chunk.toString('utf8')).slice(-STDERR_TAIL);
      });
    });
  }

  /**
   * One line from the server. A response to a request of the lean path is matched by id and its
   * envelope checked here; every other message is checked against the SDK's JSON-RPC schema
   * and handed on. A line that is not JSON-RPC (a server logging to stdout) is reported and
   * skipped.
   */
  private onLine(line: string): void {
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (err) {
      this.onerror?.(err as Error);
      return;
    }
    if (this.lean.size > 0 && this.lean.take(raw)) return;
    let message: JSONRPCMessage;
    try {
      message = JSONRPCMessageSchema.parse(raw);
    } catch (err) {
      this.onerror?.(err as Error);
      return;
    }
    this.onmessage?.(message);
  }

  /**
   * The lean path for a request the caller checks itself (the gateway's tools/call): the frame is
   * written at once and its response matched by id, without the SDK client's per-message schema
   * checks; timeouts, cancellation and errors as the SDK's Protocol.request (see lean.ts). `id`
   * must be unique among the connection's requests (the SDK client's counter, so ids stay one
   * sequence on the wire). Resolves with the response's result object.
   */
  request(id: string | number, method: string, params: Record<string, unknown> | undefined, opts: LeanRequestOptions): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      if (opts.signal?.aborted || opts.cancel?.aborted) {
        this.lean.add(id, resolve, reject, opts); // rejects with the cancellation's reason
        return;
      }
      const stdin = this.child?.stdin;
      if (!stdin || stdin.destroyed || this.closed) {
        reject(new Error('the server process is not running'));
        return;
      }
      if (!this.lean.add(id, resolve, reject, opts)) return;
      this.write(JSON.stringify(params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params }) + '\n', stdin);
    });
  }

  /** Writes one frame; frames of one event-loop turn leave in one pipe write. Returns write()'s answer. */
  private write(frame: string, stdin: NonNullable<ChildProcess['stdin']>): boolean {
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
    return stdin.write(frame);
  }

  send(message: JSONRPCMessage): Promise<void> {
    return new Promise((resolve, reject) => {
      const stdin = this.child?.stdin;
      if (!stdin || stdin.destroyed) {
        reject(new Error('the server process is not running'));
        return;
      }
      if (this.write(JSON.stringify(message) + '\n', stdin)) resolve();
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
    this.lines.clear();
    this.lean.closeAll();
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

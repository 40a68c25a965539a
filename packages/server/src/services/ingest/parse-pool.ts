// The CPU work of accepting a report, off the main thread (issue 12: "accept, then process",
// processing in worker threads). At accept a body is parsed, checked against the limits and
// the schema, redacted with core's redaction (what is stored is already redacted), hashed
// (its content hash and its body hash) and turned into the inbox's envelope; when a report is
// read back from the inbox it is validated again. Both run on a small pool of worker threads
// (parse-worker.ts), so the main thread, which holds the database connection and answers
// every request, only looks up, inserts and answers: a burst of changed reports or one 4 MB
// body no longer holds its event loop for their parsing.
// The same functions run on the calling thread for small bodies (the hand-off would cost more
// than it saves), when the pool is off (PALISADE_INGEST_PARSE_WORKERS=0) and whenever a
// worker cannot answer (it could not start, or died): a request never fails because of the pool.
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { redactReport, type ScanReport } from '@palisade/core';
import { validateReport } from '../report-limits.js';
import { planEntries, type EntriesPlan } from './entries.js';
import { bodyHash, contentHash, hostKey, parseReportText, ReportRejected } from './validate.js';

export type ParseRequest =
  /** a body as received: parsed, validated, redacted; rawKey goes into the envelope */
  | { id: number; op: 'accept'; text: string; rawKey: string | null }
  /** an inbox envelope (as accept made it): its report validated again */
  | { id: number; op: 'reread'; text: string };

export interface AcceptedBody {
  /** the inbox body: JSON of { rawKey, report }, the report validated and redacted */
  stored: string;
  /** contentHash of the redacted report */
  content: string;
  /** bodyHash of the body as received (the inbox's idempotency key) */
  bodyHash: string;
  /** hostKey of the report */
  host: string;
  scannedAt: string;
  /** protocol v2: its servers' keys and content hashes and its offer hash (entries.ts) */
  entries: EntriesPlan | null;
  /** the redacted report itself, when the work ran on the calling thread (never sent between threads) */
  report?: ScanReport;
}

export interface RereadBody {
  /** JSON of the validated report (exactly what validation returned) */
  report: string;
  rawKey: string | null;
  /** contentHash of the report */
  content: string;
  /** planEntries of the report */
  entries: EntriesPlan | null;
}

export type ParseResponse =
  | { id: number; ok: true; accepted?: AcceptedBody; reread?: RereadBody }
  | { id: number; ok: false; rejected?: { code: ReportRejected['code']; message: string }; error?: string };

/** What accept does with a body, on whichever thread runs it. Throws ReportRejected. */
export function acceptBody(text: string, rawKey: string | null): AcceptedBody {
  return acceptedOf(text, rawKey, redactReport(parseReportText(text)));
}

/** The rest of accept's work, once the body is parsed, validated and redacted. */
export function acceptedOf(text: string, rawKey: string | null, report: ScanReport): AcceptedBody {
  return {
    stored: JSON.stringify({ rawKey, report }),
    content: contentHash(report),
    bodyHash: bodyHash(text),
    host: hostKey(report),
    scannedAt: report.scannedAt,
    entries: planEntries(report),
    report,
  };
}

/** An inbox envelope's report, validated again (it was read back from the database). Throws ReportRejected or SyntaxError. */
export function rereadReport(text: string): { report: ScanReport; rawKey: string | null } {
  const envelope = JSON.parse(text) as { rawKey?: unknown; report?: unknown };
  return { report: validateReport(envelope.report), rawKey: typeof envelope.rawKey === 'string' ? envelope.rawKey : null };
}

/** A worker's answer to one request (parse-worker.ts). */
export function answerParse(req: ParseRequest): ParseResponse {
  try {
    if (req.op === 'accept') {
      const { report: _sent_as_stored, ...accepted } = acceptBody(req.text, req.rawKey);
      return { id: req.id, ok: true, accepted };
    }
    const { report, rawKey } = rereadReport(req.text);
    return { id: req.id, ok: true, reread: { report: JSON.stringify(report), rawKey, content: contentHash(report), entries: planEntries(report) } };
  } catch (err) {
    if (err instanceof ReportRejected) return { id: req.id, ok: false, rejected: { code: err.code, message: err.message } };
    // never the body or a value from it: only that it failed
    return { id: req.id, ok: false, error: 'The report could not be read.' };
  }
}

/** The worker's start from the sources: tsx's loader registered, then parse-worker.ts. */
const TSX_BOOT = `const { workerData } = require('node:worker_threads'); import(workerData.tsx).then((tsx) => tsx.register()).then(() => import(workerData.file));`;

/** tsx's ESM register API, as a file URL (only from the sources). */
function tsxApi(): string {
  return pathToFileURL(path.join(path.dirname(createRequire(import.meta.url).resolve('tsx/esm/api')), 'index.mjs')).href;
}

/** Bodies shorter than this (characters) are parsed on the calling thread. */
export const WORKER_MIN_CHARS = 4096;
/**
 * When every worker already has this many characters of bodies waiting, the next body is
 * parsed on the calling thread: in a burst both threads parse, and no body waits behind a
 * long queue on one worker (about 15 typical reports; a large body still goes to an idle worker).
 */
export const WORKER_QUEUE_CHARS = 512 * 1024;
/**
 * A worker idle this long is stopped (the next large body starts one again, ~0.1-0.3 s): its
 * heap, grown by the largest body it parsed, is given back instead of being held while idle.
 */
export const IDLE_STOP_MS = 30_000;
/** A worker that died this many times within a minute is not started again (the calling thread does the work). */
const MAX_RESTARTS_PER_MINUTE = 3;

interface Slot {
  worker: Worker;
  /** stops the worker once it has been idle for IDLE_STOP_MS */
  idle: NodeJS.Timeout | null;
  pending: Map<number, (res: ParseResponse | null) => void>;
  /** characters of the bodies sent and not yet answered (the least loaded worker gets the next) */
  load: number;
}

/** Worker threads sized to the cores: one per core beyond the main thread's, at least one, at most four. */
export function parseWorkerCount(env = process.env): number {
  const set = Number(env.PALISADE_INGEST_PARSE_WORKERS);
  if (env.PALISADE_INGEST_PARSE_WORKERS !== undefined && Number.isInteger(set) && set >= 0) return Math.min(set, 16);
  return Math.max(1, Math.min(4, os.availableParallelism() - 1));
}

export class ReportParsers {
  private readonly slots: Array<Slot | null>;
  private nextId = 1;
  private deaths: number[] = [];
  private closed = false;
  /** requests answered by a worker, and on the calling thread (for tests and metrics) */
  readonly counts = { worker: 0, inline: 0 };

  /**
   * @param inline accept's work on the calling thread (the queue's yields between slices of a
   *   large report's servers while it redacts them); the same result as acceptBody
   */
  constructor(
    readonly size = parseWorkerCount(),
    private readonly inline: (text: string, rawKey: string | null) => Promise<AcceptedBody> = async (text, rawKey) => acceptBody(text, rawKey),
    private readonly idleStopMs = IDLE_STOP_MS,
  ) {
    this.slots = Array.from({ length: size }, () => null);
  }

  /** A received body, parsed, validated and redacted (ReportRejected when it is not a valid report). */
  async accept(text: string, rawKey: string | null): Promise<AcceptedBody> {
    const res = await this.send(text.length, (id) => ({ id, op: 'accept', text, rawKey }));
    if (!res) {
      this.counts.inline++;
      return this.inline(text, rawKey);
    }
    return unwrap(res).accepted!;
  }

  /** An inbox envelope's report validated again, with its content hash (ReportRejected, or SyntaxError when it is not JSON). */
  async reread(text: string): Promise<{ report: ScanReport; rawKey: string | null; content: string; entries?: EntriesPlan | null }> {
    const res = await this.send(text.length, (id) => ({ id, op: 'reread', text }));
    if (!res) {
      this.counts.inline++;
      const { report, rawKey } = rereadReport(text);
      return { report, rawKey, content: contentHash(report) };
    }
    const r = unwrap(res).reread!;
    return { report: JSON.parse(r.report) as ScanReport, rawKey: r.rawKey, content: r.content, entries: r.entries };
  }

  /** Stops the workers (what they were doing is done again on the calling thread). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(
      this.slots.map((s, i) => {
        if (!s) return undefined;
        this.slots[i] = null;
        if (s.idle) clearTimeout(s.idle);
        return s.worker.terminate();
      }),
    );
  }

  /** Sends a request to the least loaded worker; null when none can take it (the caller does the work). */
  private async send(chars: number, make: (id: number) => ParseRequest): Promise<ParseResponse | null> {
    if (chars < WORKER_MIN_CHARS || this.size === 0 || this.closed) return null;
    const slot = this.pick();
    if (!slot || slot.load >= WORKER_QUEUE_CHARS) return null;
    const id = this.nextId++;
    slot.load += chars;
    const res = await new Promise<ParseResponse | null>((resolve) => {
      if (slot.idle) clearTimeout(slot.idle);
      slot.idle = null;
      if (slot.pending.size === 0) slot.worker.ref();
      slot.pending.set(id, resolve);
      try {
        slot.worker.postMessage(make(id));
      } catch {
        slot.pending.delete(id);
        resolve(null);
      }
    });
    slot.load -= chars;
    if (res) this.counts.worker++;
    return res;
  }

  /** Stops an idle worker (its slot starts a new one when needed). */
  private retire(i: number, slot: Slot): void {
    if (slot.pending.size > 0) return;
    retired.add(slot);
    if (this.slots[i] === slot) this.slots[i] = null;
    void slot.worker.terminate();
  }

  private pick(): Slot | null {
    let best: Slot | null = null;
    for (let i = 0; i < this.slots.length; i++) {
      const s = this.slots[i] ?? this.start(i);
      if (s && (!best || s.load < best.load)) best = s;
    }
    return best;
  }

  private start(i: number): Slot | null {
    const now = Date.now();
    this.deaths = this.deaths.filter((t) => now - t < 60_000);
    if (this.deaths.length >= MAX_RESTARTS_PER_MINUTE) return null;
    let worker: Worker;
    try {
      // from the sources (tests, `tsx`) the worker registers tsx's loader before it loads its
      // TypeScript (a worker does not take `--import tsx` from its execArgv on Node 20)
      const source = import.meta.url.endsWith('.ts');
      const file = new URL(source ? './parse-worker.ts' : './parse-worker.js', import.meta.url);
      worker = new Worker(source ? TSX_BOOT : file, {
        eval: source,
        workerData: { palisadeParseWorker: true, ...(source ? { tsx: tsxApi(), file: file.href } : {}) },
        execArgv: source ? ['--conditions=source'] : [],
        // a 4 MB body parses into tens of MB; the in-flight budget bounds how many at once
        resourceLimits: { maxOldGenerationSizeMb: 512, maxYoungGenerationSizeMb: 8 },
      });
    } catch {
      this.deaths.push(now);
      return null;
    }
    const slot: Slot = { worker, idle: null, pending: new Map(), load: 0 };
    // an idle worker does not keep the process alive; one with work does
    worker.unref();
    worker.on('message', (res: ParseResponse) => {
      const done = slot.pending.get(res.id);
      slot.pending.delete(res.id);
      if (slot.pending.size === 0) {
        worker.unref();
        slot.idle = setTimeout(() => this.retire(i, slot), this.idleStopMs).unref();
      }
      done?.(res);
    });
    let ended = false;
    const gone = () => {
      if (ended) return;
      ended = true;
      if (slot.idle) clearTimeout(slot.idle);
      if (this.slots[i] === slot) this.slots[i] = null;
      if (!this.closed && !retired.has(slot)) this.deaths.push(Date.now());
      // what it held is done on the calling thread
      for (const done of slot.pending.values()) done(null);
      slot.pending.clear();
    };
    worker.on('error', gone);
    worker.on('exit', gone);
    this.slots[i] = slot;
    return slot;
  }
}

/** Workers stopped for being idle (their exit is not a death). */
const retired = new WeakSet<Slot>();

function unwrap(res: ParseResponse): Extract<ParseResponse, { ok: true }> {
  if (res.ok) return res;
  if (res.rejected) throw new ReportRejected(res.rejected.code, res.rejected.message);
  throw new SyntaxError(res.error ?? 'The report could not be read.');
}

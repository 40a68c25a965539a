// Reports waiting to be delivered, one file each (mode 0600) in <state>/spool/, named so
// that names sort in the order they were made. Drained oldest first; a file is deleted
// only after a 2xx, so each report is delivered once (and the backend treats a repeat of
// the same report as unchanged anyway). Bounded in count and bytes: the oldest go first.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ensureStateDir } from '../state.js';
import type { SendOutcome } from './send.js';

export interface SpoolOptions {
  maxFiles?: number;
  maxBytes?: number;
  warn?: (message: string) => void;
}

export interface DrainResult {
  delivered: number;
  rejected: number;
  /** why draining stopped early (the backend is unreachable or busy), if it did */
  stoppedBecause: string | null;
  remaining: number;
  /** outcome of each file sent, in order */
  outcomes: Array<{ file: string; outcome: SendOutcome }>;
}

let sequence = 0;

export class Spool {
  readonly dir: string;
  readonly rejectedDir: string;
  private readonly maxFiles: number;
  private readonly maxBytes: number;
  private readonly warn: (message: string) => void;

  constructor(stateDir: string, opts: SpoolOptions = {}) {
    this.dir = path.join(stateDir, 'spool');
    this.rejectedDir = path.join(this.dir, 'rejected');
    this.maxFiles = opts.maxFiles ?? 100;
    this.maxBytes = opts.maxBytes ?? 50 * 1024 * 1024;
    this.warn = opts.warn ?? ((m) => process.stderr.write(`palisade: ${m}\n`));
  }

  /** Files waiting, oldest first. */
  async pending(): Promise<string[]> {
    let names: string[];
    try {
      names = await fs.readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    return names.filter((n) => /^\d{16}-\d+-\d+\.json$/.test(n)).sort().map((n) => path.join(this.dir, n));
  }

  /** Add a report; returns its file. Drops the oldest waiting reports beyond the bounds. */
  async add(body: string, now = Date.now()): Promise<string> {
    await ensureStateDir(this.dir);
    const name = `${String(now).padStart(16, '0')}-${String(sequence++).padStart(8, '0')}-${process.pid}.json`;
    const file = path.join(this.dir, name);
    const tmp = `${file}.tmp`;
    await fs.writeFile(tmp, body, { mode: 0o600 });
    await fs.rename(tmp, file);
    await this.enforceBounds();
    return file;
  }

  private async enforceBounds(): Promise<void> {
    const files = await this.pending();
    const sizes = await Promise.all(files.map(async (f) => (await fs.stat(f)).size));
    let total = sizes.reduce((a, b) => a + b, 0);
    let count = files.length;
    for (let i = 0; i < files.length - 1 && (count > this.maxFiles || total > this.maxBytes); i++) {
      await fs.rm(files[i]!, { force: true });
      this.warn(`the report spool is full (${this.maxFiles} reports / ${Math.round(this.maxBytes / 1024 / 1024)} MiB): dropped the oldest waiting report ${path.basename(files[i]!)}.`);
      count--;
      total -= sizes[i]!;
    }
  }

  /** Send waiting reports oldest first until one cannot be delivered now. */
  async drain(send: (body: string) => Promise<SendOutcome>): Promise<DrainResult> {
    const result: DrainResult = { delivered: 0, rejected: 0, stoppedBecause: null, remaining: 0, outcomes: [] };
    const files = await this.pending();
    for (let i = 0; i < files.length; i++) {
      const file = files[i]!;
      let body: string;
      try {
        body = await fs.readFile(file, 'utf8');
      } catch {
        continue; // another drain (a second agent process) took it
      }
      const outcome = await send(body);
      result.outcomes.push({ file, outcome });
      if (outcome.kind === 'delivered') {
        await fs.rm(file, { force: true });
        result.delivered++;
      } else if (outcome.kind === 'rejected') {
        await ensureStateDir(this.rejectedDir);
        const target = path.join(this.rejectedDir, path.basename(file));
        await fs.rename(file, target);
        await fs.writeFile(`${target}.reason.txt`, `${outcome.reason}\n`, { mode: 0o600 });
        this.warn(`${outcome.reason}. The report was kept in ${target}; fix the cause, then delete it.`);
        result.rejected++;
      } else {
        result.stoppedBecause = outcome.reason;
        result.remaining = files.length - i;
        return result;
      }
    }
    return result;
  }
}

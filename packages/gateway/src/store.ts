// The gateway's own store (SQLite in the `store` folder): pinned tool definitions, what is
// quarantined or blocked and why, approvals, gateway tokens (SHA-256 only) and the audit log.
// Several processes may open it (the running gateway and `palisade gateway approve`): WAL mode.
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';

export type ToolStatus = 'ok' | 'quarantined' | 'blocked';

export interface ToolRow {
  federated: string;
  upstream: string;
  tool: string;
  hash: string;
  definition: string;
  status: ToolStatus;
  reason: string | null;
  updatedAt: string;
}

export interface PinRow {
  upstream: string;
  tool: string;
  hash: string;
  definition: string;
  pinnedAt: string;
}

export interface TokenRow {
  id: number;
  name: string;
  sha256: string;
  prefix: string;
  virtualServers: string[] | null;
  expiresAt: string | null;
  createdAt: string;
}

export interface AuditRecord {
  at: string;
  kind: string;
  principal: string | null;
  virtualServer: string | null;
  upstream: string | null;
  tool: string | null;
  argHash: string | null;
  decision: string;
  reason: string | null;
  latencyMs: number | null;
  resultBytes: number | null;
  detail: unknown;
}

/** Audit records are written at once past this many waiting. */
const AUDIT_BATCH_MAX = 256;
/**
 * At most one audit transaction per this many ms while records keep coming (at 2,000 calls/s a
 * transaction per event-loop turn was one per call or two: its locks, WAL write and commit cost
 * more than the inserts). A record that comes after a quiet spell is written at the end of its
 * event-loop turn, as before; during a burst it waits for the window's end at most.
 */
export const AUDIT_FLUSH_MS = 5;

/** How often the running gateway's checkpoint thread moves the WAL into the database file. */
export const CHECKPOINT_EVERY_MS = 1000;
/** SQLite's own default: a commit that leaves the WAL past this many pages checkpoints it. */
const SQLITE_AUTOCHECKPOINT_PAGES = 1000;

export interface GatewayStoreOptions {
  /**
   * Checkpoint the WAL from a worker thread of its own (the running gateway) instead of inside a
   * commit on the thread that serves calls. A checkpoint copies the WAL into the database file and
   * fsyncs both: ~8 ms here once every ~4,000 audit records, far longer on a busy disk, and every
   * call in flight waited for it. Commands that open the store for a moment (approve, tokens)
   * keep SQLite's own checkpoints.
   */
  backgroundCheckpoints?: boolean;
  /** how often the checkpoint thread runs (ms), CHECKPOINT_EVERY_MS unless set */
  checkpointEveryMs?: number;
  /** where the checkpoint thread's troubles are reported from the start (becomes onWarn) */
  warn?: (message: string) => void;
}

// The checkpoint thread: its own connection to the same file, a PASSIVE checkpoint on a timer
// (it never waits for, nor blocks, the gateway's readers and writers). An eval'd script, so it
// runs the same from the tsc output and from the CLI's bundle; the SQLite driver is the one the
// gateway resolved. It stops on any message.
const CHECKPOINT_THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('synchronous = NORMAL');
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (err) {
    parentPort.postMessage(String((err && err.message) || err));
  }
}, workerData.everyMs);
parentPort.once('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export class GatewayStore {
  private readonly sqlite: Database.Database;
  private readonly stmts;
  /** audit records not written yet: at most AUDIT_FLUSH_MS old (or one event-loop turn, or AUDIT_BATCH_MAX records) */
  private pendingAudit: { r: AuditRecord; detail: string | null }[] = [];
  private auditFlush?: NodeJS.Immediate;
  private auditTimer?: NodeJS.Timeout;
  /** when the last audit transaction was written (performance.now()) */
  private lastAuditFlush = -Infinity;
  private readonly writeAudit: (batch: { r: AuditRecord; detail: string | null }[]) => void;
  /** where a failed audit write is reported (the batch is written after audit() returned) */
  onAuditError?: (err: unknown) => void;
  /** where the checkpoint thread's troubles are reported (set by the gateway) */
  onWarn?: (message: string) => void;
  private checkpointer?: Worker;

  constructor(folder: string, opts: GatewayStoreOptions = {}) {
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    // set before the checkpoint thread starts, so a thread that cannot start is reported too
    this.onWarn = opts.warn;
    const file = path.join(folder, 'gateway.sqlite');
    this.sqlite = new Database(file);
    this.sqlite.pragma('journal_mode = WAL');
    // WAL with NORMAL: a commit reaches the OS at once and survives a crash of the gateway; only
    // an OS crash or power loss can take the last commits back. FULL would also fsync the WAL on
    // every commit (~0.12 ms each here, on the thread that serves calls), where NORMAL fsyncs
    // only at checkpoints. The backend's SQLite runs the same way (server/src/db/open.ts).
    this.sqlite.pragma('synchronous = NORMAL');
    this.sqlite.pragma('busy_timeout = 5000');
    this.sqlite.exec(`
      CREATE TABLE IF NOT EXISTS pins (upstream TEXT NOT NULL, tool TEXT NOT NULL, hash TEXT NOT NULL, definition TEXT NOT NULL, pinned_at TEXT NOT NULL, PRIMARY KEY (upstream, tool));
      CREATE TABLE IF NOT EXISTS tools (federated TEXT PRIMARY KEY, upstream TEXT NOT NULL, tool TEXT NOT NULL, hash TEXT NOT NULL, definition TEXT NOT NULL, status TEXT NOT NULL, reason TEXT, updated_at TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS risk_approvals (upstream TEXT NOT NULL, tool TEXT NOT NULL, hash TEXT NOT NULL, approved_at TEXT NOT NULL, PRIMARY KEY (upstream, tool, hash));
      CREATE TABLE IF NOT EXISTS tokens (id INTEGER PRIMARY KEY, name TEXT NOT NULL, sha256 TEXT NOT NULL UNIQUE, prefix TEXT NOT NULL, virtual_servers TEXT, expires_at TEXT, created_at TEXT NOT NULL, revoked_at TEXT);
      CREATE TABLE IF NOT EXISTS audit (id INTEGER PRIMARY KEY, at TEXT NOT NULL, kind TEXT NOT NULL, principal TEXT, virtual_server TEXT, upstream TEXT, tool TEXT, arg_hash TEXT, decision TEXT NOT NULL, reason TEXT, latency_ms REAL, result_bytes INTEGER, detail TEXT);
      CREATE INDEX IF NOT EXISTS audit_at ON audit (at);
      CREATE TABLE IF NOT EXISTS rejections (upstream TEXT NOT NULL, tool TEXT NOT NULL, hash TEXT NOT NULL, reason TEXT NOT NULL, rejected_at TEXT NOT NULL, PRIMARY KEY (upstream, tool, hash));
    `);
    this.stmts = {
      getPin: this.sqlite.prepare('SELECT upstream, tool, hash, definition, pinned_at AS pinnedAt FROM pins WHERE upstream = ? AND tool = ?'),
      putPin: this.sqlite.prepare(
        'INSERT INTO pins (upstream, tool, hash, definition, pinned_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (upstream, tool) DO UPDATE SET hash = excluded.hash, definition = excluded.definition, pinned_at = excluded.pinned_at',
      ),
      putTool: this.sqlite.prepare(
        'INSERT INTO tools (federated, upstream, tool, hash, definition, status, reason, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (federated) DO UPDATE SET upstream = excluded.upstream, tool = excluded.tool, hash = excluded.hash, definition = excluded.definition, status = excluded.status, reason = excluded.reason, updated_at = excluded.updated_at',
      ),
      getTool: this.sqlite.prepare(
        'SELECT federated, upstream, tool, hash, definition, status, reason, updated_at AS updatedAt FROM tools WHERE federated = ?',
      ),
      listTools: this.sqlite.prepare(
        'SELECT federated, upstream, tool, hash, definition, status, reason, updated_at AS updatedAt FROM tools ORDER BY federated',
      ),
      isRiskApproved: this.sqlite.prepare('SELECT 1 FROM risk_approvals WHERE upstream = ? AND tool = ? AND hash = ?'),
      approveRisk: this.sqlite.prepare('INSERT OR IGNORE INTO risk_approvals (upstream, tool, hash, approved_at) VALUES (?, ?, ?, ?)'),
      addToken: this.sqlite.prepare('INSERT INTO tokens (name, sha256, prefix, virtual_servers, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?)'),
      tokenByHash: this.sqlite.prepare(
        'SELECT id, name, sha256, prefix, virtual_servers AS virtualServers, expires_at AS expiresAt, created_at AS createdAt FROM tokens WHERE sha256 = ? AND revoked_at IS NULL',
      ),
      audit: this.sqlite.prepare(
        'INSERT INTO audit (at, kind, principal, virtual_server, upstream, tool, arg_hash, decision, reason, latency_ms, result_bytes, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      recentAudit: this.sqlite.prepare(
        'SELECT at, kind, principal, virtual_server AS virtualServer, upstream, tool, arg_hash AS argHash, decision, reason, latency_ms AS latencyMs, result_bytes AS resultBytes, detail FROM audit ORDER BY id DESC LIMIT ?',
      ),
    };
    const insert = this.stmts.audit;
    this.writeAudit = this.sqlite.transaction((batch: { r: AuditRecord; detail: string | null }[]) => {
      for (const { r, detail } of batch)
        insert.run(r.at, r.kind, r.principal, r.virtualServer, r.upstream, r.tool, r.argHash, r.decision, r.reason, r.latencyMs, r.resultBytes, detail);
    });
    if (opts.backgroundCheckpoints) this.startCheckpointer(file, opts.checkpointEveryMs ?? CHECKPOINT_EVERY_MS);
  }

  private startCheckpointer(file: string, everyMs: number): void {
    let worker: Worker;
    try {
      const driver = createRequire(import.meta.url).resolve('better-sqlite3');
      worker = new Worker(CHECKPOINT_THREAD, { eval: true, workerData: { file, driver, everyMs } });
    } catch (err) {
      // no thread: SQLite's own checkpoints, as before
      this.onWarn?.(`the WAL checkpoint thread could not start (${String(err)}); checkpoints run on the main thread`);
      return;
    }
    this.checkpointer = worker;
    // the thread checkpoints from now on; SQLite's inside-the-commit checkpoints are off
    this.sqlite.pragma('wal_autocheckpoint = 0');
    worker.unref();
    worker.on('message', (message: string) => this.onWarn?.(`WAL checkpoint failed: ${message}`));
    worker.on('error', (err) => this.onWarn?.(`the WAL checkpoint thread failed: ${String(err)}`));
    worker.on('exit', () => {
      if (this.checkpointer !== worker) return;
      // gone unasked: SQLite checkpoints again, so the WAL never grows without bound
      this.checkpointer = undefined;
      if (this.sqlite.open) this.sqlite.pragma(`wal_autocheckpoint = ${SQLITE_AUTOCHECKPOINT_PAGES}`);
      this.onWarn?.('the WAL checkpoint thread stopped; checkpoints run on the main thread');
    });
  }

  /** Whether a thread of its own checkpoints the WAL (see GatewayStoreOptions). */
  get checkpointsInBackground(): boolean {
    return this.checkpointer !== undefined;
  }

  /** Tests only: the checkpoint thread, to stop it as if it had failed. */
  get checkpointThreadForTests(): Worker | undefined {
    return this.checkpointer;
  }

  /** The database, for what this class does not wrap (admin views, the vault, backend sync): audit records still waiting are written first, so a read through it sees every record. */
  get db(): Database.Database {
    if (this.pendingAudit.length > 0) this.flushAudit();
    return this.sqlite;
  }

  getPin(upstream: string, tool: string): PinRow | undefined {
    return this.stmts.getPin.get(upstream, tool) as PinRow | undefined;
  }

  putPin(upstream: string, tool: string, hash: string, definition: string): void {
    this.stmts.putPin.run(upstream, tool, hash, definition, new Date().toISOString());
  }

  putTool(row: Omit<ToolRow, 'updatedAt'>): void {
    this.stmts.putTool.run(row.federated, row.upstream, row.tool, row.hash, row.definition, row.status, row.reason, new Date().toISOString());
  }

  getTool(federated: string): ToolRow | undefined {
    return this.stmts.getTool.get(federated) as ToolRow | undefined;
  }

  listTools(): ToolRow[] {
    return this.stmts.listTools.all() as ToolRow[];
  }

  /** A changed definition rejected by a reviewer (the Palisade dashboard): it stays quarantined, with this reason. */
  putRejection(upstream: string, tool: string, hash: string, reason: string): void {
    this.sqlite
      .prepare(
        'INSERT INTO rejections (upstream, tool, hash, reason, rejected_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (upstream, tool, hash) DO UPDATE SET reason = excluded.reason',
      )
      .run(upstream, tool, hash, reason, new Date().toISOString());
  }

  getRejection(upstream: string, tool: string, hash: string): { reason: string; rejectedAt: string } | undefined {
    return this.sqlite
      .prepare('SELECT reason, rejected_at AS rejectedAt FROM rejections WHERE upstream = ? AND tool = ? AND hash = ?')
      .get(upstream, tool, hash) as { reason: string; rejectedAt: string } | undefined;
  }

  isRiskApproved(upstream: string, tool: string, hash: string): boolean {
    return this.stmts.isRiskApproved.get(upstream, tool, hash) !== undefined;
  }

  /**
   * Release one tool as it is now: a quarantined change becomes the pinned definition, a
   * tool blocked by risk is allowed at this exact definition. Returns what was done.
   */
  approve(federated: string): string | undefined {
    const row = this.getTool(federated);
    if (!row) return undefined;
    const now = new Date().toISOString();
    this.sqlite.transaction(() => {
      this.stmts.putPin.run(row.upstream, row.tool, row.hash, row.definition, now);
      if (row.status === 'blocked') this.stmts.approveRisk.run(row.upstream, row.tool, row.hash, now);
      this.stmts.putTool.run(row.federated, row.upstream, row.tool, row.hash, row.definition, 'ok', null, now);
    })();
    return row.status === 'quarantined'
      ? 'pinned the changed definition'
      : row.status === 'blocked'
        ? 'allowed despite its risk (at this definition)'
        : 'already allowed; pin confirmed';
  }

  addToken(name: string, sha256: string, prefix: string, virtualServers: string[] | undefined, expiresAt: string | undefined): void {
    this.stmts.addToken.run(name, sha256, prefix, virtualServers ? JSON.stringify(virtualServers) : null, expiresAt ?? null, new Date().toISOString());
  }

  tokenByHash(sha256: string): TokenRow | undefined {
    const row = this.stmts.tokenByHash.get(sha256) as (Omit<TokenRow, 'virtualServers'> & { virtualServers: string | null }) | undefined;
    if (!row) return undefined;
    return { ...row, virtualServers: row.virtualServers ? (JSON.parse(row.virtualServers) as string[]) : null };
  }

  /**
   * Queue one audit record. Records are written together, in one transaction (one commit) per
   * batch, instead of one commit each: the gateway's hot path. A record is in the database at the
   * end of its event-loop turn when the last transaction is more than AUDIT_FLUSH_MS old, else
   * when that window ends (records of a burst share one transaction); at once when
   * AUDIT_BATCH_MAX are waiting; before any read through this store (db included); and on close().
   */
  audit(r: AuditRecord): void {
    // serialised now: the record is what it was when the decision was made
    this.pendingAudit.push({ r, detail: r.detail === undefined ? null : JSON.stringify(r.detail) });
    if (this.pendingAudit.length >= AUDIT_BATCH_MAX) this.flushAudit();
    else if (this.auditFlush === undefined && this.auditTimer === undefined) {
      const wait = this.lastAuditFlush + AUDIT_FLUSH_MS - performance.now();
      if (wait <= 0) this.auditFlush = setImmediate(flushAuditOf, this);
      else this.auditTimer = setTimeout(flushAuditOf, Math.ceil(wait), this);
    }
  }

  /** Write the queued audit records now (one transaction). */
  flushAudit(): void {
    if (this.auditFlush) clearImmediate(this.auditFlush);
    if (this.auditTimer) clearTimeout(this.auditTimer);
    this.auditFlush = undefined;
    this.auditTimer = undefined;
    if (this.pendingAudit.length === 0) return;
    const batch = this.pendingAudit;
    this.pendingAudit = [];
    this.lastAuditFlush = performance.now();
    try {
      this.writeAudit(batch);
    } catch (err) {
      if (this.onAuditError) this.onAuditError(err);
      else throw err;
    }
  }

  recentAudit(limit = 100): AuditRecord[] {
    this.flushAudit();
    return (this.stmts.recentAudit.all(limit) as (AuditRecord & { detail: string | null })[]).map((r) => ({
      ...r,
      detail: r.detail ? JSON.parse(r.detail) : null,
    }));
  }

  close(): void {
    this.flushAudit();
    const worker = this.checkpointer;
    this.checkpointer = undefined;
    if (worker) {
      worker.postMessage('stop');
      // at shutdown a wait is fine: what the thread has not moved yet goes into the database file now
      try {
        this.sqlite.pragma('wal_checkpoint(PASSIVE)');
      } catch {
        // the thread's own last checkpoint may hold the lock: the WAL stays, SQLite reads it at the next open
      }
    }
    this.sqlite.close();
  }
}

/** The queued records' write, from a timer or setImmediate. */
function flushAuditOf(store: GatewayStore): void {
  try {
    store.flushAudit();
  } catch (err) {
    // no handler set (a store used outside the gateway): reported, never thrown into the event loop
    process.stderr.write(`palisade gateway: could not write audit records: ${String(err)}\n`);
  }
}

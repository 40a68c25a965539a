// The running gateway's store checkpoints its WAL from a thread of its own (store.ts
// GatewayStoreOptions.backgroundCheckpoints): the thread that serves calls never copies the WAL
// into the database file nor fsyncs it inside a commit. Real SQLite files, a real worker thread.
import { statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { GatewayStore } from '../src/store.js';
import { callRecord, tmpDir } from './helpers.js';

// 6,000 records in transactions of 10: about 1,900 WAL pages, past SQLite's 1,000-page autocheckpoint
const MANY = 6000;

/** Writes `n` audit records in batches of 10 (one transaction each), as the gateway does under load. */
function writeRecords(store: GatewayStore, n: number): void {
  for (let i = 0; i < n; i++) {
    store.audit(callRecord(`tool-${i}`));
    if (i % 10 === 9) store.flushAudit();
  }
  store.flushAudit();
}

const size = (file: string): number => statSync(file).size;
/** How much the database file grew while MANY records were written (a checkpoint inside a commit grows it). */
const growthWhileWriting = (store: GatewayStore, file: string): number => {
  const before = size(file);
  writeRecords(store, MANY);
  return size(file) - before;
};
/** How many audit records another connection reads from the closed store's file. */
function auditCount(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM audit').get() as { n: number }).n;
  } finally {
    db.close();
  }
}
const until = async (what: () => boolean, ms: number): Promise<boolean> => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (what()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return what();
};

describe('WAL checkpoints of the running gateway', () => {
  it('a commit on the main thread never checkpoints: the database file is untouched however long the WAL grows', () => {
    const dir = path.join(tmpDir(), 'store');
    // the thread's timer far away, so nothing but a commit could checkpoint during the writes
    const store = new GatewayStore(dir, { backgroundCheckpoints: true, checkpointEveryMs: 60_000 });
    const file = path.join(dir, 'gateway.sqlite');
    try {
      expect(store.checkpointsInBackground).toBe(true);
      expect(store.db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
      expect(growthWhileWriting(store, file)).toBe(0);
      expect(size(`${file}-wal`)).toBeGreaterThan(4096 * 1000);
      expect(store.recentAudit(1)[0]?.tool).toBe(`tool-${MANY - 1}`);
    } finally {
      store.close();
    }
    // closed: every record is in the file, read by another connection
    expect(auditCount(file)).toBe(MANY);
  });

  it('the thread moves the WAL into the database file on its timer', async () => {
    const dir = path.join(tmpDir(), 'store');
    const store = new GatewayStore(dir, { backgroundCheckpoints: true, checkpointEveryMs: 200 });
    const file = path.join(dir, 'gateway.sqlite');
    try {
      const before = size(file);
      writeRecords(store, MANY);
      // the records' pages (~800 KB of table and index) reach the database file
      expect(await until(() => size(file) > before + 500_000, 5000)).toBe(true);
    } finally {
      store.close();
    }
  });

  it('without the thread (commands that open the store for a moment) SQLite checkpoints inside the commits, as usual', () => {
    const dir = path.join(tmpDir(), 'store');
    const store = new GatewayStore(dir);
    const file = path.join(dir, 'gateway.sqlite');
    try {
      expect(store.checkpointsInBackground).toBe(false);
      expect(store.db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
      expect(growthWhileWriting(store, file)).toBeGreaterThan(500_000);
    } finally {
      store.close();
    }
  });

  it('a thread that dies hands checkpoints back to SQLite and says so', async () => {
    const dir = path.join(tmpDir(), 'store');
    const store = new GatewayStore(dir, { backgroundCheckpoints: true, checkpointEveryMs: 60_000 });
    const file = path.join(dir, 'gateway.sqlite');
    const warnings: string[] = [];
    store.onWarn = (m) => warnings.push(m);
    try {
      expect(store.db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
      await store.checkpointThreadForTests!.terminate();
      expect(await until(() => !store.checkpointsInBackground, 2000)).toBe(true);
      expect(store.db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
      expect(warnings.join('\n')).toMatch(/checkpoint thread stopped; checkpoints run on the main thread/);
      // the WAL stays bounded: SQLite's own checkpoints run again
      expect(growthWhileWriting(store, file)).toBeGreaterThan(500_000);
    } finally {
      store.close();
    }
  });

  it('closes without waiting for the thread and keeps every record', async () => {
    const dir = path.join(tmpDir(), 'store');
    const store = new GatewayStore(dir, { backgroundCheckpoints: true, checkpointEveryMs: 60_000 });
    writeRecords(store, 500);
    const thread = store.checkpointThreadForTests!;
    store.close();
    await new Promise((r) => thread.once('exit', r));
    expect(auditCount(path.join(dir, 'gateway.sqlite'))).toBe(500);
  });
});

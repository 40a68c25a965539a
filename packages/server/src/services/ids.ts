// Row ids for the tables ingest writes many rows to (tools, findings, instances, events,
// alerts, ...): UUID version 7 (RFC 9562), a 48-bit millisecond time followed by random bits.
// They are UUID strings like every other id, but they sort by creation time, so each insert
// lands at the end of the primary-key index instead of on a random page of it: a report
// dirties a few index pages instead of one per row, on SQLite and PostgreSQL alike. 62 random
// bits per id (plus a per-process sequence) keep them unguessable and unique across processes.
import { randomFillSync } from 'node:crypto';

const POOL_IDS = 256;
const pool = Buffer.alloc(8 * POOL_IDS);
let poolAt = pool.length;

let lastMs = -1;
let seq = 0;

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const b = (n: number) => HEX[n & 0xff]!;

/** A new UUIDv7 string; later calls in this process always sort after earlier ones. */
export function timeOrderedId(now = Date.now()): string {
  // 12-bit sequence within a millisecond (rand_a, RFC 9562 method 1); a full one borrows the next ms
  if (now > lastMs) {
    lastMs = now;
    seq = 0;
  } else if (++seq > 0xfff) {
    lastMs++;
    seq = 0;
  }
  if (poolAt >= pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  const hi = pool.readUInt32BE(poolAt);
  const lo = pool.readUInt32BE(poolAt + 4);
  poolAt += 8;
  const ms = lastMs;
  const timeHigh = Math.floor(ms / 0x10000); // top 32 of the 48 time bits
  const timeLow = ms % 0x10000;
  const variant = 0x8000 | (hi >>> 18); // 10 + 14 random bits
  const node = (hi & 0x3ffff) * 0x40000000 + (lo >>> 2); // 18 + 30 random bits = 48
  const nodeHigh = Math.floor(node / 0x1000000); // 24 + 24 bits
  const nodeLow = node % 0x1000000;
  return (
    b(timeHigh >>> 24) + b(timeHigh >>> 16) + b(timeHigh >>> 8) + b(timeHigh) + '-' +
    b(timeLow >>> 8) + b(timeLow) + '-' +
    b(0x70 | (seq >>> 8)) + b(seq) + '-' +
    b(variant >>> 8) + b(variant) + '-' +
    b(nodeHigh >>> 16) + b(nodeHigh >>> 8) + b(nodeHigh) + b(nodeLow >>> 16) + b(nodeLow >>> 8) + b(nodeLow)
  );
}

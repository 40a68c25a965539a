// A small ZIP reader for OSV exports (osv-vulnerabilities/<ecosystem>/all.zip): reads the central
// directory (ZIP64 included: a full npm export has more than 65,535 entries), inflates entries
// with node:zlib, and bounds every size. Entries are never written to disk, so names cannot
// escape anywhere (no zip-slip); they are only used in messages.
import zlib from 'node:zlib';

export interface ZipLimits {
  /** most entries read from one archive */
  maxEntries: number;
  /** largest uncompressed entry accepted */
  maxEntryBytes: number;
  /** largest sum of uncompressed entries accepted */
  maxTotalBytes: number;
}

export const DEFAULT_ZIP_LIMITS: ZipLimits = { maxEntries: 2_000_000, maxEntryBytes: 16 * 1024 * 1024, maxTotalBytes: 8 * 1024 * 1024 * 1024 };

export interface ZipEntry {
  name: string;
  /** the entry's bytes, or why it could not be read */
  data?: Buffer;
  error?: string;
}

export class ZipError extends Error {}

const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;

function u64(buf: Buffer, at: number): number {
  const v = buf.readBigUInt64LE(at);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ZipError('the archive declares a size too large to read');
  return Number(v);
}

function findEndOfCentralDirectory(buf: Buffer): number {
  // the EOCD record is at the end, followed by a comment of at most 65,535 bytes
  const stop = Math.max(0, buf.length - 22 - 65535);
  for (let i = buf.length - 22; i >= stop; i--) if (buf.readUInt32LE(i) === SIG_EOCD) return i;
  throw new ZipError('this is not a ZIP archive (no end-of-central-directory record)');
}

interface CentralEntry {
  name: string;
  method: number;
  flags: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

function readCentralDirectory(buf: Buffer, limits: ZipLimits): CentralEntry[] {
  const eocd = findEndOfCentralDirectory(buf);
  let count = buf.readUInt16LE(eocd + 10);
  let cdSize = buf.readUInt32LE(eocd + 12);
  let cdOffset = buf.readUInt32LE(eocd + 16);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || buf.readUInt32LE(loc) !== SIG_ZIP64_LOCATOR) throw new ZipError('the ZIP64 locator is missing');
    const z = u64(buf, loc + 8);
    if (z + 56 > buf.length || buf.readUInt32LE(z) !== SIG_ZIP64_EOCD) throw new ZipError('the ZIP64 end-of-central-directory record is missing');
    count = u64(buf, z + 32);
    cdSize = u64(buf, z + 40);
    cdOffset = u64(buf, z + 48);
  }
  if (count > limits.maxEntries) throw new ZipError(`the archive has ${count} entries, over the limit of ${limits.maxEntries}`);
  if (cdOffset + cdSize > buf.length) throw new ZipError('the central directory points outside the file (truncated download?)');
  const entries: CentralEntry[] = [];
  let p = cdOffset;
  for (let n = 0; n < count; n++) {
    if (p + 46 > buf.length || buf.readUInt32LE(p) !== SIG_CENTRAL) throw new ZipError(`central directory entry ${n + 1} is damaged`);
    const flags = buf.readUInt16LE(p + 8);
    const method = buf.readUInt16LE(p + 10);
    let compressedSize = buf.readUInt32LE(p + 20);
    let size = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    let localOffset = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    // ZIP64 extended information: the 64-bit values in order, only for fields that overflowed
    let e = p + 46 + nameLen;
    const extraEnd = e + extraLen;
    while (e + 4 <= extraEnd) {
      const id = buf.readUInt16LE(e);
      const len = buf.readUInt16LE(e + 2);
      if (id === 0x0001) {
        let q = e + 4;
        const end = e + 4 + len;
        if (size === 0xffffffff && q + 8 <= end) {
          size = u64(buf, q);
          q += 8;
        }
        if (compressedSize === 0xffffffff && q + 8 <= end) {
          compressedSize = u64(buf, q);
          q += 8;
        }
        if (localOffset === 0xffffffff && q + 8 <= end) localOffset = u64(buf, q);
      }
      e += 4 + len;
    }
    entries.push({ name, method, flags, compressedSize, size, localOffset });
    p = extraEnd + commentLen;
  }
  return entries;
}

/** Read every file entry of a ZIP archive held in memory; damaged entries come back with an error. */
export function* readZipEntries(buf: Buffer, limits: ZipLimits = DEFAULT_ZIP_LIMITS): Generator<ZipEntry> {
  const entries = readCentralDirectory(buf, limits);
  let total = 0;
  for (const ce of entries) {
    if (ce.name.endsWith('/')) continue;
    // names only appear in messages: replace control characters so they cannot garble a terminal
    const name = [...ce.name].map((ch) => (ch.charCodeAt(0) < 32 ? '?' : ch)).join('').slice(0, 300);
    if (ce.flags & 1) {
      yield { name, error: 'the entry is encrypted' };
      continue;
    }
    if (ce.size > limits.maxEntryBytes) {
      yield { name, error: `the entry is ${ce.size} bytes, over the ${limits.maxEntryBytes}-byte limit` };
      continue;
    }
    total += ce.size;
    if (total > limits.maxTotalBytes) throw new ZipError(`the archive unpacks to more than ${limits.maxTotalBytes} bytes; it was not read further`);
    const lh = ce.localOffset;
    if (lh + 30 > buf.length || buf.readUInt32LE(lh) !== SIG_LOCAL) {
      yield { name, error: 'the local header is damaged' };
      continue;
    }
    const start = lh + 30 + buf.readUInt16LE(lh + 26) + buf.readUInt16LE(lh + 28);
    const end = start + ce.compressedSize;
    if (end > buf.length) {
      yield { name, error: 'the entry runs past the end of the file' };
      continue;
    }
    const raw = buf.subarray(start, end);
    try {
      let data: Buffer;
      if (ce.method === 0) data = Buffer.from(raw);
      else if (ce.method === 8) data = zlib.inflateRawSync(raw, { maxOutputLength: Math.max(1, limits.maxEntryBytes) });
      else {
        yield { name, error: `compression method ${ce.method} is not supported (only stored and deflate)` };
        continue;
      }
      if (data.length !== ce.size) yield { name, error: `the entry inflates to ${data.length} bytes, not the ${ce.size} it declares` };
      else yield { name, data };
    } catch (err) {
      yield { name, error: `the entry cannot be inflated (${err instanceof Error ? err.message : String(err)})` };
    }
  }
}

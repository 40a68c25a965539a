// Advisory import at the size of a real OSV ecosystem export: 100,000 synthetic OSV records in
// one ZIP (ZIP64, as osv.dev's npm all.zip needs past 65,535 entries), generated into a temp
// folder, imported with `palisade advisories import` as a whole process. Prints the time and
// records/s, then what the store costs a scan: loading the database and matching one package.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import zlib from 'node:zlib';

const root = fileURLToPath(new URL('..', import.meta.url));
const RECORDS = Number(process.env.BENCH_ADVISORIES) || 100_000;
const PACKAGES = Math.max(1, Math.round(RECORDS / 5));
const cli = path.join(root, 'packages/cli/bin/palisade.js');

function buildAgent() {
  const tsc = spawnSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-b', 'packages/core', 'packages/mcp', 'packages/agent', 'packages/cli'], { cwd: root, encoding: 'utf8' });
  if (tsc.status !== 0) process.stdout.write('note: tsc reported errors (see `npm run typecheck`); measuring what was emitted.\n');
}

// ---- a minimal ZIP writer (deflate entries, ZIP64 end records) ----
const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function writeZip(entries) {
  const parts = [];
  const central = [];
  let offset = 0;
  for (const { name, data } of entries) {
    const body = zlib.deflateRawSync(data);
    const n = Buffer.from(name);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(n.length, 26);
    parts.push(local, n, body);
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(45, 4);
    c.writeUInt16LE(20, 6);
    c.writeUInt16LE(8, 10);
    c.writeUInt32LE(crc, 16);
    c.writeUInt32LE(body.length, 20);
    c.writeUInt32LE(data.length, 24);
    c.writeUInt16LE(n.length, 28);
    c.writeUInt32LE(offset, 42);
    central.push(c, n);
    offset += 30 + n.length + body.length;
  }
  const cd = Buffer.concat(central);
  const z = Buffer.alloc(56);
  z.writeUInt32LE(0x06064b50, 0);
  z.writeBigUInt64LE(44n, 4);
  z.writeUInt16LE(45, 12);
  z.writeUInt16LE(45, 14);
  z.writeBigUInt64LE(BigInt(entries.length), 24);
  z.writeBigUInt64LE(BigInt(entries.length), 32);
  z.writeBigUInt64LE(BigInt(cd.length), 40);
  z.writeBigUInt64LE(BigInt(offset), 48);
  const loc = Buffer.alloc(20);
  loc.writeUInt32LE(0x07064b50, 0);
  loc.writeBigUInt64LE(BigInt(offset + cd.length), 8);
  loc.writeUInt32LE(1, 16);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(0xffff, 8);
  eocd.writeUInt16LE(0xffff, 10);
  eocd.writeUInt32LE(0xffffffff, 12);
  eocd.writeUInt32LE(0xffffffff, 16);
  return Buffer.concat([...parts, cd, z, loc, eocd]);
}

// Synthetic records shaped like OSV npm entries; ids and packages are made up (bench fixtures).
function record(i) {
  const pkg = `bench-fixture-pkg-${i % PACKAGES}`;
  const minor = i % 40;
  return {
    schema_version: '1.6.0',
    id: `BENCH-${String(i).padStart(6, '0')}`,
    modified: '2026-01-01T00:00:00Z',
    published: '2025-06-01T00:00:00Z',
    aliases: [`CVE-2099-${String(10000 + i)}`],
    summary: `synthetic advisory ${i} for the import bench`,
    details: 'A synthetic record used only to measure import speed.',
    severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:N' }],
    affected: [{ package: { ecosystem: 'npm', name: pkg, purl: `pkg:npm/${pkg}` }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: `1.${minor}.0` }] }], versions: [`1.${minor}.0-beta.1`] }],
    references: [{ type: 'ADVISORY', url: `https://example.invalid/advisories/BENCH-${i}` }],
    database_specific: { severity: 'HIGH' },
  };
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'palisade-adv-bench-'));
try {
  buildAgent();
  const t0 = performance.now();
  const entries = [];
  for (let i = 0; i < RECORDS; i++) entries.push({ name: `BENCH-${String(i).padStart(6, '0')}.json`, data: Buffer.from(JSON.stringify(record(i))) });
  const zipFile = path.join(tmp, 'all.zip');
  writeFileSync(zipFile, writeZip(entries));
  const genMs = performance.now() - t0;
  process.stdout.write(`generated ${RECORDS} records into ${zipFile} (${(statSync(zipFile).size / 1024 / 1024).toFixed(1)} MiB zip) in ${(genMs / 1000).toFixed(1)} s\n`);

  const env = { ...process.env, PALISADE_STATE_DIR: path.join(tmp, 'state') };
  const t1 = performance.now();
  const out = execFileSync(process.execPath, [cli, 'advisories', 'import', zipFile, '--json'], { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const importMs = performance.now() - t1;
  const summary = JSON.parse(out);
  if (summary.added !== RECORDS) throw new Error(`expected ${RECORDS} added, got ${summary.added} (skipped ${summary.skipped})`);
  process.stdout.write(`import: ${(importMs / 1000).toFixed(2)} s for ${RECORDS} records = ${Math.round(RECORDS / (importMs / 1000))} records/s (whole process)\n`);

  const t2 = performance.now();
  execFileSync(process.execPath, [cli, 'advisories', 'import', zipFile, '--json'], { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const again = performance.now() - t2;
  process.stdout.write(`re-import (idempotent, nothing written): ${(again / 1000).toFixed(2)} s = ${Math.round(RECORDS / (again / 1000))} records/s\n`);

  // what a scan pays: the loader and one package lookup, in this process
  const agent = await import(pathToFileURL(path.join(root, 'packages/agent/dist/advisories/index.js')).href);
  const core = await import(pathToFileURL(path.join(root, 'packages/core/dist/index.js')).href);
  const t3 = performance.now();
  const db = agent.loadAdvisoryDb(env.PALISADE_STATE_DIR);
  const matches = core.matchPackage(db, { ecosystem: 'npm', name: 'bench-fixture-pkg-7', version: '1.0.0', pinned: true });
  const loadMs = performance.now() - t3;
  process.stdout.write(`scan-time cost with ${RECORDS} imported: load + match one package ${loadMs.toFixed(0)} ms (${matches.length} matches)\n`);
  const t4 = performance.now();
  agent.loadAdvisoryDb(path.join(tmp, 'empty-state'));
  process.stdout.write(`scan-time cost with nothing imported (bundled set only): ${(performance.now() - t4).toFixed(1)} ms\n`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

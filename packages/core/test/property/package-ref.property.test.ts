// Properties of package references read from launch commands: parsing never throws on any
// command line, and a pinned name@version comes back as written for npm, PyPI and Docker.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parsePackageRef, splitNpmSpec, splitPypiSpec } from '@palisade/core';

const RUNS = { seed: 42, numRuns: 200 };

const word = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/);
const npmName = fc.oneof(word, fc.tuple(word, word).map(([s, n]) => `@${s}/${n}`));
const semver = fc.tuple(fc.nat(99), fc.nat(99), fc.nat(999), fc.option(fc.stringMatching(/^[a-z0-9]{1,8}$/), { nil: undefined })).map(([a, b, c, pre]) => `${a}.${b}.${c}${pre ? `-${pre}` : ''}`);
const pypiName = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,20}$/);
const tricky = fc.constantFrom('npx', 'uvx', 'uv', 'tool', 'run', 'pipx', 'docker', 'podman', 'python', '-m', 'cmd', '/c', 'node', '-y', '--from', '-p', '--package', '--', '@', '==', 'node_modules', '@x/y@1', 'a@latest', 'git+https://x.git', '-e', '-v');
const arg = fc.oneof(tricky, fc.string({ maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 20 }));

describe('parsePackageRef', () => {
  it('never throws on any command line', () => {
    fc.assert(
      fc.property(fc.option(arg, { nil: undefined }), fc.array(arg, { maxLength: 8 }), (cmd, args) => {
        const ref = parsePackageRef(cmd, args);
        if (ref) {
          expect(typeof ref.name).toBe('string');
          expect(typeof ref.pinned).toBe('boolean');
        }
      }),
      RUNS,
    );
  });

  it('reads npx name@version back as written, pinned', () => {
    fc.assert(
      fc.property(fc.constantFrom('npx', 'bunx', '/usr/local/bin/npx', 'npx.cmd'), fc.subarray(['-y', '--yes', '-q']), npmName, semver, fc.array(fc.constantFrom('--stdio', '/tmp', '--port', '3000'), { maxLength: 3 }), (cmd, flags, name, version, rest) => {
        const ref = parsePackageRef(cmd, [...flags, `${name}@${version}`, ...rest]);
        expect(ref).toMatchObject({ ecosystem: 'npm', name, version, pinned: true });
        expect(splitNpmSpec(`${name}@${version}`)).toEqual({ name, version });
      }),
      RUNS,
    );
  });

  it('calls a bare npm name unpinned', () => {
    fc.assert(
      fc.property(npmName, (name) => {
        expect(parsePackageRef('npx', ['-y', name])).toMatchObject({ ecosystem: 'npm', name, pinned: false });
        expect(parsePackageRef('npx', ['-y', `${name}@latest`])).toMatchObject({ name, version: 'latest', pinned: false });
      }),
      RUNS,
    );
  });

  it('reads uvx name==version back as written, pinned', () => {
    fc.assert(
      fc.property(pypiName, semver, (name, version) => {
        expect(parsePackageRef('uvx', [`${name}==${version}`])).toMatchObject({ ecosystem: 'PyPI', name, version, pinned: true });
        expect(splitPypiSpec(`${name}>=${version}`)).toEqual({ name, version: `>=${version}`, exact: false });
      }),
      RUNS,
    );
  });

  it('reads docker images with tags and digests', () => {
    fc.assert(
      fc.property(fc.tuple(word, word).map(([a, b]) => `${a}/${b}`), semver, fc.stringMatching(/^[0-9a-f]{64}$/), (image, tag, digest) => {
        expect(parsePackageRef('docker', ['run', '-i', '--rm', `${image}:${tag}`])).toMatchObject({ ecosystem: 'docker', name: image, version: tag, pinned: true });
        expect(parsePackageRef('docker', ['run', '-i', `${image}@sha256:${digest}`])).toMatchObject({ name: image, version: `sha256:${digest}`, pinned: true });
        expect(parsePackageRef('docker', ['run', '-i', `${image}:latest`])).toMatchObject({ name: image, pinned: false });
      }),
      RUNS,
    );
  });
});

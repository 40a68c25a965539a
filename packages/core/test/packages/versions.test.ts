import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import semverCompare from 'semver/functions/compare.js';
import { compareVersions, comparePlainNpmVersions, isExactVersion, normalizePackageName, normalizePypiName, packageKey, versionsEqual } from '@palisade/core';

describe('PEP 440 ordering (PyPI)', () => {
  const lt = (a: string, b: string) => expect(compareVersions('PyPI', a, b), `${a} < ${b}`).toBeLessThan(0);
  it('orders pre-releases before the release', () => {
    lt('1.0rc1', '1.0');
    lt('1.0a1', '1.0b1');
    lt('1.0b2', '1.0rc1');
    lt('1.0.dev1', '1.0a1');
  });
  it('orders post-releases after the release', () => {
    lt('1.0', '1.0.post1');
    lt('1.0.post1', '1.0.1');
  });
  it('puts any epoch above no epoch', () => {
    lt('2025.12.18', '1!0.1');
    lt('1!1.0', '2!0.1');
  });
  it('sorts local versions after their public version and equal-public otherwise', () => {
    lt('1.0', '1.0+local.1');
    lt('1.0+local.1', '1.0.post1');
  });
  it('treats 1.0 and 1.0.0 as equal and normalises spelling', () => {
    expect(versionsEqual('PyPI', '1.0', '1.0.0')).toBe(true);
    expect(versionsEqual('PyPI', '1.0RC1', '1.0rc1')).toBe(true);
    expect(compareVersions('PyPI', '2025.9.25', '2025.12.18')).toBeLessThan(0);
  });
  it('refuses what is not a version', () => {
    expect(compareVersions('PyPI', 'latest', '1.0')).toBeUndefined();
    expect(isExactVersion('PyPI', '>=1.0')).toBe(false);
  });
});

describe('SemVer ordering (npm)', () => {
  it('orders releases, pre-releases and accepts a leading v', () => {
    expect(compareVersions('npm', '0.1.15', '0.1.16')).toBeLessThan(0);
    expect(compareVersions('npm', '1.0.0-rc.1', '1.0.0')).toBeLessThan(0);
    expect(compareVersions('npm', 'v2025.7.1', '2025.7.1')).toBe(0);
    expect(compareVersions('npm', '0.6.2', '2025.1.14')).toBeLessThan(0);
  });
  it('refuses ranges and tags as exact versions', () => {
    expect(isExactVersion('npm', '^1.2.3')).toBe(false);
    expect(isExactVersion('npm', 'latest')).toBe(false);
    expect(isExactVersion('npm', '1.2.3')).toBe(true);
  });
  it('is a total order on generated versions (antisymmetric, transitive)', () => {
    const v = fc.tuple(fc.nat(30), fc.nat(30), fc.nat(30)).map(([a, b, c]) => `${a}.${b}.${c}`);
    fc.assert(
      fc.property(v, v, v, (a, b, c) => {
        const ab = compareVersions('npm', a, b)!;
        expect(Math.sign(ab)).toBe(-Math.sign(compareVersions('npm', b, a)!));
        if (ab <= 0 && compareVersions('npm', b, c)! <= 0) expect(compareVersions('npm', a, c)!).toBeLessThanOrEqual(0);
      }),
      { seed: 42, numRuns: 200 },
    );
  });
});

describe('package names', () => {
  it('normalises PyPI names per PEP 503', () => {
    expect(normalizePypiName('Mcp_Server.Git')).toBe('mcp-server-git');
    expect(normalizePypiName('a__-._b')).toBe('a-b');
    expect(packageKey('PyPI', 'MCP')).toBe('PyPI:mcp');
  });
  it('lowercases npm names and keeps scopes', () => {
    expect(normalizePackageName('npm', '@ModelContextProtocol/SDK')).toBe('@modelcontextprotocol/sdk');
  });
});

describe('plain npm versions without semver', () => {
  const part = fc.oneof(fc.constantFrom(0, 1, 9, 10, 99, 100), fc.integer({ min: 0, max: 999_999_999_999_999 }));
  const plain = fc.tuple(part, part, part).map((p) => p.join('.'));

  it('orders MAJOR.MINOR.PATCH exactly as semver does', () => {
    fc.assert(
      fc.property(plain, plain, (a, b) => {
        expect(comparePlainNpmVersions(a, b)).toBe(semverCompare(a, b));
        expect(compareVersions('npm', a, b)).toBe(semverCompare(a, b));
      }),
    );
  });

  it('leaves everything else to semver: pre-releases, builds, leading zeros, 16 digits, ranges', () => {
    for (const v of ['1.2.3-beta.1', '1.2.3+build.5', '01.2.3', '1.2.3456789012345678', '^1.2.3', '1.2', 'latest', ' 1.2.3 ']) expect(comparePlainNpmVersions(v, '1.2.3'), v).toBeUndefined();
    expect(compareVersions('npm', '1.2.3-beta.1', '1.2.3')).toBe(-1);
    expect(compareVersions('npm', 'v1.2.3', '=1.2.3')).toBe(0);
    expect(compareVersions('npm', ' 1.10.0 ', '1.9.9')).toBe(1);
    expect(isExactVersion('npm', 'v2.0.0')).toBe(true);
    expect(isExactVersion('npm', '01.2.3')).toBe(false);
    expect(isExactVersion('npm', '^2.0.0')).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import { readZipEntries, ZipError } from '../../src/advisories/zip.js';
import { writeZip } from './zip-writer.js';

describe('ZIP reader', () => {
  it('reads stored and deflated entries, skipping folders', () => {
    const zip = writeZip([
      { name: 'a.json', data: '{"a":1}', method: 0 },
      { name: 'dir/', data: '' , method: 0 },
      { name: 'dir/b.json', data: 'x'.repeat(5000) },
    ]);
    const got = [...readZipEntries(zip)].map((e) => [e.name, e.data?.length, e.error]);
    expect(got).toEqual([
      ['a.json', 7, undefined],
      ['dir/b.json', 5000, undefined],
    ]);
  });
  it('reads ZIP64 end records (exports with more than 65,535 entries use them)', () => {
    const zip = writeZip([{ name: 'r.json', data: '{}' }], { zip64: true });
    expect([...readZipEntries(zip)].map((e) => e.data?.toString())).toEqual(['{}']);
  });
  it('bounds entry sizes and entry counts, and reports damage instead of crashing', () => {
    const zip = writeZip([{ name: 'big.json', data: 'y'.repeat(2048) }, { name: 'ok.json', data: '1' }]);
    const limited = [...readZipEntries(zip, { maxEntries: 10, maxEntryBytes: 1024, maxTotalBytes: 1e9 })];
    expect(limited[0]).toMatchObject({ name: 'big.json', error: expect.stringContaining('limit') });
    expect(limited[1]?.data?.toString()).toBe('1');
    expect(() => [...readZipEntries(zip, { maxEntries: 1, maxEntryBytes: 1e6, maxTotalBytes: 1e9 })]).toThrow(ZipError);
    expect(() => [...readZipEntries(Buffer.from('not a zip at all, just text'))]).toThrow(/not a ZIP archive/);
    const truncated = zip.subarray(0, 40);
    expect(() => [...readZipEntries(truncated)]).toThrow(ZipError);
    const corrupt = Buffer.from(zip);
    corrupt[35] = corrupt[35]! ^ 0xff; // inside the first entry's deflate stream
    const entries = [...readZipEntries(corrupt)];
    expect(entries).toHaveLength(2);
  });
  it('neutralises control characters in entry names (they only reach messages)', () => {
    const zip = writeZip([{ name: 'evil\u001b[31m.json', data: '{}' }]);
    expect([...readZipEntries(zip)][0]!.name).toBe('evil?[31m.json');
  });
});

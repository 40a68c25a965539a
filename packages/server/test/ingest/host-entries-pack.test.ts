// Protocol v2 keeps each host's last processed servers (host_entries.entries) deflated: the
// stored form round-trips exactly, is a fraction of the JSON's size for realistic entries,
// plain JSON written without the prefix is still read, and a corrupt stored form is an error,
// never a wrong answer.
import { describe, expect, it } from 'vitest';
import { packEntries, unpackEntries } from '../../src/services/ingest/offer.js';
import { server, tool } from '../inventory/fixtures.js';

function entriesJson(n: number): string {
  const entries: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) {
    const key = i.toString(16).padStart(64, '0');
    entries[key] = server({ name: `srv-${i}`, args: ['-y', `@acme/mcp-tool-${i}@1.2.${i}`], envNames: ['API_KEY', 'LOG_LEVEL'], tools: [tool('read_file', `Reads a file of project ${i}.`), tool('search', 'Searches the index.')] });
  }
  return JSON.stringify(entries);
}

describe('host entries, stored form', () => {
  it('round-trips exactly and takes a fraction of the JSON', () => {
    const json = entriesJson(25);
    const packed = packEntries(json);
    expect(packed.startsWith('z1:')).toBe(true);
    expect(unpackEntries(packed)).toBe(json);
    expect(packed.length).toBeLessThan(json.length / 3);
  });

  it('reads plain JSON stored without the prefix as it is', () => {
    const json = entriesJson(2);
    expect(unpackEntries(json)).toBe(json);
  });

  it('a corrupt stored form throws instead of giving entries', () => {
    const packed = packEntries(entriesJson(3));
    expect(() => unpackEntries(`z1:${packed.slice(3, 40)}`)).toThrow();
  });
});

// The corpus of real-world config shapes (test/fixtures/corpus, see its README): every file,
// given with --config, is read as the client expected.json names, with exactly the servers and
// transports listed, each with the line of its entry, and no client error.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { discover } from '../../src/discover.js';
import { locationContext } from '../../src/paths.js';
import { FIXTURES } from './helpers.js';

interface Expected {
  file: string;
  client: string;
  servers: Record<string, string>;
  source: string;
}

const CORPUS = path.join(FIXTURES, 'corpus');
const expected = JSON.parse(readFileSync(path.join(CORPUS, 'expected.json'), 'utf8')) as Expected[];

describe('corpus of real-world config shapes', () => {
  it('covers every known client', async () => {
    const { discoverers } = await import('../../src/clients/index.js');
    const covered = new Set(expected.map((e) => e.client));
    expect(discoverers.map((d) => d.id).filter((id) => !covered.has(id) && !id.startsWith('vscode-'))).toEqual([]);
  });

  it.each(expected.map((e) => [e.file, e] as const))('%s', async (_file, e) => {
    const file = path.join(CORPUS, ...e.file.split('/'));
    // a home that holds none of these files: the client is chosen from the file alone
    const r = await discover({ loc: locationContext({ home: path.join(CORPUS, 'no-such-home'), platform: 'linux' }), configFiles: [file], resolveVersions: false });
    expect(r.clients.map((c) => [c.id, c.error])).toEqual([[e.client, undefined]]);
    const got = Object.fromEntries(r.servers.map((s) => [s.name, s.transport]));
    expect(got).toEqual(e.servers);
    const lines = readFileSync(file, 'utf8').split('\n');
    for (const s of r.servers) {
      expect(s.configLine, s.name).toBeGreaterThan(0);
      expect(lines[s.configLine! - 1], s.name).toContain(s.name);
    }
  });
});

// docs/agent-data.md must name every file the discoverers may read, on every OS, and every
// project file the --path walk looks for: the page is generated from locations(), and this
// test catches a client or location added since.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { discoverers } from '@palisade/agent';
import { locationsByClient } from '../../scripts/security/agent-data-doc.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const doc = readFileSync(path.join(root, 'docs/agent-data.md'), 'utf8');
const REGENERATE = 'docs/agent-data.md is out of date: run `node --conditions=source --import tsx scripts/security/agent-data-doc.ts` and commit it.';

describe('docs/agent-data.md', () => {
  it('has a section for every client', () => {
    for (const d of discoverers) expect(doc, REGENERATE).toContain(`## ${d.name} (\`${d.id}\`)`);
  });

  it('names every location of every client on macOS, Linux and Windows', () => {
    const clients = locationsByClient();
    expect(clients.reduce((n, c) => n + c.rows.length, 0)).toBeGreaterThan(50);
    for (const c of clients) {
      const section = doc.slice(doc.indexOf(`## ${c.name} (`));
      for (const r of c.rows) expect(section, `${c.id}: ${r.os} ${r.path}\n${REGENERATE}`).toContain(`| ${r.os} | \`${r.path}\` | ${r.scope} |`);
      for (const f of c.projectFiles) expect(section, REGENERATE).toContain(`\`${f}\``);
    }
  });
});

// docs/agent-data.md shows what redaction does with examples computed by the real functions:
// the page must hold the section as the code renders it today.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { redactionDocMarkdown } from '../../src/redaction-doc.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

describe('docs/agent-data.md redaction section', () => {
  it('is up to date with the redaction code', () => {
    const doc = readFileSync(path.join(root, 'docs/agent-data.md'), 'utf8');
    expect(doc, 'run `node --conditions=source --import tsx scripts/security/agent-data-doc.ts` and commit docs/agent-data.md').toContain(redactionDocMarkdown());
  });

  it('shows no example value in the redacted column', () => {
    const section = redactionDocMarkdown();
    for (const line of section.split('\n').filter((l) => l.startsWith('| ') && !l.includes('not a secret: reference'))) {
      const cells = line.split(' | ');
      if (cells.length >= 4) expect(cells[2], line).not.toContain('Fx7kQ2mZ9pLw');
    }
  });
});

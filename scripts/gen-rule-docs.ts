// Writes docs/rules/<ID>.md for every registered rule and docs/rules/README.md, from the
// rules' own metadata and example cases (packages/core/src/explain.ts renders them).
// Run: npm run docs:rules. A test fails when the committed pages are out of date.
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { allRules, ruleDocMarkdown, rulesIndexMarkdown } from '@palisade/core';

const dir = fileURLToPath(new URL('../docs/rules/', import.meta.url));

async function main(): Promise<void> {
  await mkdir(dir, { recursive: true });
  const wanted = new Map<string, string>([['README.md', rulesIndexMarkdown(allRules)]]);
  for (const rule of allRules) wanted.set(`${rule.meta.id}.md`, ruleDocMarkdown(rule));
  // pages of rules that no longer exist go
  for (const name of await readdir(dir)) if (/^PAL-[A-Z]\d{3}\.md$/.test(name) && !wanted.has(name)) await rm(dir + name);
  for (const [name, text] of wanted) await writeFile(dir + name, text);
  process.stdout.write(`docs/rules: ${wanted.size - 1} rule pages and README.md written\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`gen-rule-docs: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});

// Summarises a .cpuprofile (node --cpu-prof): self time by function and by source file, and
// total (inclusive) time of the product's own functions.
// Run: node bench/ingest/summarise-profile.mjs FILE.cpuprofile [top N]
import fs from 'node:fs';

const prof = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const TOP = Number(process.argv[3] ?? 30);
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const self = new Map();
prof.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)));
const name = (cf) => `${cf.functionName || '(anonymous)'} ${cf.url.replace(/^.*\/(node_modules|packages)\//, '$1/')}:${cf.lineNumber + 1}`;
const byFn = new Map();
const byFile = new Map();
const incl = new Map();
let total = 0;
for (const [id, us] of self) {
  total += us;
  const cf = byId.get(id).callFrame;
  byFn.set(name(cf), (byFn.get(name(cf)) ?? 0) + us);
  const fileKey = cf.url ? cf.url.replace(/^.*\/(node_modules\/[^/]+(?:\/[^/]+)?|packages\/[^/]+\/src\/.*)$/, '$1').replace(/^file:\/\/.*\/node:/, 'node:') : cf.functionName || '(native)';
  byFile.set(fileKey, (byFile.get(fileKey) ?? 0) + us);
  // inclusive: every distinct product function on the stack
  const seen = new Set();
  for (let n = id; n !== undefined; n = parent.get(n)) {
    const f = byId.get(n).callFrame;
    if (!/packages\/(server|core)\/src/.test(f.url)) continue;
    const k = name(f);
    if (seen.has(k)) continue;
    seen.add(k);
    incl.set(k, (incl.get(k) ?? 0) + us);
  }
}
const top = (m, n) =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, us]) => `  ${(us / 1000).toFixed(0).padStart(7)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`)
    .join('\n');
process.stdout.write(`profile: ${(total / 1000).toFixed(0)} ms sampled\nself time by function:\n${top(byFn, TOP)}\nself time by file:\n${top(byFile, 20)}\ninclusive time, product functions:\n${top(incl, TOP)}\n`);

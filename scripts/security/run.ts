// `npm run security`: every check of Palisade's own security pipeline, one after another,
// with a one-line summary each. Exit 1 when any check fails. A skipped check (the audit
// with no registry) is printed as SKIPPED with its reason; PALISADE_SECURITY_STRICT=1
// makes a skip fail too (for release builds).
import { checkAudit } from './checks/audit.js';
import { checkLicenses } from './checks/licenses.js';
import { checkLint } from './checks/lint.js';
import { checkSecrets } from './checks/secrets.js';
import { checkSelfScan } from './checks/self-scan.js';
import { checkTypes } from './checks/typecheck.js';
import type { CheckResult } from './lib.js';

const CHECKS: Array<[string, () => Promise<CheckResult>]> = [
  ['typecheck', checkTypes],
  ['lint', checkLint],
  ['audit', checkAudit],
  ['licenses', checkLicenses],
  ['secrets', checkSecrets],
  ['self-scan', checkSelfScan],
];

const only = process.argv.slice(2);
const unknown = only.filter((n) => !CHECKS.some(([name]) => name === n));
if (unknown.length) {
  console.error(`Unknown check ${unknown.join(', ')}; choose from ${CHECKS.map(([n]) => n).join(', ')}, or give none to run them all.`);
  process.exit(2);
}
const strict = process.env.PALISADE_SECURITY_STRICT === '1';
const rows: Array<[string, CheckResult, number]> = [];
for (const [name, check] of CHECKS) {
  if (only.length && !only.includes(name)) continue;
  const start = Date.now();
  let result: CheckResult;
  try {
    result = await check();
  } catch (err) {
    result = { status: 'fail', summary: `${name} could not run: ${(err as Error).message}` };
  }
  const secs = (Date.now() - start) / 1000;
  rows.push([name, result, secs]);
  console.log(`${result.status.toUpperCase().padEnd(4)} ${name.padEnd(10)} ${result.summary} (${secs.toFixed(1)} s)`);
  for (const d of result.details ?? []) console.log(`       ${d}`);
}
const failed = rows.filter(([, r]) => r.status === 'fail' || (strict && r.status === 'skip'));
const skipped = rows.filter(([, r]) => r.status === 'skip');
console.log(`security: ${rows.length - failed.length - skipped.length} passed, ${failed.length} failed, ${skipped.length} skipped${skipped.length ? ` (${skipped.map(([n]) => n).join(', ')}: see above)` : ''}`);
process.exit(failed.length ? 1 : 0);

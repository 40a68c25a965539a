// tsc -b over the publishable packages: strict types are the first wall.
import { bin, runTool, tail, type CheckResult } from '../lib.js';

// The security scripts and root tests have their own tsconfig (they are in no package).
export async function checkTypes(): Promise<CheckResult> {
  const r = await runTool(bin('tsc'), ['-b', 'packages/core', 'packages/mcp', 'packages/agent', 'packages/server', 'packages/cli']);
  if (r.code !== 0) return { status: 'fail', summary: 'tsc -b reported type errors', details: tail(r.stdout + r.stderr, 30) };
  const own = await runTool(bin('tsc'), ['-p', 'scripts/security/tsconfig.json']);
  if (own.code !== 0) return { status: 'fail', summary: 'tsc -p scripts/security/tsconfig.json reported type errors', details: tail(own.stdout + own.stderr, 30) };
  return { status: 'pass', summary: 'tsc -b packages/core packages/mcp packages/agent packages/server packages/cli, and the security scripts and root tests: no errors' };
}

// ESLint over the whole tree with the security rules in eslint.config.js.
import { bin, runTool, tail, type CheckResult } from '../lib.js';

interface EslintFile {
  filePath: string;
  errorCount: number;
  warningCount: number;
  messages: Array<{ ruleId: string | null; severity: number; line: number; message: string }>;
}

export async function checkLint(): Promise<CheckResult> {
  const r = await runTool(bin('eslint'), ['.', '--format', 'json']);
  let files: EslintFile[];
  try {
    files = JSON.parse(r.stdout) as EslintFile[];
  } catch {
    return { status: 'fail', summary: 'ESLint did not run', details: tail(r.stdout + r.stderr) };
  }
  const errors = files.flatMap((f) => f.messages.filter((m) => m.severity === 2).map((m) => `${f.filePath}:${m.line} ${m.ruleId ?? ''} ${m.message}`));
  const warnings = files.reduce((n, f) => n + f.warningCount, 0);
  if (errors.length === 0 && r.code === 0) return { status: 'pass', summary: `eslint: ${files.length} files, no errors, ${warnings} known warnings` };
  return { status: 'fail', summary: `eslint: ${errors.length} errors`, details: errors.slice(0, 30) };
}

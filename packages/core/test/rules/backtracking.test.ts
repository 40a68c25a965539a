// Tool descriptions and launch commands are attacker-controlled text: no rule may take
// super-linear time on crafted input (ReDoS). Each crafted string fills a field up to the wire
// format's limit; the whole engine must stay far below a second on it.
import { describe, expect, it } from 'vitest';
import { caseServer, evaluate, LIMITS } from '@palisade/core';

// Repeated units that make naive patterns backtrack: separators, half-matches of rule phrases.
const UNITS = ['a ', 'a=', '-c', 'curl a', '<(', 'env a=', 'sudo -', 'git clone ', 'x.', 'a.sh ', '~/', 'C:\\', 'do not ', 'ignore ', 'before using ', 'the user must ', 'read the contents ', 'all tools ', 'instead of ', 'a_b ', '\u200b', '\u{E0041}', '\u001b[', 'Bearer ', 'ghp_', 'http://'];
const BUDGET_MS = 1500; // generous for a loaded CI machine; catastrophic backtracking takes far longer

describe('no rule backtracks badly on crafted text', () => {
  it.each(UNITS.map((u) => [JSON.stringify(u), u] as const))('%s repeated to the field limits', (_label, unit) => {
    const fill = (max: number) => unit.repeat(Math.floor((max - 1) / unit.length)) + '!';
    const description = fill(LIMITS.description);
    const long = fill(LIMITS.longString);
    const servers = [
      caseServer({ tools: [{ name: 'x_tool', description, schemaText: description }] }, 1),
      caseServer({ command: long, args: [long, 'bash', '-c', long], url: long, cwd: long }, 2),
    ];
    const started = performance.now();
    evaluate(servers, { platform: 'linux', home: '/home/alice' });
    expect(performance.now() - started).toBeLessThan(BUDGET_MS);
  });
});

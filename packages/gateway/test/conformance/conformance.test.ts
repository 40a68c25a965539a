// The official MCP conformance suite against the gateway (federating conformance-server.mjs).
// Installs the suite and a Node 22 binary from npm on first use, so it runs only when asked (CI
// asks: .ci/run sets PALISADE_CONFORMANCE=1):
//   PALISADE_CONFORMANCE=1 npx vitest run packages/gateway/test/conformance
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startGateway } from '../../src/index.js';
// @ts-expect-error plain JavaScript helper
import { conformanceConfig, installSuite, runSuite } from './run-conformance.mjs';

interface SuiteResult {
  version: string;
  checks: number;
  success: number;
  failure: number;
  scenarios: number;
  scenariosPassed: number;
  failures: { scenario: string; id: string; error: string }[];
}

describe.runIf(process.env.PALISADE_CONFORMANCE === '1')('official MCP conformance suite', () => {
  it('passes every 2025-11-25 check and the core 2026-07-28 scenarios', { timeout: 1_800_000 }, async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'palisade-gw-conf-'));
    writeFileSync(path.join(dir, 'gateway.yaml'), conformanceConfig());
    const gw = await startGateway(path.join(dir, 'gateway.yaml'), { port: 0, warn: () => undefined });
    try {
      const suite = installSuite();
      const v2025 = (await runSuite(suite, gw.url, '2025-11-25')) as SuiteResult;
      const v2026 = (await runSuite(suite, gw.url, '2026-07-28')) as SuiteResult;
      console.log(`conformance 2025-11-25: ${v2025.success}/${v2025.checks} checks, ${v2025.scenariosPassed}/${v2025.scenarios} scenarios`);
      console.log(`conformance 2026-07-28: ${v2026.success}/${v2026.checks} checks, ${v2026.scenariosPassed}/${v2026.scenarios} scenarios`);
      expect(v2025.failures).toEqual([]);
      // known: the tasks scenario that wants input_required before the task (the gateway creates
      // the task at once); input-required (SEP-2322) scenarios that check their own key
      // names (the fixture's 2025-style requests carry none) or roots/list (not relayed); scenarios
      // that need diagnostic tools the fixture lacks; the header scenario that calls the first
      // listed tool with empty arguments (it asks for input the suite cannot give)
      const core = v2026.failures.filter(
        (f) =>
          !/^(server-)?(tasks-mrtr-composition|input-required-result-(basic-elicitation|basic-list-roots|multiple-input-requests)|http-custom-header-server-validation|server-stateless|http-header-validation)$/.test(
            f.scenario,
          ),
      );
      expect(core).toEqual([]);
    } finally {
      await gw.close();
    }
  });
});

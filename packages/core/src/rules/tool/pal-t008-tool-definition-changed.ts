// PAL-T008: a tool whose definition changed since it was first seen and pinned (rug pull).
import type { RuleCases, RuleHit, ServerRule } from '../types.js';
import { disabledNote, safeText, serverLabel, toolsOf } from '../helpers.js';

const H1 = 'a'.repeat(64);
const H2 = 'b'.repeat(64);

// The case table is built when a test, `palisade rules ID` or the docs ask for it, not at
// every start: a scan never reads it.
function caseTable(): RuleCases {
  return {
    valid: [
      { name: 'unchanged pin', server: { tools: [{ name: 'search', definitionHash: H1, pin: { status: 'unchanged', firstSeen: '2026-01-02T03:04:05Z' } }] } },
      { name: 'first sighting', server: { tools: [{ name: 'search', definitionHash: H1, pin: { status: 'new' } }] } },
      { name: 'no pin data', server: { tools: [{ name: 'search' }] } },
    ],
    invalid: [
      { name: 'changed definition', server: { tools: [{ name: 'search', definitionHash: H2, pin: { status: 'changed', firstSeen: '2026-01-02T03:04:05Z', previousHash: H1 } }] }, evidence: /aaaaaaaaaaaa -> bbbbbbbbbbbb/, severity: 'high' },
      { name: 'changed without hashes', server: { tools: [{ name: 'send', pin: { status: 'changed' } }] }, evidence: /send/ },
    ],
  };
}

let cases: RuleCases | undefined;

export const toolDefinitionChanged: ServerRule = {
  meta: {
    id: 'PAL-T008',
    title: 'Tool definition changed since first seen',
    severity: 'high',
    category: 'tool',
    rationale:
      'Approval happens once, but a server can change a tool\'s description, schema or annotations at any time (a "rug pull"): harmless at review, poisoned later. Palisade hashes each whole tool definition when first seen and reports any later difference.',
    remediation:
      'Compare the new definition with the old one (the dashboard shows the history). If the change is expected, accept the new pin (`palisade pins reset`); if not, disable the server and investigate the release that introduced it.',
  },
  kind: 'server',
  toolsOnly: true,
  get cases() {
    return (cases ??= caseTable());
  },
  check(server) {
    const hits: RuleHit[] = [];
    for (const tool of toolsOf(server)) {
      if (tool.pin?.status !== 'changed') continue;
      const from = tool.pin.previousHash ? tool.pin.previousHash.slice(0, 12) : 'unknown';
      const to = tool.definitionHash ? tool.definitionHash.slice(0, 12) : 'unknown';
      hits.push({
        message: `Tool "${safeText(tool.name, 80)}" of server ${serverLabel(server)} no longer matches the definition pinned when it was first seen${tool.pin.firstSeen ? ` (${tool.pin.firstSeen})` : ''}; its description, schema or annotations changed after approval.${disabledNote(server)}`,
        evidence: safeText(`${tool.name}: definition ${from} -> ${to}`),
      });
    }
    return hits;
  },
};

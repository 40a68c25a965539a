// PAL-T007: tools that run commands, evaluate code, write or delete files, or declare destructive or open-world effects.
import type { Severity } from '../../model.js';
import type { RuleCases, RuleHit, ServerRule } from '../types.js';
import { disabledNote, safeText, serverLabel, toolsOf } from '../helpers.js';

// The case table is built when a test, `palisade rules ID` or the docs ask for it, not at
// every start: a scan never reads it.
function caseTable(): RuleCases {
  return {
    valid: [
      { name: 'read-only tool', server: { tools: [{ name: 'get_weather', description: 'Returns the forecast for a city.', annotations: { readOnlyHint: true } }] } },
      { name: 'destructiveHint false', server: { tools: [{ name: 'list_notes', description: 'Lists notes.', annotations: { destructiveHint: false } }] } },
      { name: 'word run inside another word', server: { tools: [{ name: 'get_runtime_info', description: 'Shows the runtime version.' }] } },
    ],
    invalid: [
      { name: 'shell command tool', server: { tools: [{ name: 'execute_command', description: 'Executes a shell command and returns its output.' }] }, evidence: /execute_command/, severity: 'medium' },
      { name: 'eval tool', server: { tools: [{ name: 'evaluate', description: 'Evaluates JavaScript in the page.' }] }, severity: 'medium' },
      { name: 'write file (low)', server: { tools: [{ name: 'write_file', description: 'Create or overwrite a file.' }] }, severity: 'low', evidence: /write_file/ },
      { name: 'declared destructive', server: { tools: [{ name: 'drop_table', description: 'Drops a table.', annotations: { destructiveHint: true } }] }, severity: 'medium', evidence: /destructiveHint/ },
      { name: 'open world (low)', server: { tools: [{ name: 'browse', description: 'Visits a page.', annotations: { openWorldHint: true, readOnlyHint: true } }] }, severity: 'low', evidence: /openWorldHint/ },
    ],
  };
}

let cases: RuleCases | undefined;

interface Capability {
  what: string;
  severity: Severity;
  name?: RegExp;
  text?: RegExp;
}

const W = (s: string) => new RegExp(`(?:^|[_\\-.\\s])(?:${s})(?:$|[_\\-.\\s])`, 'i');

const CAPABILITIES: Capability[] = [
  { what: 'runs shell commands', severity: 'medium', name: W('exec|execute|shell|bash|cmd|command|terminal|run_command|run_script|powershell|spawn|subprocess|ssh'), text: /\b(?:execut(?:e|es|ing)|runs?)\s+(?:(?:a|an|any|arbitrary)\s+)?(?:(?:shell|terminal|system|bash|powershell)\s+)?commands?\b|\barbitrary\s+(?:code|commands?)\b/i },
  { what: 'evaluates code', severity: 'medium', name: W('eval|evaluate|run_code|execute_code|run_python|run_javascript|exec_code|repl|sandbox_run'), text: /\b(?:evaluat(?:e|es)|execut(?:e|es))\s+(?:arbitrary\s+)?(?:python|javascript|js|code|scripts?)\b/i },
  { what: 'deletes files or data', severity: 'low', name: W('delete|remove|rm|rmdir|unlink|drop|truncate|purge|wipe|destroy') },
  { what: 'writes or moves files', severity: 'low', name: W('write|edit|move|rename|overwrite|create_file|write_file|edit_file|move_file|patch|save|upload') },
];

export const dangerousCapability: ServerRule = {
  meta: {
    id: 'PAL-T007',
    title: 'Tool with a dangerous capability',
    severity: 'medium',
    category: 'tool',
    rationale:
      'Tools that run shell commands or evaluate code give whoever steers the model (including a prompt injection in a web page or an issue) code execution on the machine: medium. Tools declared destructive (annotations.destructiveHint true) are medium too. Writing, moving or deleting files and open-world access (annotations.openWorldHint) are reported at low, as facts to weigh with the other findings.',
    remediation:
      'Keep such tools off auto-approve, scope them to a project folder or sandbox, and prefer servers that expose narrow operations over a general shell. Disable tools the workflow does not need.',
  },
  kind: 'server',
  toolsOnly: true,
  get cases() {
    return (cases ??= caseTable());
  },
  check(server) {
    const hits: RuleHit[] = [];
    for (const tool of toolsOf(server)) {
      const description = typeof tool.description === 'string' ? tool.description : '';
      const found: Array<{ what: string; severity: Severity }> = CAPABILITIES.filter((c) => c.name?.test(tool.name) || c.text?.test(description)).map((c) => ({ what: c.what, severity: c.severity }));
      const a = tool.annotations && typeof tool.annotations === 'object' ? tool.annotations : {};
      if (a.destructiveHint === true) found.push({ what: 'is declared destructive (destructiveHint)', severity: 'medium' });
      if (a.openWorldHint === true) found.push({ what: 'reaches the open world (openWorldHint)', severity: 'low' });
      // A tool that declares itself read-only and is not named after running code only keeps open-world findings.
      const list = a.readOnlyHint === true ? found.filter((f) => f.severity === 'medium' || /openWorld/.test(f.what)) : found;
      if (list.length === 0) continue;
      const severity: Severity = list.some((f) => f.severity === 'medium') ? 'medium' : 'low';
      const whats = [...new Set(list.map((f) => f.what))];
      const said = whats.length === 1 ? whats[0]! : `${whats.slice(0, -1).join(', ')} and ${whats[whats.length - 1]!}`;
      hits.push({
        message: `Tool "${safeText(tool.name, 80)}" of server ${serverLabel(server)} ${said}.${disabledNote(server)}`,
        evidence: safeText(`${tool.name}: ${[...new Set(list.map((f) => f.what))].join('; ')}`),
        severity,
      });
    }
    return hits;
  },
};

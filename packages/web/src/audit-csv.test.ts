// The audit CSV: names beside ids, one line per entry, and no cell a spreadsheet would run.
import { describe, expect, it } from 'vitest';
import type { AuditEntry } from './api/types';
import { auditToCsv, csvCell } from './audit-csv';

const entry = (over: Partial<AuditEntry>): AuditEntry => ({
  id: '1',
  at: '2026-12-01T10:00:00.000Z',
  actorType: 'user',
  actorId: 'u1',
  actorEmail: 'owner@example.test',
  actorName: 'owner@example.test',
  action: 'agent_key.created',
  targetType: 'agent_key',
  targetId: 'k1',
  targetName: 'laptops (pal_ab12…)',
  ip: '127.0.0.1',
  details: {},
  ...over,
});

describe('audit CSV', () => {
  it('prefixes cells a spreadsheet would run as a formula', () => {
    for (const v of ['=SUM(A1)', '+1', '-2', '@cmd', '\tx', '\rx']) expect(csvCell(v).replace(/^"|"$/g, '').startsWith("'")).toBe(true);
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b "c"')).toBe('"a,b ""c"""');
  });

  it('writes names, actors and masked details, one row per entry', () => {
    const csv = auditToCsv([
      entry({ targetName: '=HYPERLINK("http://x")' }),
      entry({ id: '2', actorType: 'system', actorId: null, actorEmail: null, actorName: null, action: 'alert.resolved', targetType: 'alert', targetName: 'server added: fs on ws-1', details: { reason: 'Risk accepted', automatic: true } }),
      entry({ id: '3', actorType: 'agent', actorEmail: null, actorName: 'laptops (pal_ab12…)', action: 'report.ingested', details: { url: 'https://hooks.slack.com/services/…' } }),
    ]);
    const lines = csv.trimEnd().split('\r\n');
    expect(lines[0]).toBe('at,actor,actorType,action,targetType,target,targetId,ip,details');
    expect(lines).toHaveLength(4);
    expect(lines[1]).toContain(`"'=HYPERLINK(""http://x"")"`);
    expect(lines[1]).toContain('owner@example.test');
    expect(lines[2]).toMatch(/^2026-12-01T10:00:00.000Z,Palisade,system,alert.resolved,alert,server added: fs on ws-1,/);
    expect(lines[2]).toContain('"{""reason"":""Risk accepted"",""automatic"":true}"');
    expect(lines[3]).toContain('agent laptops (pal_ab12…)');
  });
});

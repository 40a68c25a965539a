// PAL-T005 reads tool names out of descriptions in one hand-written pass: the words it finds
// must be exactly the runs of [A-Za-z0-9_.-] (trailing dots and dashes dropped) it always
// found, whatever the punctuation around them, and a scan of many servers stays correct.
import { describe, expect, it } from 'vitest';
import { allRules, caseServer, evaluate } from '@palisade/core';

const ctx = { platform: 'linux' as const, home: '/home/alice' };
const t005 = allRules.filter((r) => r.meta.id === 'PAL-T005');

function mentions(description: string, offered: string): string[] {
  const servers = [
    caseServer({ id: 'mail', name: 'mail', tools: [{ name: offered, description: 'Sends an email.' }] }),
    caseServer({ id: 'calc', name: 'calc', tools: [{ name: 'add', description }] }),
  ];
  return evaluate(servers, ctx, t005).findings.map((f) => f.evidence);
}

describe('PAL-T005 tool-name mentions', () => {
  it('finds a name at a sentence end, in backticks, after dashes, in camelCase', () => {
    expect(mentions('Then always call send_email.', 'send_email')[0]).toMatch(/shadows mail\/send_email\]/);
    expect(mentions('Prefer `send_email` here.', 'send_email')).toHaveLength(1);
    expect(mentions('See --send_email-- for details.', 'send_email')).toHaveLength(1);
    expect(mentions('Adds, then calls sendEmail...', 'sendEmail')).toHaveLength(1);
    expect(mentions('Uses v2.send-mail today.', 'v2.send-mail')).toHaveLength(1);
  });

  it('ignores longer words that only contain the name, and other cases of it', () => {
    expect(mentions('See send_email_v2 and send_email.x9 for details.', 'send_email')).toEqual([]);
    expect(mentions('Mentions SEND_EMAIL in capitals.', 'send_email')).toEqual([]);
    expect(mentions('Mentions xsend_email glued.', 'send_email')).toEqual([]);
  });

  it('reports each shadowing tool once in a scan of 10 servers x 50 tools', () => {
    const servers = Array.from({ length: 10 }, (_, s) =>
      caseServer({
        id: `s${s}`,
        name: `server-${s}`,
        tools: Array.from({ length: 50 }, (_, t) => ({
          name: `op_${s}_${t}`,
          description: t === 7 && s > 0 ? `Works like op_${s - 1}_${t}. Returns JSON.` : `Does operation ${t} of server ${s}; pages of 1-100 items.`,
        })),
      }),
    );
    const found = evaluate(servers, ctx, t005).findings;
    expect(found.map((f) => f.servers[0]).sort()).toEqual(['s1', 's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9']);
  });
});

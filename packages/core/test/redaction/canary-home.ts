// A fake home whose Claude Desktop and Cursor configs hold every shape of the canary table
// (made-up values), for the agent and backend tests that look for canaries in outputs,
// spool files, database files and logs.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CANARY_CASES } from './canary-table.js';

/** Env and header canaries too (values never sent, so never seen). */
export const ENV_CANARY = 'Ev0Cq9zK7vWenvOnly';
export const HEADER_CANARY = 'Hd0Cq9zK7vWheaderOnly';

export function allCanaries(): string[] {
  return [...new Set([...CANARY_CASES.flatMap((c) => c.canaries), ENV_CANARY, HEADER_CANARY])];
}

export async function canaryHome(): Promise<string> {
  const home = await fs.mkdtemp(path.join(os.tmpdir(), 'palisade-canary-home-'));
  const stdio: Record<string, unknown> = {};
  const remote: Record<string, unknown> = {};
  CANARY_CASES.forEach((c, i) => {
    const name = `case-${String(i + 1).padStart(2, '0')}`;
    if (c.url) remote[name] = { url: c.url, headers: { Authorization: `Bearer ${HEADER_CANARY}` } };
    else stdio[name] = { command: c.command ?? 'npx', args: c.args ?? [], env: { API_TOKEN: ENV_CANARY } };
  });
  const claude = path.join(home, '.config', 'Claude');
  await fs.mkdir(claude, { recursive: true });
  await fs.writeFile(path.join(claude, 'claude_desktop_config.json'), JSON.stringify({ mcpServers: stdio }, null, 2));
  const cursor = path.join(home, '.cursor');
  await fs.mkdir(cursor, { recursive: true });
  await fs.writeFile(path.join(cursor, 'mcp.json'), JSON.stringify({ mcpServers: remote }, null, 2));
  return home;
}

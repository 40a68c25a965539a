// Test helpers: fixture homes laid out as each OS lays them out, built in a temp folder from
// the files in test/fixtures/<client-id>/.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServerConfig } from '@palisade/core';
import type { Platform } from '../../src/clients/types.js';

export const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

/** The fake tokens planted in the fixtures: none may appear in any output. */
export const PLANTED_SECRETS = [
  'ghp_FAKEfixture0123456789abcdefghijklmno',
  'AKIAFAKEFIXTURE00001',
  'xoxb-fake-fixture-000000000000',
  'TEST-FIXTURE-NOT-A-SECRET-9f8e7d6c5b4a39281706',
  'fixture-fake-key-1234567890abcdef',
  'fixture-fake-0000000000',
  'sk-fixturefakekey0000000000000000',
  'fake-fixture-brave-key',
  'my_env_var_value',
  'github.example.com',
  'us-east-1',
];

export async function tempDir(prefix = 'palisade-disc-'): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

export async function place(root: string, rel: string, fixture: string): Promise<string> {
  const dest = path.join(root, ...rel.split('/'));
  await fs.mkdir(path.dirname(dest), { recursive: true });
  await fs.copyFile(path.join(FIXTURES, ...fixture.split('/')), dest);
  return dest;
}

export async function write(root: string, rel: string, text: string | Buffer): Promise<string> {
  const dest = path.join(root, ...rel.split('/'));
  await fs.mkdir(path.dirname(dest), { recursive: true });
  await fs.writeFile(dest, text);
  return dest;
}

/** Where homes live on each OS, so the image root (for managed files) can be told from the home. */
export function homeIn(imageRoot: string, platform: Platform): string {
  return platform === 'linux' ? path.join(imageRoot, 'home', 'alice') : path.join(imageRoot, 'Users', 'alice');
}

export function appData(platform: Platform): string {
  return platform === 'win32' ? 'AppData/Roaming' : platform === 'darwin' ? 'Library/Application Support' : '.config';
}

export function byName(servers: readonly ServerConfig[], client: string, name: string): ServerConfig {
  const s = servers.find((x) => x.client === client && x.name === name);
  if (!s) throw new Error(`no server ${client}/${name}; have: ${servers.filter((x) => x.client === client).map((x) => x.name).join(', ')}`);
  return s;
}

export function namesOf(servers: readonly ServerConfig[], client: string): string[] {
  return servers.filter((s) => s.client === client).map((s) => s.name).sort();
}

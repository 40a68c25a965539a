// Typosquat detection for MCP packages: a name that is one or two edits, a lookalike
// character or a confused scope away from a well-known MCP package, without being it.
import type { Ecosystem } from './model.js';
import { normalizePypiName } from './packages/versions.js';
import { BoundedMemo } from './memo.js';

/** Widely used MCP packages (the names people copy from READMEs and that squatters imitate). */
export const WELL_KNOWN_MCP_PACKAGES: Readonly<Record<'npm' | 'PyPI', readonly string[]>> = {
  npm: [
    '@modelcontextprotocol/sdk',
    '@modelcontextprotocol/inspector',
    '@modelcontextprotocol/server-everything',
    '@modelcontextprotocol/server-filesystem',
    '@modelcontextprotocol/server-memory',
    '@modelcontextprotocol/server-sequential-thinking',
    '@modelcontextprotocol/server-github',
    '@modelcontextprotocol/server-gitlab',
    '@modelcontextprotocol/server-puppeteer',
    '@modelcontextprotocol/server-brave-search',
    '@modelcontextprotocol/server-postgres',
    '@modelcontextprotocol/server-slack',
    '@modelcontextprotocol/server-gdrive',
    '@modelcontextprotocol/server-google-maps',
    '@modelcontextprotocol/server-redis',
    '@modelcontextprotocol/server-everart',
    '@modelcontextprotocol/server-aws-kb-retrieval',
    'mcp-remote',
    '@playwright/mcp',
    '@upstash/context7-mcp',
    '@notionhq/notion-mcp-server',
    '@supabase/mcp-server-supabase',
    '@sentry/mcp-server',
    '@stripe/mcp',
    '@browsermcp/mcp',
    '@wonderwhy-er/desktop-commander',
    'firecrawl-mcp',
    'tavily-mcp',
    'exa-mcp-server',
    'figma-developer-mcp',
    '@21st-dev/magic',
  ],
  PyPI: ['mcp', 'fastmcp', 'mcp-server-fetch', 'mcp-server-git', 'mcp-server-time', 'mcp-server-sqlite'],
};

export type TyposquatKind = 'homoglyph' | 'scope-confusion' | 'edit-distance';

export interface TyposquatMatch {
  kind: TyposquatKind;
  /** the well-known package it imitates */
  target: string;
  /** edits between the two names (edit-distance kind) */
  distance?: number;
}

/** Damerau-Levenshtein distance (optimal string alignment), three rolling rows. */
export function editDistance(a: string, b: string): number {
  const s = Array.from(a);
  const t = Array.from(b);
  const cols = t.length + 1;
  let prev2 = new Uint16Array(cols);
  let prev = Uint16Array.from({ length: cols }, (_, j) => j);
  let cur = new Uint16Array(cols);
  for (let i = 1; i <= s.length; i++) {
    cur[0] = i;
    for (let j = 1; j < cols; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) v = Math.min(v, prev2[j - 2]! + 1);
      cur[j] = v;
    }
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[t.length]!;
}

// Lookalikes of Latin letters (Cyrillic, Greek, fullwidth handled by NFKC) and the digit
// swaps squatters use. Applied after NFKC and lower-casing.
const CONFUSABLES: Record<string, string> = {
  а: 'a', е: 'e', о: 'o', р: 'p', с: 'c', у: 'y', х: 'x', і: 'i', ј: 'j', ѕ: 's', ԁ: 'd', ɡ: 'g', һ: 'h', ӏ: 'l', ԛ: 'q', ԝ: 'w', ь: 'b', к: 'k', м: 'm', н: 'h', т: 't', в: 'b',
  α: 'a', ο: 'o', ρ: 'p', ν: 'v', τ: 't', ι: 'i', κ: 'k', χ: 'x', υ: 'u', ε: 'e', μ: 'u',
  ı: 'i', ł: 'l', '0': 'o', '1': 'l', '|': 'l', '—': '-', '–': '-', '‐': '-', '‑': '-', '_': '-', '.': '-',
};

// Capitals that look like Latin letters, folded before lower-casing (Greek capital Mu is
// an M, while its lower case looks like u). Latin capital I reads as l in sans-serif fonts.
const UPPER_CONFUSABLES: Record<string, string> = {
  I: 'l', Α: 'a', Β: 'b', Ε: 'e', Ζ: 'z', Η: 'h', Ι: 'l', Κ: 'k', Μ: 'm', Ν: 'n', Ο: 'o', Ρ: 'p', Τ: 't', Υ: 'y', Χ: 'x',
  А: 'a', В: 'b', Е: 'e', К: 'k', М: 'm', Н: 'h', О: 'o', Р: 'p', С: 'c', Т: 't', Х: 'x', Ѕ: 's', І: 'l', Ј: 'j',
};

/** The "skeleton" of a name: what it looks like once lookalike characters are folded. */
export function skeleton(name: string): string {
  let folded: string;
  // fast path for plain ASCII names (nearly all of them): only I, digits and separators fold
  if (/^[\x20-\x7e]*$/.test(name)) folded = name.replace(/I/g, 'l').toLowerCase().replace(/[01|_.]/g, (c) => CONFUSABLES[c]!);
  else {
    const upper = Array.from(name.normalize('NFKC'), (c) => UPPER_CONFUSABLES[c] ?? c).join('');
    folded = Array.from(upper.toLowerCase(), (c) => CONFUSABLES[c] ?? c).join('');
  }
  // rn reads as m, vv as w, cl as d in many fonts
  return folded.replace(/rn/g, 'm').replace(/vv/g, 'w').replace(/cl/g, 'd');
}

function splitScope(name: string): { scope?: string; base: string } {
  const m = /^@([^/]+)\/(.+)$/.exec(name);
  return m ? { scope: m[1]!, base: m[2]! } : { base: name };
}

/**
 * Is `name` a likely typosquat of a well-known MCP package? Exact well-known names are not.
 * npm scopes are owned, so a new name inside a well-known package's own scope is never a squat.
 */
export function findTyposquat(name: string, ecosystem: Ecosystem, known: readonly string[] = listFor(ecosystem)): TyposquatMatch | undefined {
  if (!name || name.length > 214 || known.length === 0) return undefined;
  // against the built-in list, a name is judged once (a scan meets the same packages again and again)
  if (typeof name === 'string' && known === listFor(ecosystem)) {
    const hit = defaultListMemo.get(`${ecosystem}\0${name}`, () => judgeTyposquat(name, ecosystem, known));
    return hit ? { ...hit } : undefined;
  }
  return judgeTyposquat(name, ecosystem, known);
}

const defaultListMemo = new BoundedMemo<string, TyposquatMatch | undefined>(4096);

function judgeTyposquat(name: string, ecosystem: Ecosystem, known: readonly string[]): TyposquatMatch | undefined {
  const norm = ecosystem === 'PyPI' ? normalizePypiName(name) : name.trim().toLowerCase();
  const table = knownTable(known, ecosystem);
  if (table.some((k) => k.norm === norm)) return undefined;
  const mine = splitScope(norm);
  const sk = skeleton(name.trim());
  let best: TyposquatMatch | undefined;
  // indexed: for...of allocates per step when the scan runs without the optimising compiler
  for (let t = 0; t < table.length; t++) {
    const k = table[t]!;
    const theirs = k.parts;
    // A new package inside the target's own scope is published by the same owner.
    if (mine.scope !== undefined && mine.scope === theirs.scope) continue;
    if (k.skeleton === sk) return { kind: 'homoglyph', target: k.target };
    if (theirs.scope !== undefined && mine.base === theirs.base && theirs.base.length >= 6) {
      // @modelcontextprotocols/server-github, @model-context-protocol/..., or the bare base name
      const scopeClose = mine.scope === undefined || editDistance(mine.scope, theirs.scope) <= 3 || skeleton(mine.scope) === skeleton(theirs.scope) || mine.scope.replace(/-/g, '') === theirs.scope.replace(/-/g, '');
      if (scopeClose) return { kind: 'scope-confusion', target: k.target };
    }
    if (theirs.scope !== undefined && mine.scope === undefined && norm === `${theirs.scope}-${theirs.base}`) return { kind: 'scope-confusion', target: k.target };
    const limit = k.norm.length >= 12 ? 2 : k.norm.length >= 6 ? 1 : 0;
    if (limit === 0 || Math.abs(norm.length - k.norm.length) > limit || bagDistance(norm, k.norm) > limit) continue;
    const distance = editDistance(norm, k.norm);
    if (distance > 0 && distance <= limit && (!best || (best.distance ?? 99) > distance)) best = { kind: 'edit-distance', target: k.target, distance };
  }
  return best;
}

/**
 * A cheap lower bound of the edit distance: characters one name has that the other lacks.
 * Most names are nowhere near a well-known one, and this rules them out without the full table.
 */
export function bagDistance(a: string, b: string): number {
  if (!NON_ASCII.test(a) && !NON_ASCII.test(b)) return asciiBagDistance(a, b);
  // by code point, like editDistance, so one astral character counts once
  const counts = new Map<string, number>();
  for (const c of a) counts.set(c, (counts.get(c) ?? 0) + 1);
  let missing = 0;
  for (const c of b) {
    const n = counts.get(c) ?? 0;
    if (n > 0) counts.set(c, n - 1);
    else missing++;
  }
  let extra = 0;
  for (const n of counts.values()) extra += n;
  return Math.max(missing, extra);
}

const NON_ASCII = /[\u0080-\uffff]/;
const asciiCounts = new Int32Array(128);

/** bagDistance for two ASCII texts (one code point per unit), counted in one reused table. */
function asciiBagDistance(a: string, b: string): number {
  for (let i = 0; i < a.length; i++) asciiCounts[a.charCodeAt(i)]!++;
  let missing = 0;
  for (let i = 0; i < b.length; i++) {
    const c = b.charCodeAt(i);
    if (asciiCounts[c]! > 0) asciiCounts[c]!--;
    else missing++;
  }
  let extra = 0;
  for (let i = 0; i < a.length; i++) {
    const c = a.charCodeAt(i);
    extra += asciiCounts[c]!;
    asciiCounts[c] = 0;
  }
  return Math.max(missing, extra);
}

interface KnownEntry {
  target: string;
  norm: string;
  skeleton: string;
  parts: { scope?: string; base: string };
}

// Normal forms and skeletons of a known list, computed once per list (a scan checks hundreds of servers).
const tables = new WeakMap<readonly string[], Map<Ecosystem, KnownEntry[]>>();

function knownTable(known: readonly string[], ecosystem: Ecosystem): KnownEntry[] {
  let byEco = tables.get(known);
  if (!byEco) tables.set(known, (byEco = new Map()));
  let table = byEco.get(ecosystem);
  if (!table) {
    table = known.map((target) => {
      const norm = ecosystem === 'PyPI' ? normalizePypiName(target) : target.trim().toLowerCase();
      return { target, norm, skeleton: skeleton(target.trim()), parts: splitScope(norm) };
    });
    byEco.set(ecosystem, table);
  }
  return table;
}

function listFor(ecosystem: Ecosystem): readonly string[] {
  if (ecosystem === 'npm' || ecosystem === 'PyPI') return WELL_KNOWN_MCP_PACKAGES[ecosystem];
  return [];
}

// Typosquats of well-known MCP packages: lookalike letters, confused scopes, small typos;
// and no alarms for the real names, new packages in an owned scope or unrelated names.
import { describe, expect, it } from 'vitest';
import { editDistance, findTyposquat, skeleton, WELL_KNOWN_MCP_PACKAGES } from '@palisade/core';

describe('findTyposquat', () => {
  it('never flags a well-known package itself, in any case or PyPI spelling', () => {
    for (const name of WELL_KNOWN_MCP_PACKAGES.npm) expect(findTyposquat(name, 'npm')).toBeUndefined();
    for (const name of WELL_KNOWN_MCP_PACKAGES.PyPI) expect(findTyposquat(name, 'PyPI')).toBeUndefined();
    expect(findTyposquat('MCP_Server.Fetch', 'PyPI')).toBeUndefined();
    expect(findTyposquat('MCP-Remote', 'npm')).toBeUndefined();
  });

  it('catches Cyrillic and Greek lookalikes', () => {
    expect(findTyposquat('mcp-rem\u043ete', 'npm')).toEqual({ kind: 'homoglyph', target: 'mcp-remote' }); // Cyrillic o
    expect(findTyposquat('@playwright/m\u0441p', 'npm')).toBeUndefined(); // same owned scope: the owner's own name
    expect(findTyposquat('@p\u0430laywright/mcp', 'npm')).toMatchObject({ target: '@playwright/mcp' }); // Cyrillic a in the scope
    expect(findTyposquat('tavily-mc\u03c1', 'npm')).toEqual({ kind: 'homoglyph', target: 'tavily-mcp' }); // Greek rho
  });

  it('catches digit and letter swaps that read alike', () => {
    expect(findTyposquat('mcp-rem0te', 'npm')).toEqual({ kind: 'homoglyph', target: 'mcp-remote' });
    expect(findTyposquat('@modelcontextprotocoI/server-github', 'npm')).toEqual({ kind: 'homoglyph', target: '@modelcontextprotocol/server-github' });
    expect(findTyposquat('@modelcontextprotocol/server-github', 'npm')).toBeUndefined();
    expect(findTyposquat('firecrawI-mcp', 'npm')).toEqual({ kind: 'homoglyph', target: 'firecrawl-mcp' });
    expect(findTyposquat('mcp-server-fetch', 'PyPI')).toBeUndefined();
    expect(findTyposquat('rncp-server-fetch', 'PyPI')).toEqual({ kind: 'homoglyph', target: 'mcp-server-fetch' }); // rn reads as m
  });

  it('catches scope confusion: misspelt, hyphenated or dropped scopes', () => {
    expect(findTyposquat('@modelcontextprotocols/server-filesystem', 'npm')).toMatchObject({ kind: 'scope-confusion' });
    expect(findTyposquat('@model-context-protocol/server-memory', 'npm')).toMatchObject({ kind: 'scope-confusion', target: '@modelcontextprotocol/server-memory' });
    expect(findTyposquat('server-sequential-thinking', 'npm')).toMatchObject({ kind: 'scope-confusion' });
    expect(findTyposquat('upstash-context7-mcp', 'npm')).toMatchObject({ kind: 'scope-confusion', target: '@upstash/context7-mcp' });
  });

  it('catches one or two edits on longer names and leaves distant names alone', () => {
    expect(findTyposquat('mcp-remotee', 'npm')).toMatchObject({ kind: 'edit-distance', distance: 1 });
    expect(findTyposquat('figma-developer-mpc', 'npm')).toMatchObject({ kind: 'edit-distance', target: 'figma-developer-mcp' });
    expect(findTyposquat('mcp-server-gti', 'PyPI')).toMatchObject({ kind: 'edit-distance', target: 'mcp-server-git' });
    expect(findTyposquat('mcp-server-weather', 'PyPI')).toBeUndefined();
    expect(findTyposquat('my-own-mcp', 'npm')).toBeUndefined();
    expect(findTyposquat('@acme/server-filesystem', 'npm')).toBeUndefined(); // unrelated owner, own fork
    expect(findTyposquat('mcq', 'PyPI')).toBeUndefined(); // too short to judge
  });

  it('trusts a new package in an owned scope', () => {
    expect(findTyposquat('@modelcontextprotocol/server-gitlabs', 'npm')).toBeUndefined();
  });

  it('ignores ecosystems without a list', () => {
    expect(findTyposquat('mcp/fetch', 'docker')).toBeUndefined();
  });
});

describe('helpers', () => {
  it('counts a transposition as one edit', () => {
    expect(editDistance('remote', 'remtoe')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });

  it('folds lookalikes to one skeleton', () => {
    expect(skeleton('ΜCP-rеmоte')).toBe(skeleton('mcp-remote'));
  });
});

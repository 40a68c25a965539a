import { describe, expect, it } from 'vitest';
import { clientName, commandLine, formatDate, timeAgo } from './format';

describe('timeAgo', () => {
  const now = Date.parse('2026-12-04T12:00:00.000Z');
  const ago = (ms: number) => new Date(now - ms).toISOString();
  it('says how long ago in words a person reads at a glance', () => {
    expect(timeAgo(null, now)).toBe('never');
    expect(timeAgo(ago(10_000), now)).toBe('just now');
    expect(timeAgo(ago(5 * 60_000), now)).toBe('5 min ago');
    expect(timeAgo(ago(3 * 3_600_000), now)).toBe('3 h ago');
    expect(timeAgo(ago(47 * 3_600_000), now)).toBe('47 h ago');
    expect(timeAgo(ago(3 * 86_400_000), now)).toBe('3 days ago');
    expect(timeAgo(new Date(now + 60_000).toISOString(), now)).toBe('in the future');
  });
  it('shows an unreadable time as it came rather than "NaN"', () => {
    expect(timeAgo('not a date', now)).toBe('not a date');
    expect(formatDate('not a date')).toBe('not a date');
    expect(formatDate(undefined)).toBe('—');
  });
});

describe('labels', () => {
  it('names known clients and shows unknown ids as they are', () => {
    expect(clientName('vscode-insiders')).toBe('VS Code Insiders');
    expect(clientName('some-new-client')).toBe('some-new-client');
  });
  it('shows a server as its command line, or its URL when remote', () => {
    expect(commandLine({ command: 'npx', args: ['-y', 'pkg@1.2.3'], url: null })).toBe('npx -y pkg@1.2.3');
    expect(commandLine({ command: null, args: [], url: 'https://mcp.example.com/mcp' })).toBe('https://mcp.example.com/mcp');
    expect(commandLine({ command: null, args: [], url: null })).toBe('');
  });
});

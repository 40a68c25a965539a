// The hosts list through the typed client: the filters in the address become the route's query
// (a value the route does not accept is left out, so the list is not refused), the answer is
// shown as the route gives it, and a change of filter asks again.
// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cleanup, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import type { HostSummary } from '../api/types';
import { HostsPage } from './Hosts';

let urls: string[];

const host: HostSummary = {
  id: 'h 1',
  hostname: 'build-01',
  osUser: 'ci',
  os: 'linux',
  agentVersion: '0.1.0',
  firstSeen: '2026-12-01T00:00:00.000Z',
  lastSeen: '2026-12-04T00:00:00.000Z',
  silent: false,
  serverCount: 3,
  maxScore: 40,
  maxLevel: 'medium',
};

beforeEach(() => {
  urls = [];
  vi.stubGlobal('fetch', async (url: string) => {
    urls.push(url);
    return new Response(JSON.stringify({ items: [host], total: 1 }), { status: 200, headers: { 'Content-Type': 'application/json' } });
  });
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  window.history.replaceState(null, '', '/');
});

function renderAt(address: string) {
  window.history.replaceState(null, '', address);
  render(
    <QueryClientProvider client={new QueryClient({ defaultOptions: { queries: { retry: false } } })}>
      <HostsPage />
    </QueryClientProvider>,
  );
}

describe('HostsPage', () => {
  it("sends the address's filters as the route's query, leaving out a status the route does not have", async () => {
    renderAt('/hosts?q=build&status=asleep&sort=hostname&offset=50');
    expect(await screen.findByRole('link', { name: 'build-01' })).toHaveProperty('pathname', '/hosts/h%201');
    expect(urls).toEqual(['/api/v1/hosts?q=build&sort=hostname&limit=50&offset=50']);
  });

  it('asks again with the chosen status', async () => {
    const user = userEvent.setup();
    renderAt('/hosts');
    await screen.findByRole('link', { name: 'build-01' });
    await user.selectOptions(screen.getByLabelText('Status'), 'silent');
    await vi.waitFor(() => expect(urls).toEqual(['/api/v1/hosts?limit=50&offset=0', '/api/v1/hosts?status=silent&limit=50&offset=0']));
    expect(window.location.search).toBe('?status=silent');
  });
});

// The accept-risk form as an admin uses it: the backend gets the decision, the reason and the
// end of the chosen day; a refusal shows the server's sentence and the form stays.
// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cleanup, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { OverrideForm } from './OverrideForm';

let posted: Array<{ url: string; body: unknown }>;
let reply: () => Response;

beforeEach(() => {
  posted = [];
  vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
    posted.push({ url, body: JSON.parse(String(init.body)) });
    return reply();
  });
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function renderForm(onDone = vi.fn()) {
  const qc = new QueryClient({ defaultOptions: { mutations: { retry: false } } });
  render(
    <QueryClientProvider client={qc}>
      <OverrideForm serverId="srv 1" onDone={onDone} />
    </QueryClientProvider>,
  );
  return onDone;
}

describe('OverrideForm', () => {
  it('records the decision, the reason and the end of the chosen day, then closes', async () => {
    reply = () => new Response(JSON.stringify({ id: 'o1' }), { status: 201 });
    const user = userEvent.setup();
    const onDone = renderForm();
    await user.click(screen.getByLabelText(/Mark as benign/));
    await user.type(screen.getByLabelText(/Reason/), '  Internal tool, reviewed by security.  ');
    const date = screen.getByLabelText(/Expires on/) as HTMLInputElement;
    await user.clear(date);
    await user.type(date, '2027-01-31');
    await user.click(screen.getByRole('button', { name: 'Record override' }));
    await vi.waitFor(() => expect(onDone).toHaveBeenCalled());
    expect(posted).toEqual([{ url: '/api/v1/servers/srv%201/overrides', body: { decision: 'benign', reason: 'Internal tool, reviewed by security.', expiresAt: '2027-01-31T23:59:59.000Z' } }]);
  });

  it("shows the server's refusal and keeps the form open", async () => {
    reply = () => new Response(JSON.stringify({ error: { code: 'forbidden', message: 'Only admins and owners can accept a risk.' } }), { status: 403 });
    const user = userEvent.setup();
    const onDone = renderForm();
    await user.type(screen.getByLabelText(/Reason/), 'Needed for the demo next week.');
    await user.click(screen.getByRole('button', { name: 'Record override' }));
    expect(await screen.findByRole('alert')).toHaveProperty('textContent', 'The override was not saved. Only admins and owners can accept a risk.');
    expect(onDone).not.toHaveBeenCalled();
  });

  it('cancels without sending anything', async () => {
    const user = userEvent.setup();
    const onDone = renderForm();
    await user.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(onDone).toHaveBeenCalledTimes(1);
    expect(posted).toEqual([]);
  });
});

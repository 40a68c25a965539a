// The typed client at the type level: the answer, the path parameters, the query and the body
// all come from the route in schema.gen.ts. This file is part of the web typecheck
// (`npm run typecheck -w @palisade/web`): every `@ts-expect-error` below must be a real error,
// or the typecheck fails ("unused directive"), so a wrong path, a missing path parameter or a
// wrong body provably does not compile.
import { describe, expectTypeOf, it } from 'vitest';
import { DELETE, GET, PATCH, POST, PUT, type PathsFor } from './client';
import type { components } from './schema.gen';

type S = components['schemas'];

// Never called: only compiled. Each call is checked against the route it names.
function wrongCalls() {
  // (the options are given so that the path itself is what the compiler refuses)
  // @ts-expect-error: no such route
  void GET('/api/v1/nope', {});
  // @ts-expect-error: the route exists, but without the /api/v1 prefix it is not a path of the contract
  void GET('/servers', {});
  // @ts-expect-error: the servers list answers GET only
  void DELETE('/api/v1/servers', {});
  // @ts-expect-error: a path parameter is missing (no options at all)
  void GET('/api/v1/servers/{id}');
  // @ts-expect-error: a path parameter is missing (empty path)
  void GET('/api/v1/servers/{id}', { path: {} });
  // @ts-expect-error: the parameter has another name
  void GET('/api/v1/signup/{org}', { path: { id: 'x' } });
  // @ts-expect-error: a route without parameters takes none
  void GET('/api/v1/me', { path: { id: 'x' } });
  // @ts-expect-error: the body is required
  void POST('/api/v1/invitations');
  // @ts-expect-error: a role the API does not have
  void POST('/api/v1/invitations', { body: { email: 'a@b.c', role: 'king' } });
  // @ts-expect-error: a field the body does not have
  void POST('/api/v1/agent-keys', { body: { name: 'laptop', secret: 'x' } });
  // @ts-expect-error: a field of the wrong type
  void PATCH('/api/v1/settings', { body: { retentionDays: '30' } });
  // @ts-expect-error: a route without a body takes none
  void GET('/api/v1/overview', { body: {} });
  // @ts-expect-error: a sort the servers list does not offer
  void GET('/api/v1/servers', { query: { sort: 'colour' } });
  // @ts-expect-error: limit is a number
  void GET('/api/v1/hosts', { query: { limit: '50' } });
  // @ts-expect-error: a query parameter the route does not take
  void GET('/api/v1/overview', { query: { limit: 5 } });
}

describe('the typed client (types)', () => {
  it('answers what the route declares, never a type the caller picks', () => {
    expectTypeOf(GET<'/api/v1/servers/{id}'>).returns.resolves.toEqualTypeOf<S['ServerDetail']>();
    expectTypeOf(GET<'/api/v1/me'>).returns.resolves.toEqualTypeOf<S['Me']>();
    expectTypeOf(GET<'/api/v1/servers'>).returns.resolves.toEqualTypeOf<{ items: S['ServerSummary'][]; total: number }>();
    expectTypeOf(PUT<'/api/v1/signup/settings'>)
      .returns.resolves.toHaveProperty('enabled')
      .toEqualTypeOf<boolean>();
    expectTypeOf(POST<'/api/v1/webhooks/{id}/test'>).returns.resolves.toEqualTypeOf<S['WebhookDelivery']>();
    // 204 routes answer nothing
    expectTypeOf(DELETE<'/api/v1/agent-keys/{id}'>).returns.resolves.toEqualTypeOf<undefined>();
    expectTypeOf(POST<'/api/v1/auth/logout'>).returns.resolves.toEqualTypeOf<undefined>();
    // the method decides which paths are offered
    expectTypeOf<'/api/v1/servers'>().toExtend<PathsFor<'get'>>();
    expectTypeOf<'/api/v1/servers'>().not.toExtend<PathsFor<'delete'>>();
    expectTypeOf<'/healthz'>().not.toExtend<PathsFor<'get'>>();
    expectTypeOf(wrongCalls).toBeFunction();
  });
});

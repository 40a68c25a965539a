// Side tables behind the server list's client and text filters (migration 021), kept exact by
// syncServerIndex, which refreshServerAggregates calls for every server it recomputes.
//
// Why: on PostgreSQL the app runs under forced row-level security, and the planner will not
// evaluate a non-leakproof operator (LIKE) inside an index scan before the policy's check, so
// `search LIKE '%text%'` and the comma-list match on `clients` scan every definition of the
// organisation. Equality on text is leakproof: these tables turn both filters into equality
// look-ups on their primary keys.
//   server_clients  (org_id, client, server_id): one row per client of a listed server (one
//                   with instances), so a client's rows are exactly the list's matches.
//   server_trigrams (org_id, trigram, server_id): every distinct three-character piece of a
//                   server's search text. A text query's pieces narrow the candidates; the
//                   list still confirms each with the same LIKE as before, so results are the
//                   same as a full scan's.
//   server_index_state (org_id, server_id, clients, search): what the rows above were built
//                   from, so a refresh rewrites a server's rows only when that changed.
import { sql, type RawBuilder } from 'kysely';
import type { DialectName } from '../db/open.js';
import type { OrgScope, Tx } from '../db/index.js';
import { asciiLower, storageFor } from '../db/storage.js';
import { chunk, chunkRows } from './batch.js';

export type ServerIndexTables = {
  server_index_state: { org_id: string; server_id: string; clients: string; search: string };
  server_clients: { org_id: string; client: string; server_id: string };
  server_trigrams: { org_id: string; trigram: string; server_id: string };
};

/** A text query whose rarest probed piece is in at least this many servers scans instead. */
export const TRIGRAM_SCAN_AT = 2000;
/** From this many listed servers in a client on, the client filter probes instead of sorting. */
const CLIENT_PROBE_AT = 500;
/** Pieces are counted up to this many rows first, and only when all reach it up to TRIGRAM_SCAN_AT. */
const FIRST_COUNT_BOUND = 250;
/** How many of a text query's pieces are counted to pick the rarest (spread over the text). */
const PROBED_TRIGRAMS = 8;

/**
 * The distinct three-character pieces of text (by code point, ASCII letters folded). When a
 * LIKE '%q%' matches a text on either database, every piece of q is a piece of that text.
 */
export function trigrams(text: string): string[] {
  const cps = Array.from(asciiLower(text));
  const out = new Set<string>();
  for (let i = 0; i + 3 <= cps.length; i++) out.add(cps[i]! + cps[i + 1]! + cps[i + 2]!);
  return [...out];
}

/**
 * The key a client id is stored under, so that `client = lower(query)` matches exactly what
 * `',' || clients || ',' LIKE '%,lower(query),%'` matched before: case-sensitive on
 * PostgreSQL, ASCII-case-insensitive on SQLite.
 */
export function clientKey(dialect: DialectName, client: string): string {
  return storageFor({ dialect }).clientKey(client);
}

function clientKeys(dialect: DialectName, clients: string): Set<string> {
  return new Set(clients.split(',').filter(Boolean).map((c) => clientKey(dialect, c)));
}

/** The client list a server is indexed under: only listed servers (with instances) have one. */
function listedClients(s: { instance_count: number; clients: string }): string {
  return s.instance_count > 0 ? s.clients : '';
}

/** Every side-table row of one server, for a backfill into empty tables. */
export function serverIndexRows(dialect: DialectName, orgId: string, s: { id: string; instance_count: number; clients: string; search: string }) {
  const clients = listedClients(s);
  return {
    state: { org_id: orgId, server_id: s.id, clients, search: s.search },
    clients: [...clientKeys(dialect, clients)].map((client) => ({ org_id: orgId, client, server_id: s.id })),
    trigrams: trigrams(s.search).map((trigram) => ({ org_id: orgId, trigram, server_id: s.id })),
  };
}

/**
 * Brings the side rows of these servers in line with their current `clients`, `instance_count`
 * and `search`. Reads one state row per server; writes only for servers whose indexed values
 * changed, in multi-row statements. Runs in the caller's org-scoped transaction (on
 * PostgreSQL after refreshServerAggregates has locked the rows, so two ingests take turns).
 */
export async function syncServerIndex(tx: Tx, scope: OrgScope, serverIds: readonly string[], dialect: DialectName): Promise<void> {
  const org = scope.orgId;
  const db = tx.withTables<ServerIndexTables>();
  for (const part of chunk([...new Set(serverIds)].sort())) {
    if (part.length === 0) continue;
    const rows = await db
      .selectFrom('servers as s')
      .leftJoin('server_index_state as x', (j) => j.onRef('x.server_id', '=', 's.id').on('x.org_id', '=', org))
      .select(['s.id', 's.instance_count', 's.clients', 's.search', 'x.server_id as indexed', 'x.clients as indexed_clients', 'x.search as indexed_search'])
      .where('s.org_id', '=', org)
      .where('s.id', 'in', part)
      .execute();
    const states: Array<ServerIndexTables['server_index_state']> = [];
    const clientRows: Array<ServerIndexTables['server_clients']> = [];
    const clientDrops = new Map<string, string[]>(); // client key -> server ids
    const gramRows: Array<ServerIndexTables['server_trigrams']> = [];
    const gramDrops: Array<{ id: string; grams: string[] }> = [];
    for (const r of rows) {
      const known = r.indexed !== null;
      const clients = listedClients(r);
      const oldClients = r.indexed_clients ?? '';
      const oldSearch = r.indexed_search ?? '';
      if (known && oldClients === clients && oldSearch === r.search) continue;
      states.push({ org_id: org, server_id: r.id, clients, search: r.search });
      if (!known || oldClients !== clients) {
        const before = clientKeys(dialect, oldClients);
        const after = clientKeys(dialect, clients);
        for (const k of after) if (!before.has(k)) clientRows.push({ org_id: org, client: k, server_id: r.id });
        for (const k of before) if (!after.has(k)) clientDrops.set(k, [...(clientDrops.get(k) ?? []), r.id]);
      }
      if (!known || oldSearch !== r.search) {
        const before = new Set(known ? trigrams(oldSearch) : []);
        const after = new Set(trigrams(r.search));
        for (const g of after) if (!before.has(g)) gramRows.push({ org_id: org, trigram: g, server_id: r.id });
        const gone = [...before].filter((g) => !after.has(g));
        if (gone.length > 0) gramDrops.push({ id: r.id, grams: gone });
      }
    }
    if (states.length === 0) continue;
    for (const [client, ids] of clientDrops) {
      await db.deleteFrom('server_clients').where('org_id', '=', org).where('client', '=', client).where('server_id', 'in', ids).execute();
    }
    for (const { id, grams } of gramDrops) {
      for (const g of chunk(grams)) await db.deleteFrom('server_trigrams').where('org_id', '=', org).where('server_id', '=', id).where('trigram', 'in', g).execute();
    }
    for (const c of chunkRows(clientRows)) await db.insertInto('server_clients').values(c).onConflict((oc) => oc.columns(['org_id', 'client', 'server_id']).doNothing()).execute();
    // in key order: each statement's rows land in neighbouring index pages (a new definition
    // brings ~50 trigrams spread over the whole index), and every transaction locks in one order
    gramRows.sort((a, b) => (a.trigram < b.trigram ? -1 : a.trigram > b.trigram ? 1 : a.server_id < b.server_id ? -1 : a.server_id > b.server_id ? 1 : 0));
    for (const c of chunkRows(gramRows)) await db.insertInto('server_trigrams').values(c).onConflict((oc) => oc.columns(['org_id', 'trigram', 'server_id']).doNothing()).execute();
    for (const c of chunkRows(states)) {
      await db
        .insertInto('server_index_state')
        .values(c)
        .onConflict((oc) => oc.columns(['org_id', 'server_id']).doUpdateSet((eb) => ({ clients: eb.ref('excluded.clients'), search: eb.ref('excluded.search') })))
        .execute();
    }
  }
}

/**
 * The client filter (a client id without commas): how many listed servers have an instance in
 * that client, and the condition on `servers.id` that selects them. A common client is
 * probed per row as the list walks its sort index (it stops after a page); a rare one is read
 * from its rows and sorted (SQLite would otherwise sort a common client's every server).
 */
export async function clientFilter(tx: Tx, scope: OrgScope, client: string): Promise<{ count: number; match: RawBuilder<boolean> }> {
  const org = scope.orgId;
  const key = client.toLowerCase();
  const r = await tx
    .withTables<ServerIndexTables>()
    .selectFrom('server_clients')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('org_id', '=', org)
    .where('client', '=', key)
    .executeTakeFirstOrThrow();
  const count = Number(r.n);
  const match =
    count >= CLIENT_PROBE_AT
      ? sql<boolean>`exists (select 1 from server_clients as c where c.org_id = ${org} and c.client = ${key} and c.server_id = servers.id)`
      : sql<boolean>`servers.id in (select c.server_id from server_clients as c where c.org_id = ${org} and c.client = ${key})`;
  return { count, match };
}

/**
 * For a text query: a subquery of the ids of the servers whose search text matches `pattern`
 * (the caller's LIKE pattern for that text), found through the query's rarest piece. The LIKE
 * is applied to each candidate's text through a scalar subquery by primary key: the planner
 * cannot turn that into a scan of the servers (its estimate for LIKE is far too low, so it
 * would). Null when the text is shorter than three characters or even its rarest piece is
 * common; the caller then scans as before.
 */
export async function textMatchIds(tx: Tx, scope: OrgScope, text: string, pattern: string) {
  const grams = trigrams(text.toLowerCase());
  if (grams.length === 0) return null;
  const org = scope.orgId;
  const k = Math.min(grams.length, PROBED_TRIGRAMS);
  const probed = [...new Set(Array.from({ length: k }, (_, i) => grams[k === 1 ? 0 : Math.round((i * (grams.length - 1)) / (k - 1))]!))];
  // each piece's row count in one statement, counted no further than a small bound first
  let rarest = { g: '', n: Infinity };
  for (const bound of [FIRST_COUNT_BOUND, TRIGRAM_SCAN_AT]) {
    const counts = probed.map((g, i) => sql`(select count(*) from (select 1 from server_trigrams where org_id = ${org} and trigram = ${g} limit ${bound}) as ${sql.id(`z${i}`)}) as ${sql.id(`c${i}`)}`);
    const row = (await sql<Record<string, number | string>>`select ${sql.join(counts)}`.execute(tx)).rows[0]!;
    rarest = probed.map((g, i) => ({ g, n: Number(row[`c${i}`]) })).sort((a, b) => a.n - b.n)[0]!;
    if (rarest.n < bound) break;
  }
  if (rarest.n >= TRIGRAM_SCAN_AT) return null;
  return tx
    .withTables<ServerIndexTables>()
    .selectFrom('server_trigrams as t0')
    .select('t0.server_id')
    .where('t0.org_id', '=', org)
    .where('t0.trigram', '=', rarest.g)
    .where((eb) => sql<boolean>`${eb.selectFrom('servers as s2').select('s2.search').where('s2.org_id', '=', org).whereRef('s2.id', '=', 't0.server_id')} like ${pattern} escape '\\'`);
}

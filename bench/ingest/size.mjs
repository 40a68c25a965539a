// PostgreSQL size per 1,000 hosts (docs/deployment.md, "What the backend must hold"): the
// compiled app on a fresh PostgreSQL database (bench/ingest/inproc.mjs), HOSTS hosts'
// realistic reports (bench/ingest/reports.mjs) sent through the API, then three rounds in which
// every host changes one server; prints the database size after each step.
// Run: npm run build && PALISADE_TEST_DATABASE_URL=postgres://... node bench/ingest/size.mjs   (HOSTS=1000)
import { sql } from 'kysely';
import { startBackend } from './inproc.mjs';
import { hostReport } from './reports.mjs';

const HOSTS = Number(process.env.HOSTS ?? 1000);
const b = await startBackend('postgres');
const { ingestQueueFor } = await import('../../packages/server/dist/services/ingest/queue.js');
const send = async (rev) => {
  let inflight = [];
  for (let h = 0; h < HOSTS; h++) {
    const body = JSON.stringify(hostReport(h, rev));
    inflight.push(
      fetch(`${b.base}/api/v1/agent/report`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': b.key, prefer: 'wait=0' },
        body,
      }).then((r) => r.text()),
    );
    if (inflight.length >= 16) {
      await Promise.all(inflight);
      inflight = [];
    }
  }
  await Promise.all(inflight);
  await ingestQueueFor(b.platform.store).drained();
};
const dbSize = async () => Number((await sql`select pg_database_size(current_database()) as n`.execute(b.platform.store.db)).rows[0].n);
const mb = (n) => (n / 1e6).toFixed(1);
try {
  const empty = await dbSize();
  const t0 = Date.now();
  await send(0);
  let prev = await dbSize();
  process.stdout.write(`first reports of ${HOSTS} hosts (${((Date.now() - t0) / 1000).toFixed(0)} s): database ${mb(empty)} -> ${mb(prev)} MB\n`);
  for (let rev = 1; rev <= 3; rev++) {
    await send(rev);
    await sql`vacuum`.execute(b.platform.store.db).catch(() => undefined);
    const now = await dbSize();
    process.stdout.write(`round ${rev}, one server changed on every host: +${mb(now - prev)} MB -> ${mb(now)} MB\n`);
    prev = now;
  }
} finally {
  await b.close();
}

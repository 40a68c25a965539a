// POST /agent/report: an agent key's scan report. The raw body is read as text so its size
// and nesting depth are checked before anything parses it; then the schema; then it is stored
// in the ingest inbox and answered 202 with its id (services/ingest/queue.ts processes it:
// one transaction, idempotent, re-scored there). GET /agent/report/:id gives its status.
// A body the host already sent (only its scan time differs) moves last-seen times: 200,
// recognised in its bytes, before it is decoded or parsed (services/ingest/touch.ts).
// Protocol v2 (services/ingest/offer.ts): POST /agent/report/offer (the envelope and each
// server's key and content hash) answers "done" for an unchanged re-scan or the keys to send in
// full; POST /agent/report/v2 (those in full, the others as references) is resolved into the
// whole report and accepted exactly as a v1 body. 409 when a reference cannot be resolved.
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { redactReport } from '@palisade/core';
import { Type } from 'typebox';
import { access } from '../auth/access.js';
import { ApiError } from '../errors.js';
import { IngestResult, ReportAccepted, ReportProcessed, ReportStatus } from '../http/models.js';
import { asWire, errors, IdParams, named, Nullable, typed } from '../http/schemas.js';
import { auditReportIngested } from '../services/ingest/audit.js';
import { acceptUnchangedOffer, answerOffer, ensureHostEntriesNow, MAX_OFFER_BYTES, OfferRejected, parseOffer, resolveV2Report } from '../services/ingest/offer.js';
import { ingestQueueFor, QuotaExceeded } from '../services/ingest/queue.js';
import { acceptUnchangedBody, rawBodyKey } from '../services/ingest/touch.js';
import { contentHash, hostKey } from '../services/ingest/validate.js';
import { MAX_REPORT_BYTES, parseReportText, ReportRejected } from '../services/report-limits.js';
import { dispatcherFor } from '../services/webhooks/dispatcher.js';

/** Reports per minute per agent key (PALISADE_INGEST_RATE_LIMIT; a daemon sends one an hour). */
export function ingestRateLimit(env = process.env): number {
  const v = Number(env.PALISADE_INGEST_RATE_LIMIT);
  return Number.isInteger(v) && v > 0 ? v : 120;
}

/**
 * How long the POST may wait for its report to be processed before answering 202: the
 * client's `Prefer: wait=N` (RFC 7240, seconds, at most 30) or PALISADE_INGEST_WAIT_MS
 * (default 0: answer at once). Processed in time, the answer is 200 with the result.
 */
function waitMs(request: FastifyRequest, env = process.env): number {
  const prefer = request.headers.prefer;
  const m = typeof prefer === 'string' ? /(?:^|[,;\s])wait=(\d{1,3})(?:$|[,;\s])/.exec(prefer) : null;
  if (m) return Math.min(30, Number(m[1])) * 1000; // wait=0: answer at once
  const v = Number(env.PALISADE_INGEST_WAIT_MS);
  return Number.isFinite(v) && v > 0 ? Math.min(v, 30_000) : 0;
}

function rateKey(request: FastifyRequest): string {
  const key = request.headers['x-api-key'];
  return typeof key === 'string' ? `k:${createHash('sha256').update(key).digest('hex').slice(0, 32)}` : `ip:${request.ip}`;
}

/** Route config of the three agent ingest routes: agent key, and a per-key limit of ingestRateLimit() a minute for each route. */
function agentIngestConfig() {
  return { access: access.agent, rateLimit: { max: ingestRateLimit(), timeWindow: '1 minute', keyGenerator: rateKey } };
}

/** The raw JSON body of an ingest route (read as bytes, checked by the ingest's own validation); 415 for any other content type. */
function jsonBody(request: FastifyRequest, what: 'report' | 'offer'): Buffer {
  const body = request.body;
  if (!Buffer.isBuffer(body)) throw new ApiError(415, 'unsupported_media_type', `Send the ${what} as JSON with Content-Type: application/json.`);
  return body;
}

/** The answer to a v2 offer: done (an unchanged re-scan: `result`), or the keys of the servers to send in full and the token the v2 report carries. */
const ReportOfferAnswer = named(
  'ReportOfferAnswer',
  Type.Object({
    status: Type.Enum(['done', 'need']),
    need: Type.Array(Type.String()),
    offer: Nullable(Type.String()),
    result: Nullable(IngestResult),
  }),
);

export async function ingestRoutes(plain: FastifyInstance): Promise<void> {
  const app = typed(plain);
  const store = app.platform.store;
  // This plugin's own JSON parser: keep the raw bytes (an unchanged re-scan is recognised in
  // them; any other body is decoded once and its depth checked before it is parsed).
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: MAX_REPORT_BYTES }, (_req, body, done) => done(null, body));

  const dispatcher = dispatcherFor(store);
  const queue = ingestQueueFor(store, {
    onAlerts: () => void dispatcher.kick(),
    // a changed report is a state change: audited in the same transaction
    afterWrite: auditReportIngested,
    onError: (err, id) => app.log.error({ err, reportId: id }, 'could not process an accepted report'),
  });
  // reports accepted before a restart (or a crash) are processed now
  app.addHook('onReady', async () => {
    const n = await queue.resume();
    if (n > 0) app.log.info({ reports: n }, 'resuming the ingest inbox');
  });
  app.addHook('onClose', async () => {
    await queue.stop();
  });

  /** A whole report's text (v1, or a resolved v2 report) through accept: inbox, queue, 202 or 200 (`Prefer: wait`). */
  async function acceptText(request: FastifyRequest, reply: FastifyReply, text: string, raw: ReturnType<typeof rawBodyKey> | undefined) {
    const agent = request.agent!;
    const scope = { orgId: agent.orgId };
    const wait = waitMs(request);
    let accepted;
    try {
      accepted = await queue.accept(scope, text, { agentKeyId: agent.keyId, ip: request.ip }, new Date(), raw ?? undefined);
    } catch (err) {
      if (err instanceof ReportRejected) throw new ApiError(err.statusCode, err.code, err.message);
      if (err instanceof QuotaExceeded) {
        reply.header('retry-after', String(err.retryAfterSeconds));
        throw new ApiError(429, 'ingest_backlog', err.message);
      }
      throw err;
    }
    if (accepted.result) {
      // the client asked to wait for processing: the deferred last-seen moves are written first
      if (wait > 0) await queue.flushSeen();
      return asWire(ReportProcessed, { ...accepted.result, id: null, status: 'done' });
    }
    const id = accepted.id!;
    if (wait > 0 && accepted.status === 'pending') await queue.waitFor(id, wait);
    const status = wait > 0 || accepted.status !== 'pending' ? await queue.status(scope, id) : null;
    if (status?.status === 'done' && status.result) return asWire(ReportProcessed, { ...status.result, id, status: 'done' });
    if (status?.status === 'failed') throw new ApiError(422, 'report_failed', status.error ?? 'The report could not be processed.');
    return reply.code(202).send(asWire(ReportAccepted, { id, status: status?.status ?? 'pending' }));
  }

  app.post(
    '/agent/report',
    {
      bodyLimit: MAX_REPORT_BYTES,
      config: agentIngestConfig(),
      schema: {
        summary:
          'Send a scan report (the output of `palisade scan --json`) with an agent key: 202 with its id (then GET /agent/report/:id), or 200 when it was processed within `Prefer: wait=N`',
        tags: ['agent'],
        // the body is a scan report (docs/scan-format.md, schema/scan-v1.schema.json): read as
        // text and checked by the ingest's own validation, so it has no schema here
        response: { 200: ReportProcessed, 202: ReportAccepted, ...errors(413, 415, 422, 429, 507) },
      },
    },
    async (request, reply) => {
      const body = jsonBody(request, 'report');
      const scope = { orgId: request.agent!.orgId };
      const wait = waitMs(request);
      // an unchanged re-scan (what a daemon sends most of the time): one read, answered at once
      const raw = rawBodyKey(body);
      const unchanged = raw && (await acceptUnchangedBody(store, scope, raw, new Date().toISOString()));
      if (unchanged) {
        // the client asked to wait for processing: the deferred last-seen moves are written first
        if (wait > 0) await queue.flushSeen();
        return asWire(ReportProcessed, { ...unchanged, id: null, status: 'done' });
      }
      return acceptText(request, reply, body.toString('utf8'), raw ?? undefined);
    },
  );

  app.post(
    '/agent/report/offer',
    {
      bodyLimit: MAX_OFFER_BYTES,
      config: agentIngestConfig(),
      schema: {
        summary:
          "Protocol v2, step 1: offer a report as its envelope and each server's key and content hash, with an agent key: `done` for an unchanged re-scan (last-seen moved), else the keys of the servers to send in full and the offer's token",
        tags: ['agent'],
        // read as text and checked by the ingest's own validation (services/ingest/offer.ts)
        response: { 200: ReportOfferAnswer, ...errors(400, 413, 415, 422) },
      },
    },
    async (request) => {
      const body = jsonBody(request, 'offer');
      const scope = { orgId: request.agent!.orgId };
      // the host's last offer again in its bytes (the agent's canonical body): one read, no parsing
      const raw = rawBodyKey(body);
      const known = raw && (await acceptUnchangedOffer(store, scope, raw, new Date().toISOString()));
      const answer = known ? ({ kind: 'unchanged', result: known } as const) : await rejectingAsync(() => answerOffer(store, scope, rejecting(() => parseOffer(body.toString('utf8'))), new Date().toISOString()));
      if (answer.kind === 'need') return asWire(ReportOfferAnswer, { status: 'need', need: answer.need, offer: answer.offer, result: null });
      if (waitMs(request) > 0) await queue.flushSeen();
      return asWire(ReportOfferAnswer, { status: 'done', need: [], offer: null, result: answer.result });
    },
  );

  app.post(
    '/agent/report/v2',
    {
      bodyLimit: MAX_REPORT_BYTES,
      config: agentIngestConfig(),
      schema: {
        summary:
          'Protocol v2, step 2: the offered report with the needed servers in full and the others as references {ref, hash}, and the offer token; processed as the whole report it stands for (as POST /agent/report). 409 when a reference cannot be resolved: send the whole report',
        tags: ['agent'],
        response: { 200: ReportProcessed, 202: ReportAccepted, ...errors(409, 413, 415, 422, 429, 507) },
      },
    },
    async (request, reply) => {
      const body = jsonBody(request, 'report');
      const scope = { orgId: request.agent!.orgId };
      const whole = await rejectingAsync(() => resolveV2Report(store, scope, body.toString('utf8')));
      const answer = await acceptText(request, reply, whole.text, undefined);
      // a host whose last report was processed before the backend kept its entries sends every
      // server; found unchanged, its entries are kept now, so its next offer is answered "done"
      // (a 202 was sent through `reply` and there is no answer body to read)
      if (whole.refs === 0 && !reply.sent && answer && 'unchanged' in answer && answer.unchanged && answer.hostId) {
        const report = redactReport(parseReportText(whole.text));
        await ensureHostEntriesNow(store, scope, hostKey(report), answer.hostId, report, contentHash(report), new Date().toISOString()).catch((err: unknown) =>
          app.log.warn({ err }, 'could not keep the entries of an unchanged v2 report'),
        );
      }
      return answer;
    },
  );

  app.get(
    '/agent/report/:id',
    {
      config: { access: access.agent },
      schema: {
        summary: "The processing status of a report this agent key's organisation sent",
        tags: ['agent'],
        params: IdParams,
        response: { 200: ReportStatus, ...errors(404) },
      },
    },
    async (request) => {
      const status = await queue.status({ orgId: request.agent!.orgId }, request.params.id);
      if (!status) throw new ApiError(404, 'not_found', 'No report with this id was sent by this organisation.');
      return asWire(ReportStatus, status);
    },
  );
}

function rejecting<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw asApiError(err);
  }
}

async function rejectingAsync<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw asApiError(err);
  }
}

function asApiError(err: unknown): unknown {
  if (err instanceof OfferRejected || err instanceof ReportRejected) return new ApiError(err.statusCode, err.code, err.message);
  return err;
}

// The OSV schema (https://ossf.github.io/osv-schema/), the subset Palisade reads, as zod schemas.
// Unknown fields are kept (OSV grows); sizes are bounded so one hostile record cannot eat memory.
// A record that does not fit is skipped with a reason; it never aborts an import.
import { z } from 'zod';

export const OSV_LIMITS = {
  id: 128,
  summary: 1024,
  details: 65536,
  aliases: 200,
  affected: 2000,
  events: 2000,
  versions: 50000,
  references: 1000,
  url: 4096,
} as const;

// The schemas are built on first use, not when the module loads: `palisade scan` matches
// against the curated set, which is validated when it is built (see trustedOsvRecord), so
// a scan never needs them. Imports, sync and the backend build them on their first record.
function buildOsvSchemas() {
  const id = z.string().min(1).max(OSV_LIMITS.id).regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'an id is letters, digits and . _ : - only');
  const version = z.string().min(1).max(256);
  const timestamp = z.string().max(64);

  const OsvEventSchema = z.union([z.object({ introduced: version }), z.object({ fixed: version }), z.object({ last_affected: version }), z.object({ limit: version })]);

  const OsvRangeSchema = z.looseObject({
    type: z.enum(['SEMVER', 'ECOSYSTEM', 'GIT']),
    repo: z.string().max(OSV_LIMITS.url).optional(),
    events: z.array(OsvEventSchema).min(1).max(OSV_LIMITS.events),
  });

  const OsvSeveritySchema = z.looseObject({
    type: z.string().max(32),
    score: z.string().max(256),
  });

  const OsvAffectedSchema = z.looseObject({
    package: z
      .looseObject({
        ecosystem: z.string().min(1).max(128),
        name: z.string().min(1).max(512),
        purl: z.string().max(1024).optional(),
      })
      .optional(),
    severity: z.array(OsvSeveritySchema).max(16).optional(),
    ranges: z.array(OsvRangeSchema).max(OSV_LIMITS.affected).optional(),
    versions: z.array(version).max(OSV_LIMITS.versions).optional(),
    ecosystem_specific: z.record(z.string(), z.unknown()).optional(),
    database_specific: z.record(z.string(), z.unknown()).optional(),
  });

  const OsvRecordSchema = z.looseObject({
    schema_version: z.string().max(32).optional(),
    id,
    modified: timestamp,
    published: timestamp.optional(),
    withdrawn: timestamp.optional(),
    aliases: z.array(id).max(OSV_LIMITS.aliases).optional(),
    related: z.array(z.string().max(OSV_LIMITS.id)).max(OSV_LIMITS.aliases).optional(),
    summary: z.string().max(OSV_LIMITS.summary).optional(),
    details: z.string().max(OSV_LIMITS.details).optional(),
    severity: z.array(OsvSeveritySchema).max(16).optional(),
    affected: z.array(OsvAffectedSchema).max(OSV_LIMITS.affected).optional(),
    references: z
      .array(z.looseObject({ type: z.string().max(32), url: z.string().max(OSV_LIMITS.url) }))
      .max(OSV_LIMITS.references)
      .optional(),
    database_specific: z.record(z.string(), z.unknown()).optional(),
  });
  return { OsvEventSchema, OsvRangeSchema, OsvSeveritySchema, OsvAffectedSchema, OsvRecordSchema };
}

type OsvSchemas = ReturnType<typeof buildOsvSchemas>;
let schemas: OsvSchemas | undefined;

/** The OSV zod schemas (built on the first call). */
export function osvSchemas(): OsvSchemas {
  return (schemas ??= buildOsvSchemas());
}

export type OsvEvent = z.infer<OsvSchemas['OsvEventSchema']>;
export type OsvRange = z.infer<OsvSchemas['OsvRangeSchema']>;
export type OsvSeverity = z.infer<OsvSchemas['OsvSeveritySchema']>;
export type OsvAffected = z.infer<OsvSchemas['OsvAffectedSchema']>;
export type OsvRecord = z.infer<OsvSchemas['OsvRecordSchema']>;

export type OsvParseResult = { ok: true; record: OsvRecord } | { ok: false; reason: string };

/** Validate one parsed JSON value as an OSV record; the reason names the first bad field. */
export function parseOsvRecord(value: unknown): OsvParseResult {
  const r = osvSchemas().OsvRecordSchema.safeParse(value);
  if (r.success) {
    if (Number.isNaN(Date.parse(r.data.modified))) return { ok: false, reason: `"modified" is not a date (${r.data.modified.slice(0, 40)})` };
    return { ok: true, record: r.data };
  }
  const issue = r.error.issues[0];
  const where = issue && issue.path.length ? issue.path.join('.') : 'record';
  const recordId = typeof (value as { id?: unknown } | null)?.id === 'string' ? `${String((value as { id: string }).id).slice(0, 64)}: ` : '';
  return { ok: false, reason: `${recordId}${where}: ${issue?.message ?? 'not an OSV record'}` };
}

/** Newer of two versions of the same advisory, by `modified` (ties keep the first). */
export function newerRecord(a: OsvRecord, b: OsvRecord): OsvRecord {
  return Date.parse(b.modified) > Date.parse(a.modified) ? b : a;
}

/** Every id the advisory is known by: its own, then its aliases. */
export function advisoryIds(record: Pick<OsvRecord, 'id' | 'aliases'>): string[] {
  return [record.id, ...(record.aliases ?? []).filter((a) => a !== record.id)];
}

/** CVE ids of an advisory (its id or aliases), for KEV lookups. */
export function cveIds(record: Pick<OsvRecord, 'id' | 'aliases'>): string[] {
  return advisoryIds(record).filter((i) => /^CVE-\d{4}-\d{4,}$/i.test(i)).map((i) => i.toUpperCase());
}

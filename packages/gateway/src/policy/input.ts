// Checks on a tool call's arguments before they are forwarded: shape limits (depth, string
// and array sizes, total bytes), dangerous URL schemes, and the pinned inputSchema (Ajv, each
// schema compiled once per definition hash).
import { Ajv, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';

export interface InputLimits {
  maxMessageBytes: number;
  maxDepth: number;
  maxStringLength: number;
  maxArrayLength: number;
}

// javascript:, vbscript:, file: anywhere a string starts; data: only in URL form (data:[type][;x],...)
// so ordinary text such as "data: 3 rows" is not refused. Whitespace and control characters
// browsers ignore inside a scheme ("java\tscript:") are ignored here too.
const DANGEROUS_SCHEME = /^(?:javascript|vbscript|file):|^data:[a-z0-9.+-]*(?:\/[a-z0-9.+-]*)?(?:;[^,]*)?,/i;

function schemeProbe(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.slice(0, 64).replace(/[\u0000-\u0020\u007f-\u009f]+/g, '');
}

/** The first problem with `args` as a sentence, or undefined when they pass (`jsonBytes`: their JSON's size in bytes, when the caller has it). */
export function checkArgumentShape(args: unknown, limits: InputLimits, jsonBytes?: number): string | undefined {
  const bytes = jsonBytes ?? Buffer.byteLength(JSON.stringify(args ?? {}), 'utf8');
  if (bytes > limits.maxMessageBytes) return `The arguments are ${bytes} bytes, over the gateway's limit of ${limits.maxMessageBytes}.`;
  let problem: string | undefined;
  const walk = (v: unknown, depth: number, path: string): void => {
    if (problem) return;
    if (depth > limits.maxDepth) {
      problem = `The arguments nest deeper than ${limits.maxDepth} levels (at ${path || 'the top'}).`;
      return;
    }
    if (typeof v === 'string') {
      if (v.length > limits.maxStringLength) problem = `The string at ${path} is ${v.length} characters, over the limit of ${limits.maxStringLength}.`;
      else if (DANGEROUS_SCHEME.test(schemeProbe(v)))
        problem = `The value at ${path} is a ${schemeProbe(v).split(':')[0]!.toLowerCase()}: URL, a scheme the gateway refuses (javascript:, data:, vbscript:, file:).`;
      return;
    }
    if (Array.isArray(v)) {
      if (v.length > limits.maxArrayLength) {
        problem = `The array at ${path} has ${v.length} items, over the limit of ${limits.maxArrayLength}.`;
        return;
      }
      v.forEach((x, i) => walk(x, depth + 1, `${path}[${i}]`));
      return;
    }
    if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, depth + 1, path ? `${path}.${k}` : k);
  };
  walk(args, 1, '');
  return problem;
}

// MCP 2025-11-25 makes JSON Schema 2020-12 the default dialect; schemas that name draft-07
// (or older) are compiled as such
const ajv2020 = new Ajv2020({ strict: false, allErrors: false, validateFormats: false });
const ajv07 = new Ajv({ strict: false, allErrors: false, validateFormats: false });
const ajvFor = (schema: unknown) => {
  const dialect = schema && typeof schema === 'object' ? String((schema as { $schema?: unknown }).$schema ?? '') : '';
  return /draft-0[4-7]/.test(dialect) ? ajv07 : ajv2020;
};
const compiled = new Map<string, ValidateFunction | Error>();

/** The validator for a pinned schema, compiled once per definition hash. */
export function validatorFor(hash: string, schema: unknown): ValidateFunction | Error {
  let v = compiled.get(hash);
  if (!v) {
    try {
      const obj = schema && typeof schema === 'object' ? (schema as Record<string, unknown>) : { type: 'object' };
      // the dialect keyword would make Ajv look the meta-schema up: the instance chose the Ajv
      const { $schema: _dialect, ...rest } = obj;
      v = ajvFor(schema).compile(rest);
    } catch (err) {
      v = new Error(`its pinned inputSchema cannot be compiled (${(err as Error).message.slice(0, 200)})`);
    }
    compiled.set(hash, v);
  }
  return v;
}

export function describeAjvErrors(v: ValidateFunction): string {
  return (v.errors ?? [])
    .slice(0, 3)
    .map((e) => `${e.instancePath || '(arguments)'} ${e.message ?? 'is invalid'}`)
    .join('; ');
}

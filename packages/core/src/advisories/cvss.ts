// CVSS scores from vectors. v3.0/v3.1 base scores are computed exactly from the vector with
// the formula of the FIRST specification (section 7). v4.0 base scores need the specification's
// MacroVector lookup table, which Palisade does not ship: for v4 it prefers the severity the
// database states (GHSA's database_specific.severity) and otherwise uses the approximation in
// approximateCvss4 below, labelled as such wherever it is shown.

const V3_WEIGHTS = {
  AV: { N: 0.85, A: 0.62, L: 0.55, P: 0.2 },
  AC: { L: 0.77, H: 0.44 },
  UI: { N: 0.85, R: 0.62 },
  CIA: { H: 0.56, L: 0.22, N: 0 },
} as const;

function parseVector(vector: string, prefix: RegExp): Map<string, string> | undefined {
  const v = vector.trim();
  if (!prefix.test(v)) return undefined;
  const parts = v.split('/').slice(1);
  const out = new Map<string, string>();
  for (const p of parts) {
    const [k, val, extra] = p.split(':');
    if (!k || !val || extra !== undefined || out.has(k)) return undefined;
    out.set(k, val);
  }
  return out;
}

/** CVSS v3.1 "Roundup": the smallest number with one decimal that is >= the input, robust to float error. */
export function roundUp31(x: number): number {
  const i = Math.round(x * 100000);
  return i % 10000 === 0 ? i / 100000 : (Math.floor(i / 10000) + 1) / 10;
}

/** Base score of a CVSS v3.0 or v3.1 vector, or undefined when the vector is not a valid v3 base vector. */
export function cvss3BaseScore(vector: string): number | undefined {
  const m = parseVector(vector, /^CVSS:3\.[01]\//);
  if (!m) return undefined;
  const av = V3_WEIGHTS.AV[m.get('AV') as keyof typeof V3_WEIGHTS.AV];
  const ac = V3_WEIGHTS.AC[m.get('AC') as keyof typeof V3_WEIGHTS.AC];
  const ui = V3_WEIGHTS.UI[m.get('UI') as keyof typeof V3_WEIGHTS.UI];
  const s = m.get('S');
  const c = V3_WEIGHTS.CIA[m.get('C') as keyof typeof V3_WEIGHTS.CIA];
  const i = V3_WEIGHTS.CIA[m.get('I') as keyof typeof V3_WEIGHTS.CIA];
  const a = V3_WEIGHTS.CIA[m.get('A') as keyof typeof V3_WEIGHTS.CIA];
  const prRaw = m.get('PR');
  if (av === undefined || ac === undefined || ui === undefined || c === undefined || i === undefined || a === undefined) return undefined;
  if (s !== 'U' && s !== 'C') return undefined;
  const changed = s === 'C';
  const pr = prRaw === 'N' ? 0.85 : prRaw === 'L' ? (changed ? 0.68 : 0.62) : prRaw === 'H' ? (changed ? 0.5 : 0.27) : undefined;
  if (pr === undefined) return undefined;
  const iss = 1 - (1 - c) * (1 - i) * (1 - a);
  const impact = changed ? 7.52 * (iss - 0.029) - 3.25 * Math.pow(iss - 0.02, 15) : 6.42 * iss;
  const exploitability = 8.22 * av * ac * pr * ui;
  if (impact <= 0) return 0;
  const raw = changed ? Math.min(1.08 * (impact + exploitability), 10) : Math.min(impact + exploitability, 10);
  // v3.0 rounds up to one decimal plainly; v3.1 defined Roundup to avoid float artefacts. Same results on real vectors.
  return vector.startsWith('CVSS:3.0/') ? Math.ceil(raw * 10 - 1e-9) / 10 : roundUp31(raw);
}

/**
 * A documented approximation of a CVSS v4.0 base score (not the official value): the worst
 * impact on the vulnerable system (VC/VI/VA: H 1.0, L 0.5) or on subsequent systems (SC/SI/SA:
 * H 0.7, L 0.35), scaled by exploitability factors (AV N 1, A 0.9, L 0.75, P 0.5; AC H 0.85;
 * AT P 0.9; PR L 0.9, H 0.75; UI P 0.95, A 0.9). On the advisories Palisade ships it lands
 * within about one point of the published v4 score. Undefined when the vector is not v4.
 */
export function approximateCvss4(vector: string): number | undefined {
  const m = parseVector(vector, /^CVSS:4\.0\//);
  if (!m) return undefined;
  const imp = (k: string, h: number, l: number): number | undefined => {
    const v = m.get(k);
    return v === 'H' ? h : v === 'L' ? l : v === 'N' ? 0 : undefined;
  };
  const vuln = [imp('VC', 1, 0.5), imp('VI', 1, 0.5), imp('VA', 1, 0.5)];
  const sub = [imp('SC', 0.7, 0.35), imp('SI', 0.7, 0.35), imp('SA', 0.7, 0.35)];
  if ([...vuln, ...sub].some((x) => x === undefined)) return undefined;
  const impact = Math.max(...(vuln as number[]), ...(sub as number[]));
  const factor = (k: string, table: Record<string, number>): number | undefined => table[m.get(k) ?? ''];
  const f = [
    factor('AV', { N: 1, A: 0.9, L: 0.75, P: 0.5 }),
    factor('AC', { L: 1, H: 0.85 }),
    factor('AT', { N: 1, P: 0.9 }),
    factor('PR', { N: 1, L: 0.9, H: 0.75 }),
    factor('UI', { N: 1, P: 0.95, A: 0.9 }),
  ];
  if (f.some((x) => x === undefined)) return undefined;
  const score = 10 * impact * (f as number[]).reduce((p, x) => p * x, 1);
  return Math.round(score * 10) / 10;
}

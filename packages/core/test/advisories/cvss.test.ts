import { describe, expect, it } from 'vitest';
import { advisorySeverity, approximateCvss4, cvss3BaseScore, roundUp31, severityFromScore } from '@palisade/core';

describe('CVSS v3 base scores', () => {
  it('computes published scores from their vectors', () => {
    expect(cvss3BaseScore('CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:H/I:H/A:H')).toBe(9.6); // CVE-2025-6514
    expect(cvss3BaseScore('CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:H/I:H/A:H')).toBe(7.5); // CVE-2025-53107
    expect(cvss3BaseScore('CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:L/A:N')).toBe(7.1); // CVE-2026-25536
    expect(cvss3BaseScore('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H')).toBe(9.8);
    expect(cvss3BaseScore('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H')).toBe(10);
    expect(cvss3BaseScore('CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N')).toBe(5.5);
    expect(cvss3BaseScore('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N')).toBe(0);
  });
  it('rejects malformed vectors instead of guessing', () => {
    expect(cvss3BaseScore('CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H')).toBeUndefined();
    expect(cvss3BaseScore('CVSS:3.1/AV:N/AC:L')).toBeUndefined();
    expect(cvss3BaseScore('CVSS:2.0/AV:N')).toBeUndefined();
    expect(cvss3BaseScore('CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H')).toBeUndefined();
  });
  it('rounds up per v3.1 without float artefacts', () => {
    expect(roundUp31(4.000000001)).toBe(4);
    expect(roundUp31(4.02)).toBe(4.1);
  });
});

describe('severity', () => {
  it('maps scores at the documented thresholds', () => {
    expect(severityFromScore(9)).toBe('critical');
    expect(severityFromScore(8.9)).toBe('high');
    expect(severityFromScore(7)).toBe('high');
    expect(severityFromScore(4)).toBe('medium');
    expect(severityFromScore(3.9)).toBe('low');
  });
  it('approximates v4 within a point of the published score on a known record', () => {
    // CVE-2025-49596 is published as 9.4
    const s = approximateCvss4('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:P/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H')!;
    expect(Math.abs(s - 9.4)).toBeLessThanOrEqual(1);
  });
  it('prefers a computed v3 score, then the stated severity, then the v4 approximation; KEV escalates', () => {
    const base = { id: 'X-1', modified: '2025-01-01T00:00:00Z' };
    expect(advisorySeverity({ ...base, severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:H/I:H/A:H' }], database_specific: { severity: 'CRITICAL' } })).toMatchObject({ severity: 'high', score: 7.5 });
    expect(advisorySeverity({ ...base, severity: [{ type: 'CVSS_V4', score: 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N' }], database_specific: { severity: 'MODERATE' } }).severity).toBe('medium');
    expect(advisorySeverity({ ...base, severity: [{ type: 'CVSS_V4', score: 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N' }] })).toMatchObject({ severity: 'critical', basis: expect.stringContaining('approximation') });
    expect(advisorySeverity(base).severity).toBe('medium');
    expect(advisorySeverity({ ...base, database_specific: { severity: 'LOW' } }, true)).toMatchObject({ severity: 'critical', knownExploited: true });
  });
});

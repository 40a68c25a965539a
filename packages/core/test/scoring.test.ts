import { describe, expect, it } from 'vitest';
import { levelForScore, scoreFindings } from '@palisade/core';

describe('scoring', () => {
  it('maps scores to levels at the documented thresholds', () => {
    expect(levelForScore(0)).toBe('none');
    expect(levelForScore(1)).toBe('low');
    expect(levelForScore(29)).toBe('low');
    expect(levelForScore(30)).toBe('medium');
    expect(levelForScore(59)).toBe('medium');
    expect(levelForScore(60)).toBe('high');
    expect(levelForScore(84)).toBe('high');
    expect(levelForScore(85)).toBe('critical');
    expect(levelForScore(100)).toBe('critical');
  });

  it('is order independent and stays inside the worst finding band', () => {
    const many = Array.from({ length: 40 }, () => ({ severity: 'medium' as const }));
    expect(scoreFindings(many)).toEqual({ score: 59, level: 'medium' });
    const a = scoreFindings([{ severity: 'high' }, { severity: 'low' }, { severity: 'critical' }]);
    const b = scoreFindings([{ severity: 'critical' }, { severity: 'high' }, { severity: 'low' }]);
    expect(a).toEqual(b);
    expect(a.level).toBe('critical');
    expect(scoreFindings([])).toEqual({ score: 0, level: 'none' });
  });
});

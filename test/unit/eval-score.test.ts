import { describe, expect, it } from 'vitest';
import { compareField, gate, type EvalReport } from '../../lambdas/core/eval/score.js';

const report = (score: number) => ({ score } as EvalReport);

describe('gate', () => {
  it('passes a score within 5 points of the baseline', () => {
    expect(gate(report(64), { score: 68.3, fieldAccuracy: {}, model: 'm', at: '' }).ok).toBe(true);
  });
  it('fails a drop of more than 5 points and says by how much', () => {
    const v = gate(report(63.2), { score: 68.3, fieldAccuracy: {}, model: 'm', at: '' });
    expect(v.ok).toBe(false);
    expect(v.message).toContain('5.1 points below');
  });
  it('passes when there is no baseline yet, saying so', () => {
    expect(gate(report(50), undefined)).toEqual({ ok: true, message: 'No committed baseline yet; score 50.' });
  });
});

describe('compareField', () => {
  it('compares exact fields by equality', () => {
    expect(compareField({ name: 'category', compare: 'exact' }, 'billing', 'billing')).toBe(true);
    expect(compareField({ name: 'category', compare: 'exact' }, 'billing', 'technical')).toBe(false);
  });
  it('compares presence fields by whether a value is there', () => {
    expect(compareField({ name: 'escalation_reason', compare: 'present' }, true, 'outage')).toBe(true);
    expect(compareField({ name: 'escalation_reason', compare: 'present' }, true, null)).toBe(false);
    expect(compareField({ name: 'escalation_reason', compare: 'present' }, false, '')).toBe(true);
  });
});

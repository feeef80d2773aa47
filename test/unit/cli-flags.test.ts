import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { flagsCommand } from '../../lib/cli/flags.js';

describe('seamwork flags set', () => {
  let file: string;
  const initial = { 'support-triage': { enabled: true, rolloutPercent: 100, mode: 'live' } };
  beforeEach(() => {
    file = join(mkdtempSync(join(tmpdir(), 'flags-')), 'flags.json');
    writeFileSync(file, JSON.stringify(initial));
    vi.spyOn(console, 'log').mockImplementation(() => {});
    vi.spyOn(console, 'error').mockImplementation(() => {});
  });
  afterEach(() => vi.restoreAllMocks());
  const read = () => JSON.parse(readFileSync(file, 'utf8'));

  it('flips the kill switch and canary settings it is given', () => {
    expect(flagsCommand(file, ['set', 'support-triage', 'enabled=false', 'rolloutPercent=5', 'mode=shadow'])).toBe(0);
    expect(read()['support-triage']).toEqual({ enabled: false, rolloutPercent: 5, mode: 'shadow' });
  });

  it.each([
    ['enabled=maybe', /enabled must be true or false/],
    ['enabled=1', /enabled must be true or false/],
    ['rolloutPercent=', /has no value/],
    ['rolloutPercent=5.5', /whole number from 0 to 100/],
    ['rolloutPercent=101', /whole number from 0 to 100/],
    ['mode=canary', /mode must be live or shadow/],
    ['colour=blue', /Unknown setting "colour"/],
  ])('refuses %s with a specific reason and leaves the file alone', (pair, reason) => {
    expect(flagsCommand(file, ['set', 'support-triage', pair])).toBe(2);
    expect(vi.mocked(console.error).mock.calls.flat().join(' ')).toMatch(reason);
    expect(read()).toEqual(initial);
  });

  it('refuses an integration that does not exist', () => {
    expect(flagsCommand(file, ['set', 'nope', 'enabled=false'])).toBe(2);
    expect(vi.mocked(console.error).mock.calls.flat().join(' ')).toMatch(/No integration named "nope"/);
    expect(read()).toEqual(initial);
  });

  it('names the file when it is not valid JSON', () => {
    writeFileSync(file, '{ "support-triage": ');
    expect(() => flagsCommand(file, ['show'])).toThrow(new RegExp(`flags file ${file} is not valid JSON`));
  });
});

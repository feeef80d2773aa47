import { describe, expect, it } from 'vitest';
import { barChart, renderHtml, renderMarkdown, renderText } from '../../lib/bench/run.js';
import type { BenchSection } from '../../lib/bench/types.js';

const section: BenchSection = {
  id: 'core-cpu', title: 'Core CPU per event',
  rows: [{ size: '1 KB', step: 'validate', 'p99 µs': 40 }, { size: '4 KB', step: 'validate', 'p99 µs': 160 }],
  targets: [{ what: 'p99 at 4 KB', target: '≤ 500 µs', actual: '610 µs', met: false, note: 'redaction dominates' }, { what: 'p50 at 1 KB', target: '≤ 100 µs', actual: '20 µs', met: true }],
  notes: ['no I/O'],
};

describe('bench rendering', () => {
  it('prints a table and says plainly which targets were missed and why', () => {
    const text = renderText(section);
    expect(text).toContain('size  step      p99 µs');
    expect(text).toContain('MISSED  p99 at 4 KB: 610 µs (target ≤ 500 µs) — redaction dominates');
    expect(text).toContain('met     p50 at 1 KB: 20 µs (target ≤ 100 µs)');
  });

  it('writes markdown with the machine, a targets table and one table per section', () => {
    const md = renderMarkdown([section], { cpu: 'Test CPU', cores: 2, memoryGiB: 24, os: 'linux', node: 'v20', commit: 'abc123' }, '2026-11-25T00:00:00Z', false);
    expect(md).toContain('Test CPU, 2 cores, 24 GiB');
    expect(md).toContain('| Core CPU per event | p99 at 4 KB: ≤ 500 µs | 610 µs | **no** — redaction dominates |');
    expect(md).toContain('| 4 KB | validate | 160 |');
  });

  it('draws a bar per row, scaled to the largest, in a self-contained report', () => {
    const svg = barChart(section);
    expect(svg.match(/<rect /g)).toHaveLength(2);
    expect(svg).toContain('width="420"'); // the largest value fills the scale
    expect(svg).toContain('width="105"'); // 40/160 of it
    const html = renderHtml([section], 'intro');
    expect(html).not.toMatch(/<script|(src|href)=["']https?:/);
    expect(html).toContain('class="missed"');
  });
});

/**
 * The shape every benchmark section returns to `npm run bench` (lib/bench/run.ts), which prints
 * them as tables and writes JSON and markdown to docs/benchmarks/.
 */

/** Options every section receives. */
export interface BenchOptions {
  /** `--quick`: a small sample, for the test suite to check the harness runs; figures not meaningful. */
  quick: boolean;
  /** One line of progress (`core cpu: 4 KB 300/1000`). */
  progress: (message: string) => void;
}

/** A target from the issue and whether this run met it. */
export interface BenchTarget {
  what: string;
  target: string;
  actual: string;
  met: boolean;
  /** When missed: what limits it, plainly. */
  note?: string;
}

/** One section's results. */
export interface BenchSection {
  /** Stable id: `core-cpu`, `e2e`, `aws-requests`, `bundles`, `tokens`. */
  id: string;
  title: string;
  /** Table rows; every row has the same keys, in display order. */
  rows: Array<Record<string, string | number>>;
  targets: BenchTarget[];
  /** Sentences for the reader: what dominates, what was done about it, caveats. */
  notes: string[];
}

/** A section's entry point. */
export type BenchRunner = (opts: BenchOptions) => Promise<BenchSection>;

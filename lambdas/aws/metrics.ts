import { appendFileSync } from 'node:fs';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { MetricsSink } from '../core/ports.js';

/**
 * Powertools metrics (EMF). In Lambda the EMF document goes to stdout, where CloudWatch turns
 * it into metrics; locally (SEAMWORK_METRICS_FILE) the same document is appended to a file.
 */
export class PowertoolsMetricsSink implements MetricsSink {
  readonly metrics: Metrics;

  constructor(stage: string, private readonly file?: string) {
    // Default dimensions survive each flush; per-invocation dimensions would not.
    this.metrics = new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'Seamwork', serviceName: 'seamwork', defaultDimensions: { stage } });
  }

  add(name: string, value = 1, unit: 'Count' | 'Milliseconds' | 'Percent' | 'None' = 'Count'): void {
    this.metrics.addMetric(name, unit === 'None' ? MetricUnit.NoUnit : MetricUnit[unit], value);
  }

  /** Publishes what was added since the last flush. */
  flush(): void {
    if (this.file) {
      if (!this.metrics.hasStoredMetrics()) return;
      const doc = this.metrics.serializeMetrics();
      this.metrics.clearMetrics();
      appendFileSync(this.file, JSON.stringify(doc) + '\n');
      return;
    }
    if (this.metrics.hasStoredMetrics()) this.metrics.publishStoredMetrics();
  }
}

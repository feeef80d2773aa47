import { METRICS } from './metrics.js';
import type { CostLedger, MetricsSink, ReleasedReservation } from './ports.js';

/**
 * Layer 3 housekeeping: gives back the cost reservations of invocations that died before
 * reconciling (a Lambda timeout, an out-of-memory kill), so a crash cannot hold a tenant's budget
 * hostage until the day rolls over. Runs on a schedule (every few minutes in AWS, on an interval
 * in the local stack); each run releases a bounded number.
 */
export async function sweepReservations(ledger: CostLedger, metrics: MetricsSink, now: Date, limit = 100): Promise<ReleasedReservation[]> {
  const released = await ledger.releaseExpired(now, limit);
  metrics.add(METRICS.ReservationReleased, released.length);
  return released;
}

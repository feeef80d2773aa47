import { Logger } from '@aws-lambda-powertools/logger';
import { PowertoolsMetricsSink } from '../aws/metrics.js';
import { Wiring } from '../aws/wiring.js';
import { sweepReservations } from '../core/sweep.js';

const logger = new Logger({ serviceName: 'seamwork', persistentKeys: { stage: 'sweep' } });
let wiring: Wiring | undefined;
let sink: PowertoolsMetricsSink | undefined;

/** Scheduled Lambda: releases cost reservations whose invocation never reconciled them. */
export const handler = async (): Promise<{ released: number }> => {
  wiring ??= new Wiring();
  sink ??= new PowertoolsMetricsSink('sweep', wiring.config.metricsFile);
  try {
    const released = await sweepReservations(wiring.ledger, sink, new Date());
    for (const r of released) logger.warn('released an expired cost reservation', { reservation: r.id, decisionId: r.decisionId, microUsd: r.reservedMicroUsd });
    return { released: released.length };
  } finally {
    sink.flush();
  }
};

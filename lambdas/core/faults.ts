import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ConfigurationError } from './errors.js';
import { SimulatedCrash, type CrashPoint, type FaultInjector } from './stage-runner.js';

const CRASH_POINTS = ['after-stage-work', 'after-commit', 'after-vendor-call', 'after-ingest-send', 'after-step'] as const satisfies readonly CrashPoint[];

const chaosSchema = z.object({
  seed: z.number().int().default(1),
  crash: z.partialRecord(z.enum(CRASH_POINTS), z.number().min(0).max(1)).default({}),
}).strict();

/** Fault injection for chaos tests: where handlers die, and for what share of decisions. */
export type ChaosConfig = z.infer<typeof chaosSchema>;

/** Parses the chaos setting, naming what is wrong with it. */
export function parseChaos(text: string): ChaosConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigurationError(`SEAMWORK_CHAOS is not JSON: ${(err as Error).message}`);
  }
  const parsed = chaosSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigurationError(`SEAMWORK_CHAOS is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/** A seeded generator of numbers in [0, 1) (mulberry32): the same seed gives the same sequence. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A uniform draw in [0, 1) from a seed and a name: the same run picks the same victims. */
export function draw(seed: number, name: string): number {
  return createHash('sha256').update(`${seed}:${name}`).digest().readUInt32BE(0) / 2 ** 32;
}

/**
 * Every crash injected in this process, whichever handler's injector made it (a chaos test reads
 * it to know which decisions died where).
 */
export const CRASH_LOG: Array<{ point: CrashPoint; decisionId: string }> = [];

/**
 * Kills a handler at a crash point for the configured share of decisions, once per (point,
 * decision), as a process that dies and is restarted would: the next delivery finds whatever the
 * dead one left behind (leases, half-applied commits, vendor effects).
 */
export function seededFaults(config: ChaosConfig): FaultInjector & { crashed(): Array<{ point: CrashPoint; decisionId: string }> } {
  const seen = new Set<string>();
  const log = CRASH_LOG;
  return {
    crash(point, decisionId) {
      const rate = config.crash[point] ?? 0;
      const id = `${point}:${decisionId}`;
      if (rate <= 0 || seen.has(id) || draw(config.seed, id) >= rate) return;
      seen.add(id);
      log.push({ point, decisionId });
      throw new SimulatedCrash(point, decisionId);
    },
    crashed: () => [...log],
  };
}

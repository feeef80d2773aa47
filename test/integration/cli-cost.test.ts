import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { dynamoClient } from '../../lambdas/aws/clients.js';
import { UsageError } from '../../lib/cli/contracts.js';
import { costCommand } from '../../lib/cli/cost.js';
import { startTestStack } from '../support/local-stack.js';

/** Runs a CLI command function and returns its exit code and everything it printed. */
async function capture(run: () => Promise<number>): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
  const code = await run();
  vi.restoreAllMocks();
  return { code, out: lines.join('\n') };
}

const Z = 'zendesk:22129848';
const S = 'shopify:acme.myshopify.com';

describe('seamwork cost against the local stack', () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let table: string;
  // The report is taken two hours ahead of the clock: the stack's sweeper (real time) leaves the
  // reservation written as expired alone, while the report sees it expired an hour ago.
  const real = new Date(Math.floor(Date.now() / 1000) * 1000);
  const now = new Date(real.getTime() + 2 * 3_600_000);
  const day = (ago: number) => new Date(now.getTime() - ago * 86_400_000).toISOString().slice(0, 10);
  const month = day(0).slice(0, 7);

  beforeAll(async () => {
    stack = await startTestStack();
    table = stack.env.SEAMWORK_TABLE_LEDGER;
    const put = (Item: Record<string, unknown>) => dynamoClient().send(new PutCommand({ TableName: table, Item }));
    const scope = (key: string, spentMicro: number, capMicro: number) => put({ pk: `ledger#${key}`, spentMicro, capMicro });
    await scope(`tenant#${Z}#day#${day(0)}`, 12_345, 50_000);
    await scope(`tenant#${Z}#day#${day(1)}`, 30_000, 50_000);
    await scope(`tenant#${Z}#day#${day(3)}`, 5_000, 50_000);
    await scope(`tenant#${Z}#month#${month}`, 47_345, 1_000_000);
    await scope(`tenant#${S}#day#${day(0)}`, 20_000, 50_000);
    // Over the tenant's daily cap (a cap lowered during the day, say).
    await scope(`tenant#${S}#day#${day(1)}`, 60_000, 50_000);
    await scope(`tenant#${S}#month#${month}`, 80_000, 1_000_000);
    for (let k = 1; k <= 5; k += 1) await scope(`tenant#github:org${k}#day#${day(3)}`, 1_000 * k, 50_000);
    for (const [ago, spent] of [[0, 32_345], [1, 90_000], [3, 20_000]]) {
      await scope(`global#day#${day(ago)}`, spent, 200_000);
      await scope(`integration#support-triage#day#${day(ago)}`, spent, 500_000);
    }
    // A reservation from before the window's first day does not count either.
    await scope(`global#day#${day(40)}`, 999_999, 200_000);
    const resv = (id: string, tenant: string, createdAt: Date, expiresAt: Date) => put({
      pk: `resv#${id}`, decisionId: `dec_${id}`, tenant, integration: 'support-triage', reservedMicro: 4_200, createdAt: createdAt.toISOString(),
      expiresAt: Math.floor(expiresAt.getTime() / 1000), scopes: [{ key: `tenant#${tenant}#day#${day(0)}`, capMicroUsd: 50_000 }, { key: `global#day#${day(0)}`, capMicroUsd: 200_000 }],
    });
    await resv('crashed', Z, real, new Date(real.getTime() + 3_600_000));
    await resv('inflight', S, new Date(now.getTime() - 60_000), new Date(now.getTime() + 3_600_000));
  }, 120_000);
  afterAll(async () => stack?.stop());
  afterEach(() => vi.restoreAllMocks());

  it('prints spend against every cap, the 30-day chart with the cap line, and the reservations outstanding', async () => {
    const res = await capture(() => costCommand([], now));
    expect(res.code).toBe(0);
    expect(res.out).toContain(`cost ledger ${table}, ${day(29)} → ${day(0)} (UTC)`);
    expect(res.out).toMatch(/zendesk:22129848\s+\$0\.012345\s+\$0\.05\s+24\.7%\s+\$0\.047345\s+\$1\.00\s+4\.7%\s+\$0\.047345/);
    expect(res.out).toMatch(/shopify:acme\.myshopify\.com\s+\$0\.02\s+\$0\.05\s+40\.0%\s+\$0\.08\s+\$1\.00\s+8\.0%\s+\$0\.08/);
    expect(res.out).toMatch(/support-triage\s+\$0\.032345\s+\$0\.50\s+6\.5%\s+\$0\.142345/);
    expect(res.out).toMatch(/GLOBAL\s+\$0\.032345\s+\$0\.20\s+16\.2%\s+\$0\.142345/);

    expect(res.out).toContain(`Spend per day, all tenants: peak $0.09 on ${day(1)}, 30-day total $0.142345`);
    const chart = res.out.split('\n');
    const capRow = chart.find((l) => l.endsWith('cap $0.20/day'))!;
    expect(capRow).toMatch(/─{20,}/);
    // One column per day, the three days with spend in theirs.
    const axis = chart.find((l) => /\$0 └─{30}$/.test(l))!;
    const firstColumn = axis.indexOf('└') + 1;
    const rowAbove = chart[chart.indexOf(axis) - 1];
    expect([...rowAbove.slice(firstColumn).padEnd(30)].map((c, i) => (c === ' ' ? '' : String(29 - i))).filter(Boolean)).toEqual(['3', '1', '0']);

    expect(res.out).toContain('Per tenant (the top 5 by spend over the window, the rest summed):');
    expect(res.out).toContain(`shopify:acme.myshopify.com: peak $0.06 on ${day(1)}, 30-day total $0.08`);
    expect(res.out).toContain(`2 other tenants: peak $0.003 on ${day(3)}, 30-day total $0.003`);
    expect(res.out).toContain("(!: over that day's cap)");

    expect(res.out).toContain('Reservations outstanding: 2, $0.0084 reserved (1 EXPIRED');
    expect(res.out).toMatch(/dec_crashed\s+zendesk:22129848\s+support-triage\s+\$0\.0042\s+2h\s+EXPIRED 60m ago: not released by the sweeper yet/);
    expect(res.out).toMatch(/dec_inflight\s+shopify:acme\.myshopify\.com\s+support-triage\s+\$0\.0042\s+60s\s+live, expires in 60m/);
  });

  it('narrows to one tenant and its reservations', async () => {
    const res = await capture(() => costCommand(['--tenant', S, '--days', '7'], now));
    expect(res.out).toContain(`${day(6)} → ${day(0)}`);
    expect(res.out).toMatch(/shopify:acme\.myshopify\.com\s+\$0\.02\s+\$0\.05\s+40\.0%/);
    expect(res.out).not.toContain(Z);
    expect(res.out).not.toContain('GLOBAL');
    expect(res.out).toContain(`Spend per day, tenant ${S}: peak $0.06 on ${day(1)}, 7-day total $0.08`);
    expect(res.out).toContain('cap $0.05/day');
    expect(res.out).toContain('Reservations outstanding: 1,');
    expect(res.out).toContain('dec_inflight');
  });

  it('writes a self-contained HTML report with a bar group per day with spend and the cap line, and prints its path', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'seamwork-cost-')), 'report', 'cost.html');
    const res = await capture(() => costCommand(['--html', file], now));
    expect(res.out).toContain(`HTML report: ${file}`);
    expect(existsSync(file)).toBe(true);
    const html = readFileSync(file, 'utf8');
    expect(html).toContain('<svg');
    expect(html.match(/<g class="day[^"]*" data-day="([^"]+)"/g)!.map((g) => g.match(/data-day="([^"]+)"/)![1])).toEqual([day(3), day(1), day(0)]);
    // The stack on the busiest day: one segment per tenant with spend that day.
    expect(html.match(new RegExp(`<g class="day" data-day="${day(1)}">.*?</g>`))![0].match(/<rect/g)).toHaveLength(2);
    expect(html).toMatch(/<line class="cap" [^>]*\/><text[^>]*>global cap \$0\.20\/day<\/text>/);
    expect(html).toContain('<td>dec_crashed</td>');
    expect(html).toContain('EXPIRED 60m ago');
    expect(html).not.toMatch(/<script|https?:\/\/|src=|href=/);
  });

  it('reads a table named with --table without a local stack\'s state', async () => {
    const exported = process.env.SEAMWORK_TABLE_LEDGER;
    delete process.env.SEAMWORK_TABLE_LEDGER;
    try {
      const res = await capture(() => costCommand(['--table', table, '--integration', 'support-triage'], now));
      expect(res.out).toMatch(/support-triage\s+\$0\.032345\s+\$0\.50\s+6\.5%/);
      expect(res.out).toContain('Tenant totals are not kept per integration');
      expect(res.out).toContain(`Spend per day, integration support-triage: peak $0.09 on ${day(1)}`);
    } finally {
      process.env.SEAMWORK_TABLE_LEDGER = exported;
    }
  });

  it('refuses flags it cannot honour, saying why', async () => {
    await expect(costCommand(['--tenant', Z, '--integration', 'support-triage'], now)).rejects.toThrow(UsageError);
    await expect(costCommand(['--days', '0'], now)).rejects.toThrow(/--days is a whole number of days from 1 to 90/);
    await expect(costCommand(['--tenant', 'a#b'], now)).rejects.toThrow(/never containing "#"/);
    await expect(costCommand(['today'], now)).rejects.toThrow(/cost takes no arguments/);
  });
});

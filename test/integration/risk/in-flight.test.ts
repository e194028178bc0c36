// Attempts in flight on one ID (src/risk/limits.ts) on the real database store: they are not
// failures for the risk rule, and together with the committed failures they cannot pass the limit
// (of the ID on a network, or across networks).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../../config/load.ts';
import { createAttemptLimits } from '../../../src/risk/limits.ts';
import { openTestDatabase, type TestDatabase } from '../../helpers/db.ts';

/** The stable code an attempt is refused with, or undefined when it is let through. */
const refusal = (p: Promise<unknown>) => p.then(() => undefined, (e: { code?: string }) => e.code);

describe('attempts in flight on one ID', () => {
  let t: TestDatabase;
  let limits: ReturnType<typeof createAttemptLimits>;
  let max: number;
  beforeAll(async () => {
    t = await openTestDatabase();
    const config = loadConfig({ NODE_ENV: 'test' }, { database: t.database });
    limits = createAttemptLimits(t.db, config);
    max = config.risk.lockout.maxFailures;
  });
  afterAll(() => t?.close());

  it('does not count attempts still in flight as failures', async () => {
    const open = await Promise.all([1, 2, 3].map(() => limits.reserve('id-a', 'ip-a', 'net-a')));
    expect(open.map((r) => r.failures)).toEqual([0, 0, 0]);
    await limits.settle(open[0], 'failure');
    expect((await limits.reserve('id-a', 'ip-a', 'net-a')).failures).toBe(1);
  });

  it('refuses with capture_busy an attempt that, with the failures and the others in flight, could pass the limit', async () => {
    for (let i = 0; i < max - 1; i++) await limits.settle(await limits.reserve('id-b', 'ip-b', 'net-b'), 'failure');
    const last = await limits.reserve('id-b', 'ip-b', 'net-b');
    expect(await refusal(limits.reserve('id-b', 'ip-b', 'net-b'))).toBe('capture_busy');
    expect(await limits.settle(last, 'failure')).toMatchObject({ scope: 'id_network', reason: 'lockout' });
  });

  it('does not hold up an attempt from another network when one network is at its limit', async () => {
    for (let i = 0; i < max - 1; i++) await limits.settle(await limits.reserve('id-d', 'ip-a', 'net-a'), 'failure');
    const last = await limits.reserve('id-d', 'ip-a', 'net-a');
    expect(await refusal(limits.reserve('id-d', 'ip-a', 'net-a'))).toBe('capture_busy');
    const elsewhere = await limits.reserve('id-d', 'ip-b', 'net-b');
    expect(elsewhere.failures).toBe(max - 1);
    for (const r of [last, elsewhere]) await limits.settle(r, 'none');
  });

  it('frees the place of a settled attempt, whatever its outcome', async () => {
    for (let i = 0; i < max; i++) await limits.settle(await limits.reserve('id-c', 'ip-c', 'net-c'), 'retry');
    const all = await Promise.all(Array.from({ length: max }, () => limits.reserve('id-c', 'ip-c', 'net-c')));
    expect(all).toHaveLength(max);
    expect(await refusal(limits.reserve('id-c', 'ip-c', 'net-c'))).toBe('capture_busy');
    for (const r of all) await limits.settle(r, 'none');
    expect((await limits.status('id-c', 'ip-c', 'net-c')).idFailures).toBe(0);
  });
});

// `facegate risk status | reset` as an operator runs them, on this test file's database: an ID
// locked through the attempt limits reads locked, a reset lifts the lock and its history and is
// audited without the national ID, an unknown ID reads like a known one, bad input is refused.
// With redis-server installed, the same on Redis (REDIS_URL), where the gateway keeps the counts.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { loadConfig } from '../../../config/load.ts';
import type { Config } from '../../../config/schema.ts';
import { upsertCitizen } from '../../../src/registry/citizens.ts';
import { createRiskKeys } from '../../../src/risk/keys.ts';
import { createAttemptLimits, type AttemptLimits } from '../../../src/risk/limits.ts';
import { cliRunner, lastJson } from '../../helpers/cli.ts';
import { openTestDatabase, type TestDatabase } from '../../helpers/db.ts';

const CITIZEN = 'AB123456';
const UNKNOWN = 'ZZ99999999';

let t: TestDatabase;
let env: NodeJS.ProcessEnv;
let config: Readonly<Config>;
let limits: AttemptLimits;
let citizenId: string;
const json = lastJson as (s: string) => any;
const run = (...args: string[]) => cliRunner(env)(...args);
const keys = () => createRiskKeys(config.secrets.pairwiseSalt);

/** `maxFailures` failed verifications on the ID from one network (192.0.2.0/24), as the capture service settles them: one lockout there. */
async function lockOut(l: AttemptLimits, nationalId: string): Promise<number> {
  let retryAt = 0;
  for (let i = 0; i < config.risk.lockout.maxFailures; i++) {
    const lock = await l.settle(await l.reserve(keys().id(nationalId), keys().ip(`192.0.2.${i}`), keys().network(`192.0.2.${i}`)), 'failure');
    if (lock) retryAt = lock.retryAt;
  }
  return retryAt;
}

const resetEvents = async () => (await t.db('audit_events').where({ type: 'risk.reset' }).orderBy('id'))
  .map((r) => ({ ...r, details: JSON.parse(r.details) }));

beforeAll(async () => {
  t = await openTestDatabase();
  env = { ...process.env, NODE_OPTIONS: '', DATABASE_URL: t.database.url };
  for (const name of Object.keys(env)) if (name.startsWith('FACEGATE_') || name === 'DATABASE_SCHEMA' || name === 'NODE_ENV' || name === 'REDIS_URL') delete env[name];
  if (t.database.schema) env.DATABASE_SCHEMA = t.database.schema;
  // The CLI's configuration: the development defaults, so the same risk keys.
  config = loadConfig({}, { database: t.database });
  limits = createAttemptLimits(t.db, config);
  const { citizen } = await upsertCitizen(t.db, { nationalId: CITIZEN, givenName: 'Ada', familyName: 'Lovelace', birthdate: '1990-12-10' }, Date.now);
  citizenId = citizen.id;
});
afterAll(() => t?.close());

describe('facegate risk', () => {
  it('status shows an ID locked out through the limits, until when, its lockouts, and that it is registered', async () => {
    const retryAt = await lockOut(limits, CITIZEN);
    const r = await run('risk', 'status', '--national-id', 'ab-123 456', '--json');
    expect(r.code).toBe(0);
    const s = json(r.stdout);
    // Locked on that network only; the failures count on towards the ID-wide limit.
    expect(s).toMatchObject({ nationalId: CITIZEN, registered: true, locked: true, lock: { scope: 'id_network', reason: 'lockout' }, failures: config.risk.lockout.maxFailures, lockouts: 0, lockedNetworks: 1, networkLockouts: 1, retries: 0 });
    expect(Math.abs(Date.parse(s.lock.until) - retryAt)).toBeLessThan(5000);
    const text = await run('risk', 'status', '--national-id', CITIZEN);
    expect(text.stdout).toMatch(/^national ID AB123456: in the registry\nlocked on 1 network until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \(lockout\); not locked elsewhere, where the active challenge is required\n/);
    expect(text.stdout).not.toMatch(/Ada|Lovelace|1990/);
  });

  it('status counts the failures of the current window', async () => {
    await limits.settle(await limits.reserve(keys().id(UNKNOWN), keys().ip('192.0.2.9'), keys().network('192.0.2.9')), 'failure');
    const r = await run('risk', 'status', '--national-id', UNKNOWN, '--json');
    expect(r.code).toBe(0);
    expect(json(r.stdout)).toEqual({ nationalId: UNKNOWN, registered: false, locked: false, lock: null, failures: 1, lockouts: 0, retries: 0, lockedNetworks: 0, networkLockouts: 0 });
  });

  it('reset lifts the lock and the lockout history: the next lockout has the base length again', async () => {
    const r = await run('risk', 'reset', '--national-id', CITIZEN, '--reason', 'identity checked at the desk', '--operator', 'alice', '--json');
    expect(r.code).toBe(0);
    expect(json(r.stdout)).toMatchObject({ nationalId: CITIZEN, operator: 'alice', cleared: { lock: { reason: 'lockout' }, lockedNetworks: 1, failures: config.risk.lockout.maxFailures, lockouts: 0, networkLockouts: 1 } });
    expect(json((await run('risk', 'status', '--national-id', CITIZEN, '--json')).stdout)).toMatchObject({ locked: false, lock: null, failures: 0, lockouts: 0, lockedNetworks: 0, networkLockouts: 0 });
    const retryAt = await lockOut(limits, CITIZEN);
    expect(Math.abs(retryAt - Date.now() - config.risk.lockout.baseSeconds * 1000)).toBeLessThan(5000);
    expect(await limits.lockouts(keys().id(CITIZEN), keys().network('192.0.2.0'))).toBe(1);
  });

  it('reset writes risk.reset with the operator, the reason and the citizen internal id, never the national ID', async () => {
    const [e] = await resetEvents();
    expect(e).toMatchObject({
      outcome: 'info', citizen_id: citizenId,
      details: { operator: 'alice', reason: 'identity checked at the desk', idKey: keys().id(CITIZEN), cleared: { networkLockouts: 1 } },
    });
    expect(JSON.stringify(e)).not.toContain(CITIZEN);
    expect(json((await run('audit', 'verify', '--json')).stdout)).toMatchObject({ ok: true });
  });

  it('reset of an unknown ID answers like a known one, audited by the OS user without an ID in clear', async () => {
    const r = await run('risk', 'reset', '--national-id', UNKNOWN, '--reason', 'ticket 42', '--json');
    expect(r.code).toBe(0);
    expect(json(r.stdout)).toMatchObject({ nationalId: UNKNOWN, registered: false, operator: userInfo().username, cleared: { lock: null, failures: 1, lockouts: 0 } });
    const e = (await resetEvents()).pop();
    expect(e).toMatchObject({ citizen_id: null, details: { idKey: keys().id(UNKNOWN), operator: userInfo().username } });
    expect(JSON.stringify(e)).not.toContain(UNKNOWN);
  });

  it.each([
    ['an empty reason', ['reset', '--national-id', CITIZEN, '--reason', '  '], 'invalid_input'],
    ['a malformed national ID', ['reset', '--national-id', '12', '--reason', 'x'], 'invalid_national_id'],
    ['an empty operator', ['reset', '--national-id', CITIZEN, '--reason', 'x', '--operator', ''], 'invalid_input'],
  ])('reset refuses %s with its code, a non-zero exit and no audit event', async (_name, args, code) => {
    const before = (await resetEvents()).length;
    const r = await run('risk', ...args, '--json');
    expect(r.code).toBe(1);
    expect(json(r.stdout).error.code).toBe(code);
    expect(await resetEvents()).toHaveLength(before);
  });

  it('refuses a command without --national-id or --reason, naming the option', async () => {
    const status = await run('risk', 'status');
    expect(status.code).not.toBe(0);
    expect(status.stderr).toContain('--national-id');
    const reset = await run('risk', 'reset', '--national-id', CITIZEN);
    expect(reset.code).not.toBe(0);
    expect(reset.stderr).toContain('--reason');
  });
});

const hasRedis = spawnSync('redis-server', ['--version']).status === 0;
const describeRedis: typeof describe = hasRedis ? describe : ((name: string, fn: () => void) => {
  console.warn(`skipped "${name}": redis-server is not installed`);
  return describe.skip(name, fn);
}) as typeof describe;

describeRedis('facegate risk with REDIS_URL', () => {
  let server: ChildProcess;
  let redis: Redis;
  let url: string;
  beforeAll(async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => { const { port: p } = s.address() as { port: number }; s.close(() => resolve(p)); });
    });
    server = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    url = `redis://127.0.0.1:${port}`;
    for (let i = 0; i < 50; i++) {
      const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0 });
      const ok = await probe.connect().then(() => true, () => false);
      probe.disconnect();
      if (ok) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    redis = new Redis(url, { maxRetriesPerRequest: 1 });
  });
  afterAll(() => {
    redis?.disconnect();
    server?.kill();
  });

  it('reads and resets the lock the gateway keeps in Redis', async () => {
    const id = 'RD1234567';
    await lockOut(createAttemptLimits(t.db, config, redis), id);
    const cli = (...args: string[]) => cliRunner({ ...env, REDIS_URL: url })('risk', ...args, '--national-id', id, '--json');
    expect(json((await cli('status')).stdout)).toMatchObject({ locked: true, lockedNetworks: 1, networkLockouts: 1 });
    expect((await cli('reset', '--reason', 'desk')).code).toBe(0);
    expect(json((await cli('status')).stdout)).toMatchObject({ locked: false, lockedNetworks: 0, networkLockouts: 0, failures: 0 });
  });
});

// The attempt limits on Redis (REDIS_URL): two instances with their own Redis connections share
// the counts; the lockout and its doubling are the same as on the database; while Redis cannot
// answer, the database counts instead (every instance still shares them). Runs a throwaway
// redis-server on a free port; skipped, saying why, when the binary is not installed.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { loadConfig } from '../../../config/load.ts';
import { createAttemptLimits } from '../../../src/risk/limits.ts';
import { openTestDatabase, type TestDatabase } from '../../helpers/db.ts';

const hasRedis = spawnSync('redis-server', ['--version']).status === 0;
const describeRedis: typeof describe = hasRedis ? describe : ((name: string, fn: () => void) => {
  console.warn(`skipped "${name}": redis-server is not installed`);
  return describe.skip(name, fn);
}) as typeof describe;

const freePort = () => new Promise<number>((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address() as { port: number };
    s.close(() => resolve(port));
  });
});

describeRedis('attempt limits on Redis', () => {
  let server: ChildProcess;
  let url: string;
  let database: TestDatabase;
  const clients: Redis[] = [];

  beforeAll(async () => {
    const port = await freePort();
    server = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    url = `redis://127.0.0.1:${port}`;
    for (let i = 0; i < 50; i++) {
      const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0 });
      const ok = await probe.connect().then(() => true, () => false);
      probe.disconnect();
      if (ok) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    database = await openTestDatabase();
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    server?.kill();
    await database?.close();
  });

  it('locks an ID on instance B after failures on instance A, with no row in the database', async () => {
    const config = loadConfig({ NODE_ENV: 'test', REDIS_URL: url }, { database: database.database });
    expect(config.risk.redisUrl).toBe(url);
    const [ra, rb] = [new Redis(url), new Redis(url)];
    clients.push(ra, rb);
    const a = createAttemptLimits(database.db, config, ra);
    const b = createAttemptLimits(database.db, config, rb);
    const { maxFailures, baseSeconds } = config.risk.lockout;
    let lock;
    for (let i = 0; i < maxFailures; i++) {
      expect((await b.status('id-key', 'ip-key', 'net-key')).lock).toBeUndefined();
      lock = await a.settle(await a.reserve('id-key', 'ip-key', 'net-key'), 'failure');
    }
    expect(lock).toMatchObject({ scope: 'id_network', reason: 'lockout' });
    const seen = await b.status('id-key', 'ip-key', 'net-key');
    expect(seen.lock).toMatchObject({ scope: 'id_network', reason: 'lockout' });
    expect(seen.lock!.retryAt).toBeGreaterThan(Date.now() + baseSeconds * 1000 - 60_000);
    expect(seen.ipFailures).toBe(maxFailures);
    expect(await database.db('risk_limits').count({ n: '*' }).first()).toMatchObject({ n: 0 });
  });

  it('gives a quality retry its point back and resets the count on success', async () => {
    const config = loadConfig({ NODE_ENV: 'test', REDIS_URL: url }, { database: database.database });
    const r = new Redis(url);
    clients.push(r);
    const limits = createAttemptLimits(database.db, config, r);
    await limits.settle(await limits.reserve('id-2', 'ip-2', 'net-2'), 'failure');
    await limits.settle(await limits.reserve('id-2', 'ip-2', 'net-2'), 'retry');
    expect((await limits.status('id-2', 'ip-2', 'net-2')).idFailures).toBe(1);
    await limits.settle(await limits.reserve('id-2', 'ip-2', 'net-2'), 'success');
    expect((await limits.status('id-2', 'ip-2', 'net-2')).idFailures).toBe(0);
  });

  it('counts in the database while Redis cannot answer, and still locks the ID out', async () => {
    const config = loadConfig({ NODE_ENV: 'test', REDIS_URL: url }, { database: database.database });
    // A client of a Redis that is down, as the gateway makes it (no offline queue: commands fail at once).
    const down = new Redis(`redis://127.0.0.1:${await freePort()}`, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true });
    clients.push(down);
    const a = createAttemptLimits(database.db, config, down);
    const b = createAttemptLimits(database.db, config, down);
    const { maxFailures } = config.risk.lockout;
    let lock;
    for (let i = 0; i < maxFailures; i++) lock = await a.settle(await a.reserve('id-3', 'ip-3', 'net-3'), 'failure');
    expect(lock).toMatchObject({ scope: 'id_network', reason: 'lockout' });
    expect((await b.status('id-3', 'ip-3', 'net-3')).lock).toMatchObject({ scope: 'id_network', reason: 'lockout' });
    expect(Number((await database.db('risk_limits').count({ n: '*' }).first())?.n)).toBeGreaterThan(0);
  });
});

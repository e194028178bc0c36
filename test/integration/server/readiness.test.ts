// Readiness means the database takes writes: a database that still answers reads but refuses
// every write (a full disk, a read-only replica) makes /readyz answer 503, and ready again once it
// takes writes, without a restart. A SQLite file's volume must also keep database.minFreeMiB free.
// Redis (the attempt limits, shared by every instance, counted in the database while it is down)
// does not make an instance unready: /readyz reports it under `degraded`.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pino from 'pino';
import { createServer } from 'node:net';
import request from 'supertest';
import { loadConfig } from '../../../config/load.ts';
import { createEnginePool, type FaceAnalyzer } from '../../../src/biometrics/pool.ts';
import { openDatabase, type Db } from '../../../src/db/knex.ts';
import { createGateway, type Gateway } from '../../../src/server/gateway.ts';
import { onPostgres, openTestDatabase, type TestDatabase } from '../../helpers/db.ts';

let tdb: TestDatabase;
let db: Db;
let analyzer: FaceAnalyzer;
let gw: Gateway;

beforeAll(async () => {
  tdb = await openTestDatabase();
  // One connection, so that making "the database" read-only below holds for every query the gateway makes.
  db = onPostgres ? openDatabase({ ...tdb.database, poolMax: 1 }) : tdb.db;
  const config = loadConfig({ NODE_ENV: 'test' }, { server: { logLevel: 'silent' }, database: { ...tdb.database, poolMax: 1 }, demo: { enabled: false } });
  analyzer = await createEnginePool(config.biometrics, 1);
  gw = await createGateway(config, { logger: pino({ level: 'silent' }), db, analyzer, housekeepingMs: 3600_000 });
}, 60_000);

afterAll(async () => {
  await gw?.close();
  if (onPostgres) await tdb?.close();
  else await tdb?.close().catch(() => undefined);
});

const readyz = () => request(gw.app.callback()).get('/readyz');
/** Reads still answered, every write refused: what a full disk or a read-only replica looks like to the gateway. */
const refuseWrites = (on: boolean) => (onPostgres
  ? db.raw(`SET default_transaction_read_only = ${on ? 'on' : 'off'}`)
  : db.raw(`PRAGMA query_only = ${on ? 'ON' : 'OFF'}`));

describe('/readyz', () => {
  it('stays ready with Redis down, and says so under degraded', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => { const { port: p } = s.address() as { port: number }; s.close(() => resolve(p)); });
    });
    const config = loadConfig({ NODE_ENV: 'test', REDIS_URL: `redis://127.0.0.1:${port}` }, { server: { logLevel: 'silent' }, database: { ...tdb.database, poolMax: 1 }, demo: { enabled: false } });
    const other = await createGateway(config, { logger: pino({ level: 'silent' }), db, analyzer, housekeepingMs: 3600_000 });
    try {
      const res = await request(other.app.callback()).get('/readyz');
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: 'ready', checks: { database: 'ok' }, degraded: { limits: expect.any(String) } });
    } finally {
      await other.close();
    }
    expect((await readyz()).body.degraded).toBeUndefined();
  });

  it('is ready when the database takes a write', async () => {
    const res = await readyz();
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'ready', checks: { database: 'ok' } });
  });

  it('is not ready while the database answers reads but refuses writes, and ready again after', async () => {
    await refuseWrites(true);
    try {
      await db.raw('select 1');
      const res = await readyz();
      expect(res.status).toBe(503);
      expect(res.body.status).toBe('not_ready');
      expect(res.body.checks.database).toMatch(/^cannot write \(/);
      // A reason, never the statement.
      expect(res.body.checks.database).not.toMatch(/insert|readiness_probes/i);
    } finally {
      await refuseWrites(false);
    }
    expect((await readyz()).status).toBe(200);
  });
});

(onPostgres ? describe.skip : describe)('/readyz on SQLite', () => {
  it('is not ready when the database file\'s volume has less free space than database.minFreeMiB', async () => {
    const config = loadConfig({ NODE_ENV: 'test' }, {
      server: { logLevel: 'silent' }, database: { ...tdb.database, minFreeMiB: 1024 * 1024 * 1024 }, demo: { enabled: false },
    });
    const full = await createGateway(config, { logger: pino({ level: 'silent' }), db, analyzer, housekeepingMs: 3600_000 });
    const res = await request(full.app.callback()).get('/readyz');
    expect(res.status).toBe(503);
    expect(res.body.checks.disk).toMatch(/^low disk space \(\d+ MiB free, below 1073741824 MiB\)$/);
    expect(res.body.checks.database).toBe('ok');
  });
});

// A dependency outage is the service's failure, not the citizen's: a database that refuses writes
// (a full disk, a read-only replica after a failover, a lost connection) gets a retryable 503
// `service_unavailable` with Retry-After, in the catalogue's words (never the statement), and a
// capture start the service failed does not count against her network's starts. The errors are
// the real drivers' (better-sqlite3's SQLITE_READONLY, pg's 25006, a refused TCP connection).
import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pino from 'pino';
import request from 'supertest';
import { loadConfig } from '../../../config/load.ts';
import type { Config } from '../../../config/schema.ts';
import { createAudit } from '../../../src/audit/log.ts';
import type { FaceAnalyzer } from '../../../src/biometrics/pool.ts';
import { createCaptureService, type CaptureService } from '../../../src/capture/service.ts';
import { openDatabase, type Db } from '../../../src/db/knex.ts';
import { acrOf } from '../../../src/oidc/acr.ts';
import { buildAgencyMetadata, registerClient } from '../../../src/oidc/clients.ts';
import { createRiskKeys } from '../../../src/risk/keys.ts';
import { createAttemptLimits } from '../../../src/risk/limits.ts';
import { createGateway, type Gateway } from '../../../src/server/gateway.ts';
import { errorCatalogue, isOutage, toAppError } from '../../../src/shared/errors.ts';
import { createSealer } from '../../../src/shared/sealed.ts';
import { acrSubstantial, connectAgency, createAgencyKeys } from '../../helpers/agency.ts';
import { onPostgres, openTestDatabase, type TestDatabase } from '../../helpers/db.ts';

let tdb: TestDatabase;
/** A second handle on the same database with one connection, so that refusing writes holds for all it runs. */
let single: Db;
/** Reads still answered, every write refused on `single`: a full disk or a read-only replica. */
const refuseWrites = (on: boolean) => (onPostgres
  ? single.raw(`SET default_transaction_read_only = ${on ? 'on' : 'off'}`)
  : single.raw(`PRAGMA query_only = ${on ? 'ON' : 'OFF'}`));
/** What a write on `single` throws while writes are refused. */
const refusedWrite = async () => {
  await refuseWrites(true);
  try {
    await single('readiness_probes').insert({ instance: 'outage-test', checked_at: Date.now() });
  } catch (err) {
    return err;
  } finally {
    await refuseWrites(false);
  }
  throw new Error('the write was not refused');
};
/** The analysis no capture start runs. */
const noAnalysis: FaceAnalyzer = { analyze: () => Promise.reject(new Error('a capture start analyses nothing')), close: async () => {} };

beforeAll(async () => {
  tdb = await openTestDatabase();
  single = openDatabase({ ...tdb.database, poolMax: 1 });
});
afterAll(async () => {
  await single?.destroy();
  await tdb?.close();
});

describe('telling an outage from a bug', () => {
  it('takes the drivers\' errors of a refused write and of an unreachable server for outages, and a bug for none', async () => {
    const readOnly = await refusedWrite();
    expect(isOutage(readOnly)).toBe(true);
    expect(toAppError(readOnly)).toMatchObject({ code: 'service_unavailable', status: 503, message: errorCatalogue.service_unavailable.message, details: { retryAfterSeconds: 5 } });
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => { const { port: p } = s.address() as { port: number }; s.close(() => resolve(p)); });
    });
    const nowhere = openDatabase({ url: `postgres://postgres@127.0.0.1:${port}/test`, poolMax: 1 });
    const unreachable = await nowhere.raw('select 1').then(() => undefined, (err: unknown) => err);
    await nowhere.destroy();
    expect(unreachable).toBeDefined();
    expect(isOutage(unreachable)).toBe(true);
    // A statement that is wrong is a bug: internal_error, hidden.
    const wrong = await single.raw('select * from no_such_table').then(() => undefined, (err: unknown) => err);
    expect(isOutage(wrong)).toBe(false);
    expect(toAppError(wrong).code).toBe('internal_error');
    expect(isOutage(new TypeError('x is undefined'))).toBe(false);
  });
});

describe('a capture start the database could not record', () => {
  let config: Readonly<Config>;
  let capture: CaptureService;

  beforeAll(() => {
    config = loadConfig({ NODE_ENV: 'test' }, { database: tdb.database, demo: { enabled: false }, risk: { ip: { startsPerMinute: 3 } } });
    // The attempt limits on the database's other handle (they take writes); the flows on `single`.
    capture = createCaptureService({
      db: single, analyzer: noAnalysis, sealer: createSealer(config.secrets.dataKeys, config.secrets.dataKeyId), config, audit: createAudit(single),
      limits: createAttemptLimits(tdb.db, config), keys: createRiskKeys(config.secrets.pairwiseSalt),
    });
  });
  const start = () => capture.start({ interactionUid: randomUUID(), clientId: 'agency', nationalId: 'AB123456', acr: acrOf('substantial'), ip: '203.0.113.9', userAgent: 'test/1.0' });

  it('is a retryable outage and does not count against the network\'s starts', async () => {
    await refuseWrites(true);
    try {
      for (let i = 0; i < 5; i++) {
        const failed = await start().then(() => undefined, (err: unknown) => err);
        expect(toAppError(failed).code).toBe('service_unavailable');
      }
    } finally {
      await refuseWrites(false);
    }
    // Nothing of the failed starts is left, and the network still has its 3 starts this minute.
    expect(await tdb.db('capture_sessions').count({ n: '*' }).first()).toMatchObject({ n: 0 });
    for (let i = 0; i < 3; i++) await expect(start()).resolves.toMatchObject({ captureId: expect.any(String) });
    await expect(start()).rejects.toMatchObject({ code: 'rate_limited' });
  });
});

describe('the HTTP answer during an outage', () => {
  let gw: Gateway;
  let server: Server;
  let issuer: string;

  beforeAll(async () => {
    server = createHttpServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const config = loadConfig({ NODE_ENV: 'test' }, { server: { issuer, logLevel: 'silent' }, database: { ...tdb.database, poolMax: 1 }, demo: { enabled: false } });
    gw = await createGateway(config, { logger: pino({ level: 'silent' }), db: single, analyzer: noAnalysis, housekeepingMs: 3600_000 });
    const handle = gw.app.callback();
    server.on('request', (req, res) => void handle(req, res));
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await gw?.close();
  });

  it('answers an agency\'s pushed authorization request 503 temporarily_unavailable with Retry-After, and takes it once writes are back', async () => {
    const keys = await createAgencyKeys('outage-office');
    await registerClient(tdb.db, buildAgencyMetadata({ clientId: keys.clientId, name: 'Outage office', redirectUris: [keys.redirectUri], jwks: keys.jwks, scopes: ['openid', 'profile'] }));
    const agency = await connectAgency(issuer, keys);
    const par = () => client.buildAuthorizationUrlWithPAR(agency.config, {
      redirect_uri: keys.redirectUri, scope: 'openid', acr_values: acrSubstantial,
      code_challenge: client.randomPKCECodeVerifier(), code_challenge_method: 'S256',
    }).then(() => 'accepted', async (err: { cause?: unknown }) => {
      // openid-client refuses a PAR answer other than 201 and hands over the response as the cause.
      const res = err.cause instanceof Response ? err.cause : undefined;
      return { status: res?.status, error: ((await res?.json()) as { error?: string } | undefined)?.error, retryAfter: res?.headers.get('retry-after') };
    });
    await refuseWrites(true);
    try {
      // The client assertion's jti cannot be stored: oidc-provider's server_error, made retryable.
      expect(await par()).toEqual({ status: 503, error: 'temporarily_unavailable', retryAfter: '5' });
    } finally {
      await refuseWrites(false);
    }
    expect(await par()).toBe('accepted');
  });

  it('is 503 service_unavailable with Retry-After, as JSON and as a page, and the same request passes once writes are back', async () => {
    const app = gw.app.callback();
    const { csrf } = (await request(app).get('/onboarding').set('accept', 'application/json')).body as { csrf: string };
    const begin = (accept: string, lang = 'en') => request(app).post('/onboarding').set('accept', accept).set('accept-language', lang).send({ nationalId: 'AB123456', csrf });
    await refuseWrites(true);
    try {
      const json = await begin('application/json');
      expect(json.status).toBe(503);
      expect(json.headers['retry-after']).toBe('5');
      expect(json.body).toEqual({ error: { code: 'service_unavailable', message: errorCatalogue.service_unavailable.message } });
      const page = await begin('text/html', 'fr');
      expect(page.status).toBe(503);
      expect(page.headers['retry-after']).toBe('5');
      expect(page.text).toContain('Réessayez dans quelques secondes');
      // The driver's words and the statement stay in the log.
      expect(`${json.text}${page.text}`).not.toMatch(/readonly|read-only|insert|risk_limits|SQLITE|25006/i);
    } finally {
      await refuseWrites(false);
    }
    const after = await begin('application/json');
    expect(after.status).toBe(200);
    expect(after.body).toMatchObject({ redirectTo: expect.stringMatching(/^\/onboarding\//) });
  });
});

// The client IP behind trusted proxies (server.trustProxy, server.proxyHops): taken from the right
// of X-Forwarded-For, so a client cannot choose it by sending its own header. Seen by our routes
// (rate limits, audit) and by the provider (its audit events).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Router from '@koa/router';
import { exportJWK, generateKeyPair } from 'jose';
import type Koa from 'koa';
import pino from 'pino';
import request from 'supertest';
import { loadConfig } from '../../../config/load.ts';
import { createProvider } from '../../../src/oidc/provider.ts';
import { createApp } from '../../../src/server/app.ts';
import { createMetrics } from '../../../src/server/metrics.ts';
import { openTestDatabase, type TestDatabase } from '../../helpers/db.ts';

let tdb: TestDatabase;
let jwks: { keys: object[] };

beforeAll(async () => {
  tdb = await openTestDatabase();
  const { privateKey } = await generateKeyPair('PS256', { extractable: true });
  jwks = { keys: [{ ...await exportJWK(privateKey), alg: 'PS256', use: 'sig', kid: 'k1' }] };
});

afterAll(async () => {
  await tdb?.close();
});

/** The gateway's app with a probe route answering ctx.ip; `provided()` is the provider's ctx.ip. */
function appWith(server: { trustProxy: boolean; proxyHops?: number }) {
  const config = loadConfig({ NODE_ENV: 'test' }, {
    server: { ...server, logLevel: 'silent' }, database: tdb.database, demo: { enabled: false },
  });
  const provider = createProvider({ config, db: tdb.db, jwks });
  let providerIp: string | undefined;
  provider.use(async (ctx, next) => {
    providerIp = ctx.ip;
    await next();
  });
  const probe = new Router({ prefix: '/probe' });
  probe.get('/ip', (ctx) => { ctx.body = { ip: ctx.ip }; });
  const app: Koa = createApp({
    provider, routers: [probe], logger: pino({ level: 'silent' }), metrics: createMetrics(), readiness: {},
    trustProxy: config.server.trustProxy, proxyHops: config.server.proxyHops,
  });
  return { app, provided: () => providerIp };
}

const ipOf = async (app: Koa, forwardedFor: string) =>
  (await request(app.callback()).get('/probe/ip').set('X-Forwarded-For', forwardedFor)).body.ip as string;

describe('client IP behind a trusted proxy', () => {
  it('takes the rightmost X-Forwarded-For entry with one hop (the default), not the one the client wrote', async () => {
    const { app } = appWith({ trustProxy: true });
    expect(await ipOf(app, '6.6.6.6, 203.0.113.7')).toBe('203.0.113.7');
    expect(await ipOf(app, '203.0.113.7')).toBe('203.0.113.7');
  });

  it('takes the entry proxyHops places from the right with several proxies', async () => {
    const { app } = appWith({ trustProxy: true, proxyHops: 2 });
    expect(await ipOf(app, '6.6.6.6, 203.0.113.7, 10.0.0.2')).toBe('203.0.113.7');
  });

  it('ignores X-Forwarded-For without trustProxy', async () => {
    const { app } = appWith({ trustProxy: false });
    expect(await ipOf(app, '6.6.6.6, 203.0.113.7')).toMatch(/127\.0\.0\.1|::1/);
  });

  it('gives the provider the same client IP', async () => {
    const { app, provided } = appWith({ trustProxy: true });
    const res = await request(app.callback()).get('/.well-known/openid-configuration').set('X-Forwarded-For', '6.6.6.6, 203.0.113.7');
    expect(res.status).toBe(200);
    expect(provided()).toBe('203.0.113.7');
  });
});

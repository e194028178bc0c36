// Production over plain http: a request that did not come over https (directly or per
// X-Forwarded-Proto from a trusted proxy) is redirected to the issuer's https origin (GET, HEAD)
// or refused with https_required, before any cookie is set; the probes stay on plain http. Over
// https, every cookie a sign-in gets is Secure.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import type Koa from 'koa';
import pino from 'pino';
import request from 'supertest';
import { loadConfig } from '../../../config/load.ts';
import { buildAgencyMetadata, registerClient } from '../../../src/oidc/clients.ts';
import { createProvider } from '../../../src/oidc/provider.ts';
import { createApp } from '../../../src/server/app.ts';
import { createMetrics } from '../../../src/server/metrics.ts';
import { openTestDatabase, type TestDatabase } from '../../helpers/db.ts';

const issuer = 'https://id.gov.example';
const host = new URL(issuer).host;
const redirectUri = 'https://agency.example/callback';
const key32 = () => randomBytes(32).toString('base64');
const longSecret = () => randomBytes(32).toString('hex');

let tdb: TestDatabase;
let app: Koa;
let agencyKey: CryptoKey;

beforeAll(async () => {
  tdb = await openTestDatabase();
  const signing = await generateKeyPair('PS256', { extractable: true });
  const jwks = { keys: [{ ...await exportJWK(signing.privateKey), alg: 'PS256', use: 'sig', kid: 'k1' }] };
  const agency = await generateKeyPair('ES256', { extractable: true });
  agencyKey = agency.privateKey;
  await registerClient(tdb.db, buildAgencyMetadata({
    clientId: 'pension-office', name: 'Pension office', redirectUris: [redirectUri],
    jwks: { keys: [{ ...await exportJWK(agency.publicKey), alg: 'ES256', use: 'sig', kid: 'a1' }] },
  }));
  // Production as an operator configures it: fresh secrets, an https issuer, behind a TLS proxy.
  const config = loadConfig({
    NODE_ENV: 'production', FACEGATE_ISSUER: issuer, FACEGATE_TRUST_PROXY: 'true',
    FACEGATE_COOKIE_KEYS: longSecret(), FACEGATE_DATA_KEYS: `dev:${key32()},k1:${key32()}`, FACEGATE_DATA_KEY_ID: 'k1',
    FACEGATE_AUDIT_KEYS: `dev:${key32()},a1:${key32()}`, FACEGATE_AUDIT_KEY_ID: 'a1', FACEGATE_DPOP_NONCE_SECRET: key32(), FACEGATE_PAIRWISE_SALT: longSecret(), FACEGATE_CSRF_SECRET: longSecret(),
  }, { server: { logLevel: 'silent' }, database: tdb.database });
  const provider = createProvider({ config, db: tdb.db, jwks });
  app = createApp({
    provider, routers: [], logger: pino({ level: 'silent' }), metrics: createMetrics(), readiness: {},
    trustProxy: true, proxyHops: 1, httpsOrigin: issuer,
  });
});

afterAll(async () => {
  await tdb?.close();
});

const assertion = () => new SignJWT({ iss: 'pension-office', sub: 'pension-office', aud: issuer, jti: randomUUID() })
  .setProtectedHeader({ alg: 'ES256', kid: 'a1' }).setIssuedAt().setExpirationTime('1m').sign(agencyKey);

async function par(proto?: string) {
  const req = request(app.callback()).post('/request').set('Host', host).type('form');
  if (proto) req.set('X-Forwarded-Proto', proto);
  return req.send({
    client_id: 'pension-office', response_type: 'code', redirect_uri: redirectUri, scope: 'openid', state: 's1', nonce: 'n1',
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256',
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: await assertion(),
  });
}

describe('production over plain http', () => {
  it('redirects a page request to the issuer\'s https origin, setting no cookie', async () => {
    const res = await request(app.callback()).get('/auth?client_id=pension-office&request_uri=urn:x').set('Host', host);
    expect(res.status).toBe(308);
    expect(res.headers.location).toBe(`${issuer}/auth?client_id=pension-office&request_uri=urn:x`);
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('refuses a POST with https_required, also when a proxy says http', async () => {
    for (const proto of [undefined, 'http']) {
      const res = await par(proto);
      expect(res.status).toBe(403);
      expect(res.body.error).toMatchObject({ code: 'https_required' });
      expect(res.headers['set-cookie']).toBeUndefined();
    }
  });

  it('still answers the probes', async () => {
    expect((await request(app.callback()).get('/healthz')).status).toBe(200);
    expect((await request(app.callback()).get('/readyz')).status).toBe(200);
  });
});

describe('production over https (a TLS proxy in front)', () => {
  it('starts a sign-in whose cookies are all Secure', async () => {
    const pushed = await par('https');
    expect(pushed.status).toBe(201);
    const res = await request(app.callback()).get('/auth').set('Host', host).set('X-Forwarded-Proto', 'https')
      .query({ client_id: 'pension-office', request_uri: pushed.body.request_uri });
    expect(res.status).toBe(303);
    const cookies = res.headers['set-cookie'] as unknown as string[];
    expect(cookies.length).toBeGreaterThan(0);
    for (const cookie of cookies) expect(cookie.toLowerCase()).toContain('; secure');
  });
});

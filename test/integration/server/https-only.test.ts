// Production over plain http: a request that did not come over https (directly or per
// X-Forwarded-Proto from a trusted proxy) is redirected to the issuer's https origin (GET, HEAD)
// or refused with https_required, before any cookie is set; the probes stay on plain http. Over
// https, every cookie a sign-in gets is Secure.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import type Koa from 'koa';
import request from 'supertest';
import { clientAssertion, startProviderApp, type ProviderApp } from '../../helpers/provider-app.ts';

const issuer = 'https://id.gov.example';
const host = new URL(issuer).host;
const redirectUri = 'https://agency.example/callback';
const key32 = () => randomBytes(32).toString('base64');
const longSecret = () => randomBytes(32).toString('hex');

let gw: ProviderApp;
let app: Koa;

beforeAll(async () => {
  // Production as an operator configures it: fresh secrets, an https issuer, behind a TLS proxy.
  gw = await startProviderApp({
    agencies: [{ clientId: 'pension-office', name: 'Pension office', redirectUri }],
    env: {
      NODE_ENV: 'production', FACEGATE_ISSUER: issuer, FACEGATE_TRUST_PROXY: 'true',
      FACEGATE_COOKIE_KEYS: longSecret(), FACEGATE_DATA_KEYS: `dev:${key32()},k1:${key32()}`, FACEGATE_DATA_KEY_ID: 'k1',
      FACEGATE_AUDIT_KEYS: `dev:${key32()},a1:${key32()}`, FACEGATE_AUDIT_KEY_ID: 'a1', FACEGATE_DPOP_NONCE_SECRET: key32(), FACEGATE_PAIRWISE_SALT: longSecret(), FACEGATE_CSRF_SECRET: longSecret(),
    },
    app: { trustProxy: true, proxyHops: 1, httpsOrigin: issuer },
  });
  app = gw.app;
});

afterAll(async () => {
  await gw?.close();
});

const assertion = () => clientAssertion(issuer, gw.agencies['pension-office']);

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

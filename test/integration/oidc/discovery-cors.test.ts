// What the provider advertises and who may call it from a browser: discovery lists only the grant
// agencies can use, and the endpoints of agencies' servers (token, PAR, userinfo, introspection,
// revocation) answer no CORS, whatever the Origin. Discovery and the JWKS stay readable anywhere.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import request from 'supertest';
import { clientAssertion, startProviderApp, type ProviderApp } from '../../helpers/provider-app.ts';

const evil = 'https://evil.example';
const agencyOrigin = 'https://agency.example';
let gw: ProviderApp;
let app: Koa;
let provider: Provider;
let issuer: string;

beforeAll(async () => {
  gw = await startProviderApp({ agencies: [{ clientId: 'pension-office', name: 'Pension office', redirectUri: `${agencyOrigin}/callback` }] });
  ({ app, provider, issuer } = gw);
});

afterAll(async () => {
  await gw?.close();
});

const preflight = (path: string, origin: string, method = 'POST') => request(app.callback()).options(path)
  .set('Origin', origin).set('Access-Control-Request-Method', method).set('Access-Control-Request-Headers', 'dpop, content-type');

const corsHeaders = (headers: Record<string, string>) => Object.keys(headers).filter((h) => h.startsWith('access-control-'));

describe('discovery', () => {
  it('lists only the authorization code grant, no refresh_token', async () => {
    const res = await request(app.callback()).get('/.well-known/openid-configuration');
    expect(res.status).toBe(200);
    expect(res.body.grant_types_supported).toEqual(['authorization_code']);
  });

  it('stays readable from any origin, as does the JWKS', async () => {
    for (const path of ['/.well-known/openid-configuration', '/jwks']) {
      const res = await request(app.callback()).get(path).set('Origin', evil);
      expect(res.status).toBe(200);
      expect(res.headers['access-control-allow-origin']).toBe(evil);
    }
  });
});

describe('token endpoint', () => {
  it('refuses the refresh_token grant as unsupported', async () => {
    const assertion = await clientAssertion(issuer, gw.agencies['pension-office']);
    const res = await request(app.callback()).post('/token').type('form').send({
      grant_type: 'refresh_token', refresh_token: 'x', client_id: 'pension-office',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion,
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('unsupported_grant_type');
  });
});

describe('CORS on the agencies\' endpoints', () => {
  it.each(['/token', '/request', '/me', '/token/introspection', '/token/revocation'])('answers a preflight to %s from another origin without CORS headers', async (path) => {
    const res = await preflight(path, evil, path === '/me' ? 'GET' : 'POST');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect(corsHeaders(res.headers)).toEqual([]);
  });

  it('answers a preflight to /me from the agency\'s own redirect origin without CORS headers', async () => {
    const res = await preflight('/me', agencyOrigin, 'GET');
    expect(corsHeaders(res.headers)).toEqual([]);
  });

  it('refuses a userinfo request from the agency\'s own redirect origin with invalid_request', async () => {
    const client = (await provider.Client.find('pension-office'))!;
    const token = await new provider.AccessToken({ accountId: 'c1', client, scope: 'openid', grantId: 'g1', gty: 'authorization_code' }).save();
    const res = await request(app.callback()).get('/me').set('Origin', agencyOrigin).set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    expect(corsHeaders(res.headers)).toEqual([]);
  });

  it.each([
    ['an unknown client', 'nobody'],
    ['a registered agency', 'pension-office'],
  ])('refuses a token request from another origin for %s without echoing the origin', async (_what, clientId) => {
    const res = await request(app.callback()).post('/token').set('Origin', evil).type('form').send({
      grant_type: 'authorization_code', code: 'x', redirect_uri: `${agencyOrigin}/callback`, code_verifier: 'x'.repeat(43), client_id: clientId,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: 'not.a.jwt',
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(corsHeaders(res.headers)).toEqual([]);
  });
});

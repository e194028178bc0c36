// The FAPI 2.0 Security Profile's rules on what an agency sends: a client assertion's aud is the
// issuer identifier alone, as a string (SP 5.3.2.1-8); a client assertion or DPoP proof from more
// than the clock tolerance in the future is refused, one a few seconds ahead still accepted
// (SP 5.3.2.1-14). Every request is a pushed authorization request, the cheapest call that
// authenticates the agency and reads a DPoP proof.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import type Koa from 'koa';
import request from 'supertest';
import { clientAssertion, startProviderApp, type ProviderApp } from '../../helpers/provider-app.ts';

const redirectUri = 'https://agency.example/callback';
let gw: ProviderApp;
let app: Koa;
let issuer: string;
let dpopKey: { privateKey: CryptoKey; jwk: JWK };

beforeAll(async () => {
  gw = await startProviderApp({ agencies: [{ clientId: 'pension-office', name: 'Pension office', redirectUri }] });
  ({ app, issuer } = gw);
  const dpop = await generateKeyPair('ES256', { extractable: true });
  dpopKey = { privateKey: dpop.privateKey, jwk: await exportJWK(dpop.publicKey) };
});

afterAll(async () => {
  await gw?.close();
});

const now = () => Math.floor(Date.now() / 1000);

type Claims = { aud?: string | string[]; iat?: number; nbf?: number };
const assertion = (claims: Claims = {}) => clientAssertion(issuer, gw.agencies['pension-office'], claims);

const dpopProof = (iat: number) => new SignJWT({ htm: 'POST', htu: `${issuer}/request`, jti: randomUUID(), iat })
  .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: dpopKey.jwk }).sign(dpopKey.privateKey);

async function par(assertionJwt: string, dpop?: string) {
  // The issuer's host, as an agency's request has: the endpoint URLs are then the issuer's.
  const req = request(app.callback()).post('/request').set('Host', new URL(issuer).host).type('form');
  if (dpop) req.set('DPoP', dpop);
  return req.send({
    client_id: 'pension-office', response_type: 'code', redirect_uri: redirectUri, scope: 'openid',
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256',
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertionJwt,
  });
}

describe('client assertion audience', () => {
  it('accepts the issuer identifier as a string (the control case)', async () => {
    expect((await par(await assertion())).status).toBe(201);
  });

  it.each([
    ['the PAR endpoint URL', () => `${issuer}/request`],
    ['the token endpoint URL', () => `${issuer}/token`],
    ['an array of the issuer and another audience', () => [issuer, 'https://other.example']],
    ['an array of the issuer alone', () => [issuer]],
  ])('refuses %s', async (_what, aud) => {
    const res = await par(await assertion({ aud: aud() }));
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
  });
});

describe('client assertions from the future', () => {
  it('accepts an assertion issued 5 s ahead (an agency clock slightly fast)', async () => {
    expect((await par(await assertion({ iat: now() + 5 }))).status).toBe(201);
  });

  it.each([
    ['iat 90 s ahead, no nbf', { iat: 90 }],
    ['iat 61 s ahead', { iat: 61 }],
    ['nbf 90 s ahead', { nbf: 90 }],
  ])('refuses %s', async (_what, ahead: { iat?: number; nbf?: number }) => {
    const claims: Claims = {};
    if (ahead.iat) claims.iat = now() + ahead.iat;
    if (ahead.nbf) claims.nbf = now() + ahead.nbf;
    const res = await par(await assertion(claims));
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
  });
});

describe('DPoP proofs from the future', () => {
  it('accepts a proof issued now and one 5 s ahead', async () => {
    for (const iat of [now(), now() + 5]) {
      const res = await par(await assertion(), await dpopProof(iat));
      expect(res.status).toBe(201);
    }
  });

  it.each([120, 61])('refuses a proof issued %i s ahead', async (ahead) => {
    const res = await par(await assertion(), await dpopProof(now() + ahead));
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_dpop_proof');
  });

  it('refuses one at the userinfo endpoint in WWW-Authenticate', async () => {
    const proof = await new SignJWT({ htm: 'GET', htu: `${issuer}/me`, jti: randomUUID(), iat: now() + 120 })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: dpopKey.jwk }).sign(dpopKey.privateKey);
    const res = await request(app.callback()).get('/me').set('Authorization', 'DPoP x').set('DPoP', proof);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^DPoP error="invalid_dpop_proof"/);
  });
});

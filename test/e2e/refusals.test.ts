// What the gateway refuses at the protocol level, with an independent agency (openid-client 6):
// no PKCE, an unregistered redirect_uri, an unpushed request, weak client assertions, a token
// request without DPoP; and bad input to every endpoint answers 4xx, never 500.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { base64url, SignJWT, generateKeyPair } from 'jose';
import * as client from 'openid-client';
import { acrSubstantial, connectAgency, consentAndReturn, createAgencyKeys, startSignIn, verifyFace, type Agency } from '../helpers/agency.ts';
import { describeWithData } from '../helpers/data.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { citizenPhoto, warmLiveCitizen } from '../helpers/live.ts';

describe('protocol refusals', () => {
  let gw: TestGateway;
  let agency: Agency;

  beforeAll(async () => {
    // Shorter prompt delays and look-straight step than the defaults: the same protocol, quicker.
    gw = await startTestGateway({ capture: { stream: { promptDelayMs: [300, 700], neutralMs: 600 } } });
    const keys = await createAgencyKeys('pension-office');
    await gw.registerAgency({ clientId: keys.clientId, jwks: keys.jwks, scopes: ['openid', 'profile', 'national_id'] });
    agency = await connectAgency(gw.issuer, keys);
  });
  afterAll(() => gw?.close());

  const par = (params: Record<string, string>) => client.buildAuthorizationUrlWithPAR(agency.config, {
    redirect_uri: agency.redirectUri, scope: 'openid', state: client.randomState(), nonce: client.randomNonce(),
    acr_values: acrSubstantial, ...params,
  });

  it('refuses a pushed request without PKCE', async () => {
    await expect(par({})).rejects.toMatchObject({ error: 'invalid_request' });
  });

  it('refuses a pushed request with the plain PKCE method', async () => {
    await expect(par({ code_challenge: 'x'.repeat(43), code_challenge_method: 'plain' })).rejects.toMatchObject({ error: 'invalid_request' });
  });

  it('refuses an unregistered redirect_uri', async () => {
    const challenge = await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier());
    await expect(par({ redirect_uri: 'https://evil.example/callback', code_challenge: challenge, code_challenge_method: 'S256' }))
      .rejects.toMatchObject({ error: expect.stringMatching(/^invalid_(request|redirect_uri)$/), error_description: expect.stringContaining('redirect_uri') });
  });

  it('refuses an authorization request that was not pushed', async () => {
    const url = client.buildAuthorizationUrl(agency.config, {
      redirect_uri: agency.redirectUri, scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256', state: 's', nonce: 'n',
    });
    const res = await fetch(url, { redirect: 'manual' });
    const location = res.headers.get('location') ?? '';
    expect(location).not.toMatch(/[?&]code=/);
    if (res.status === 303) expect(new URL(location).searchParams.get('error')).toBe('invalid_request');
    else expect(res.status).toBe(400);
  });

  describe('client assertions', () => {
    const post = async (assertion: string) => {
      const res = await fetch(`${gw.issuer}/request`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          client_id: agency.clientId, response_type: 'code', redirect_uri: agency.redirectUri, scope: 'openid',
          code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256',
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion,
        }),
      });
      return { status: res.status, body: await res.json() as { error: string } };
    };
    const claims = () => ({ iss: agency.clientId, sub: agency.clientId, aud: gw.issuer, jti: randomBytes(8).toString('hex') });

    it('refuses an HS256 assertion', async () => {
      const jwt = await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setExpirationTime('1m').sign(randomBytes(32));
      expect(await post(jwt)).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    });

    it('refuses an unsigned (alg none) assertion', async () => {
      const now = Math.floor(Date.now() / 1000);
      const jwt = `${base64url.encode(JSON.stringify({ alg: 'none' }))}.${base64url.encode(JSON.stringify({ ...claims(), iat: now, exp: now + 60 }))}.`;
      expect(await post(jwt)).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    });

    it('refuses an RS256 assertion even from a key the agency holds', async () => {
      const { privateKey } = await generateKeyPair('RS256');
      const jwt = await new SignJWT(claims()).setProtectedHeader({ alg: 'RS256', kid: agency.kid }).setIssuedAt().setExpirationTime('1m').sign(privateKey);
      expect(await post(jwt)).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    });

    it('accepts the agency own PS256 assertion (the control case)', async () => {
      const jwt = await new SignJWT(claims()).setProtectedHeader({ alg: 'PS256', kid: agency.kid }).setIssuedAt().setExpirationTime('1m').sign(agency.privateKey);
      expect((await post(jwt)).status).toBe(201);
    });
  });

  describeWithData('a token request without DPoP', () => {
    // The live citizen's camera is made once per file (the selfie video classified): a few seconds.
    beforeAll(warmLiveCitizen, 180_000);

    it('is refused although the code and PKCE verifier are right', async () => {
      await gw.enroll('LM19800116', citizenPhoto());
      const s = await startSignIn(agency);
      // The live citizen's camera, streamed: it follows the server's prompts.
      const { submit } = await verifyFace(s, 'LM19800116');
      expect(submit.json).toMatchObject({ status: 'verified' });
      const back = await consentAndReturn(s, (submit.json as { redirectTo: string }).redirectTo);
      await expect(client.authorizationCodeGrant(agency.config, new URL(back.location!), {
        pkceCodeVerifier: s.verifier, expectedNonce: s.nonce, expectedState: s.state,
      })).rejects.toMatchObject({ error: expect.stringMatching(/^invalid_(grant|request|dpop_proof)$/) });
    }, 90_000);
  });

  it('answers malformed requests to every endpoint with a 4xx, never a 500', async () => {
    const bodies: Array<[string, RequestInit]> = [
      ['empty form', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' }],
      ['garbage form', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '%%%&&&=\u0000' }],
      ['broken JSON', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":' }],
      ['wrong type', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' }],
      ['huge field', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `client_id=${'a'.repeat(200_000)}` }],
      ['GET', { method: 'GET' }],
    ];
    const paths = [
      '/request', '/token', '/me', '/token/introspection', '/token/revocation', '/session/end', '/auth', '/jwks',
      '/auth/unknown-uid', '/interaction/unknown', '/interaction/unknown/capture', '/interaction/unknown/capture/x/frames',
      '/interaction/unknown/capture/x/stream',
      '/interaction/unknown/quality', '/interaction/unknown/verify', '/interaction/unknown/consent', '/interaction/unknown/abort',
      '/demo', '/static/../package.json', '/.well-known/openid-configuration',
    ];
    const failures: string[] = [];
    for (const path of paths) {
      for (const [name, init] of bodies) {
        const res = await fetch(`${gw.issuer}${path}`, { ...init, redirect: 'manual' });
        await res.arrayBuffer();
        if (res.status >= 500) failures.push(`${init.method} ${path} (${name}): ${res.status}`);
      }
    }
    expect(failures).toEqual([]);
    // The retired batch path of an unknown interaction is not found (404), like every other path
    // of it: it does not point to a stream (410 stream_required) before the interaction is known.
    const frames = await fetch(`${gw.issuer}/interaction/unknown/capture/x/frames`, { method: 'POST', headers: { accept: 'application/json' } });
    expect(frames.status).toBe(404);
    expect(await frames.json()).toMatchObject({ error: { code: 'interaction_not_found' } });
  });
});

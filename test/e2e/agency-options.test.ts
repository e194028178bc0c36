// The per-agency options of docs/agencies.md end to end, openid-client 6 as each agency and a live
// citizen's camera streamed to the server: an ID token and userinfo encrypted to the agency's own
// `use: enc` keys and decrypted with them; back-channel logout received by the agency on a local
// HTTP server (signature, events, sid and sub checked; its first answer a failure, so the gateway
// sends again); and an agency with a floor at high asking for substantial, which gets a capture at
// high and acr high, a session at substantial never reused for it.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { compactDecrypt, createRemoteJWKSet, decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify, type CryptoKey } from 'jose';
import * as client from 'openid-client';
import { buildAgencyMetadata, registerClient, type AgencyInput } from '../../src/oidc/clients.ts';
import { acrHigh, acrSubstantial, consentAndReturn, createAgencyKeys, interactionJson, startSignIn, verifyFace, type Agency, type SignIn } from '../helpers/agency.ts';
import { describeWithData } from '../helpers/data.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { citizenPhoto, warmLiveCitizen } from '../helpers/live.ts';

const backchannelEvent = 'http://schemas.openid.net/event/backchannel-logout';

describeWithData('agency options end to end', () => {
  let gw: TestGateway;
  const nationalId = 'LM19610804';
  let gatewayKeys: ReturnType<typeof createRemoteJWKSet>;
  // The sealed office: ID tokens to its RSA key, userinfo to its EC key, both `use: enc`.
  let sealed: Agency;
  let rsaEnc: CryptoKey;
  let ecEnc: CryptoKey;
  // The pension office hears of logouts at its back-channel endpoint.
  let pension: Agency;
  let receiver: Server;
  const received: string[] = [];
  const answers: number[] = [];
  // The police e-ID: floor at high.
  let police: Agency;
  /** The browser of the sealed office's sign-in at substantial: its session is tried on the police. */
  let substantialSession: SignIn | undefined;

  const register = (keys: Awaited<ReturnType<typeof createAgencyKeys>>, extra: Partial<AgencyInput>) => registerClient(gw.database.db, buildAgencyMetadata({
    clientId: keys.clientId, name: `Agency ${keys.clientId}`, redirectUris: [keys.redirectUri], jwks: keys.jwks, scopes: ['openid', 'profile', 'national_id'], ...extra,
  }));
  /** The agency as openid-client sees it, with the metadata it registered. */
  const connect = async (keys: Awaited<ReturnType<typeof createAgencyKeys>>, metadata: Partial<client.ClientMetadata> = {}): Promise<Agency> => {
    const config = await client.discovery(new URL(gw.issuer), keys.clientId, { id_token_signed_response_alg: 'PS256', ...metadata },
      client.PrivateKeyJwt(keys.privateKey, { [client.modifyAssertion]: (h) => { h.kid = keys.kid; } }),
      { execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks] });
    return { ...keys, config };
  };
  /** A sign-in with the live citizen, through consent, to the agency's callback. */
  const signIn = async (agency: Agency, acr = acrSubstantial, s?: SignIn) => {
    s ??= await startSignIn(agency, { acr, scope: 'openid profile national_id' });
    const face = await verifyFace(s, nationalId);
    expect(face.submit.json).toMatchObject({ status: 'verified' });
    const back = await consentAndReturn(s, (face.submit.json as { redirectTo: string }).redirectTo);
    return { s, face, callback: new URL(back.location!) };
  };
  const exchange = (agency: Agency, s: SignIn, callback: URL) => client.authorizationCodeGrant(agency.config, callback, {
    pkceCodeVerifier: s.verifier, expectedNonce: s.nonce, expectedState: s.state, idTokenExpected: true,
  }, undefined, { DPoP: s.DPoP });
  const auditRows = async (type: string, clientId: string) => (await gw.database.db('audit_events').where({ type, client_id: clientId }).orderBy('id'))
    .map((r: { code: string | null; details: string }): Record<string, unknown> => ({ code: r.code, ...JSON.parse(r.details) as object }));

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => { body += c.toString(); });
      req.on('end', () => {
        received.push(new URLSearchParams(body).get('logout_token') ?? '');
        res.statusCode = answers.shift() ?? 200;
        res.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    gw = await startTestGateway({
      capture: { stream: { promptDelayMs: [300, 700], neutralMs: 600, deadlineMs: 20_000 } },
      // The agency's back-channel endpoint is on the loopback.
      oidc: { outbound: { allowPrivateNetworks: true } },
    });
    gatewayKeys = createRemoteJWKSet(new URL(`${gw.issuer}/jwks`));
    await gw.enroll(nationalId, citizenPhoto());

    const sealedKeys = await createAgencyKeys('sealed-office', 'https://sealed.example/callback');
    const rsa = await generateKeyPair('RSA-OAEP-256', { extractable: true });
    const ec = await generateKeyPair('ECDH-ES', { crv: 'P-256', extractable: true });
    rsaEnc = rsa.privateKey;
    ecEnc = ec.privateKey;
    // The enc keys beside the signing key (the EC one says no alg: ECDH-ES is implied).
    const encKeys: object[] = [
      { ...await exportJWK(rsa.publicKey), kid: 'sealed-enc-rsa', use: 'enc', alg: 'RSA-OAEP-256' },
      { ...await exportJWK(ec.publicKey), kid: 'sealed-enc-ec', use: 'enc' },
    ];
    (sealedKeys.jwks.keys as object[]).push(...encKeys);
    await register(sealedKeys, { idTokenEncryptedResponseAlg: 'RSA-OAEP-256', userinfoEncryptedResponseAlg: 'ECDH-ES' });
    sealed = await connect(sealedKeys, {
      id_token_encrypted_response_alg: 'RSA-OAEP-256', id_token_encrypted_response_enc: 'A256GCM', userinfo_signed_response_alg: 'PS256',
    });
    client.enableDecryptingResponses(sealed.config, ['A256GCM'], { key: rsaEnc, kid: 'sealed-enc-rsa' }, { key: ecEnc, alg: 'ECDH-ES', kid: 'sealed-enc-ec' });

    const pensionKeys = await createAgencyKeys('pension-office');
    await register(pensionKeys, { backchannelLogoutUri: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/backchannel`, postLogoutRedirectUris: ['https://agency.example/logged-out'] });
    pension = await connect(pensionKeys);

    const policeKeys = await createAgencyKeys('police-eid', 'https://police.example/callback');
    await register(policeKeys, { minAcr: 'high' });
    police = await connect(policeKeys);
    await warmLiveCitizen();
  }, 180_000);
  afterAll(async () => {
    await gw?.close();
    receiver?.closeAllConnections();
    await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
  });

  it('encrypts the ID token and userinfo to the agency\'s enc keys; the agency decrypts them with its own keys', async () => {
    const { s, callback } = await signIn(sealed);
    substantialSession = s;
    const tokens = await exchange(sealed, s, callback);
    // openid-client decrypted and verified the ID token with the agency's RSA key.
    expect(tokens.claims()).toMatchObject({ iss: gw.issuer, aud: 'sealed-office', nonce: s.nonce, acr: acrSubstantial, amr: ['face', 'user'] });
    // What came over the wire is a JWE to that key, around the gateway's signed ID token.
    expect(tokens.id_token!.split('.')).toHaveLength(5);
    expect(decodeProtectedHeader(tokens.id_token!)).toMatchObject({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: 'sealed-enc-rsa', cty: 'JWT' });
    const inner = new TextDecoder().decode((await compactDecrypt(tokens.id_token!, rsaEnc)).plaintext);
    expect(client.getDecryptedResponses(tokens)?.id_token?.token_endpoint).toBe(inner);
    const { payload, protectedHeader } = await jwtVerify(inner, gatewayKeys, { issuer: gw.issuer, audience: 'sealed-office' });
    expect(protectedHeader.alg).toBe('PS256');
    expect(payload).toMatchObject({ sub: tokens.claims()!.sub, acr: acrSubstantial });
    // The EC key cannot open it: it was encrypted to the RSA key alone.
    await expect(compactDecrypt(tokens.id_token!, ecEnc)).rejects.toThrow();

    // Userinfo: signed by the gateway, then encrypted to the agency's EC key (ECDH-ES).
    const sub = tokens.claims()!.sub;
    const userinfo = await client.fetchUserInfo(sealed.config, tokens.access_token, sub, { DPoP: s.DPoP });
    expect(userinfo).toMatchObject({ sub, given_name: 'Test', family_name: `Citizen ${nationalId}`, national_id: nationalId });
    const raw = await client.fetchProtectedResource(sealed.config, tokens.access_token, new URL(`${gw.issuer}/me`), 'GET', undefined, undefined, { DPoP: s.DPoP });
    expect(raw.headers.get('content-type')).toMatch(/^application\/jwt/);
    const jwe = await raw.text();
    expect(decodeProtectedHeader(jwe)).toMatchObject({ alg: 'ECDH-ES', enc: 'A256GCM', kid: 'sealed-enc-ec', cty: 'JWT' });
    const signed = new TextDecoder().decode((await compactDecrypt(jwe, ecEnc)).plaintext);
    expect((await jwtVerify(signed, gatewayKeys, { issuer: gw.issuer, audience: 'sealed-office' })).payload).toMatchObject({ sub, national_id: nationalId });
  }, 90_000);

  it('posts a logout token to the agency\'s back-channel endpoint when the citizen logs out, again after a first failure', async () => {
    const { s, callback } = await signIn(pension);
    const tokens = await exchange(pension, s, callback);
    const { sid, sub } = tokens.claims()! as { sid?: string; sub: string };
    expect(sid).toEqual(expect.any(String));

    answers.push(500); // the agency's endpoint fails once
    const logout = await s.browser.request(client.buildEndSessionUrl(pension.config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: 'https://agency.example/logged-out' }).href);
    const action = /<form[^>]*action="([^"]+)"/.exec(logout.body)![1];
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(logout.body)![1];
    const done = await s.browser.request(new URL(action, gw.issuer).href, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ xsrf, logout: 'yes' }),
    });
    expect(done.location).toBe('https://agency.example/logged-out');
    // The first delivery went with the logout (refused); the retry comes a second later.
    expect(received).toHaveLength(1);
    await gw.gateway.logouts.idle();
    expect(received).toHaveLength(2);

    const verified = await Promise.all(received.map((t) => jwtVerify(t, gatewayKeys, { issuer: gw.issuer, audience: 'pension-office', typ: 'logout+jwt' })));
    for (const { payload, protectedHeader } of verified) {
      expect(['PS256', 'ES256']).toContain(protectedHeader.alg);
      expect(payload).toMatchObject({ sub, sid, events: { [backchannelEvent]: {} } });
      expect(payload).not.toHaveProperty('nonce');
      expect(Number(payload.exp) - Number(payload.iat)).toBeLessThanOrEqual(120);
    }
    const [first, retry] = verified.map((v) => v.payload.jti);
    expect(retry).not.toBe(first);
    expect(await auditRows('oidc.backchannel.error', 'pension-office')).toEqual([
      expect.objectContaining({ code: 'logout_delivery_failed', jti: first, attempt: 1, retry_in_ms: 1000, error: 'HTTP 500', reason: 'logout' }),
    ]);
    expect(await auditRows('oidc.backchannel.success', 'pension-office')).toEqual([expect.objectContaining({ jti: retry, attempt: 2 })]);
  }, 90_000);

  it('never gives an agency with a floor at high less: a request for substantial is verified at high, a session at substantial is not reused', async () => {
    expect(substantialSession).toBeDefined();
    const browser = substantialSession!.browser;
    // The sealed office's session (substantial) answers the sealed office at once…
    const again = await startSignIn(sealed, { browser });
    expect(again.landed.location ?? '').toContain('https://sealed.example/callback');
    // …but a code from it is refused once the sealed office's floor is raised to high, and the
    // same session no longer answers it: the token path and the session check both hold the floor.
    const raise = async (floor?: string) => {
      const row = await gw.database.db('clients').where({ client_id: 'sealed-office' }).first();
      const metadata = JSON.parse(row.metadata) as Record<string, unknown>;
      if (floor) metadata.facegate_min_acr = floor; else delete metadata.facegate_min_acr;
      await gw.database.db('clients').where({ client_id: 'sealed-office' }).update({ metadata: JSON.stringify(metadata) });
    };
    await raise(acrHigh);
    try {
      await expect(exchange(sealed, again, new URL(again.landed.location!))).rejects.toMatchObject({ error: 'invalid_grant' });
      const stepUp = await startSignIn(sealed, { browser });
      expect(await interactionJson(stepUp, stepUp.landed.url)).toMatchObject({ prompt: 'login', acr: acrHigh });
    } finally {
      await raise(undefined);
    }

    // The police (floor high) asking for substantial, in the same browser: a new face check, at high.
    const s = await startSignIn(police, { browser, acr: acrSubstantial });
    expect(s.landed.status).toBe(200);
    expect(await interactionJson(s, s.landed.url)).toMatchObject({ prompt: 'login', acr: acrHigh });
    const { face, callback } = await signIn(police, acrSubstantial, s);
    expect(face.start.json).toMatchObject({ acr: acrHigh, steps: 2 });
    expect(face.run.prompts.map((p) => p.action)).toHaveLength(3); // look straight, then two actions
    const tokens = await exchange(police, s, callback);
    expect(tokens.claims()).toMatchObject({ aud: 'police-eid', acr: acrHigh });
  }, 120_000);
});

// End to end with openid-client 6 as an independent agency: discovery → PAR (PKCE, DPoP) →
// authorization → the interaction through its JSON API with a live citizen's camera streamed to
// the server (the turn its prompt asks for performed) → consent → code → token (private_key_jwt,
// DPoP) → ID token validated → userinfo; then the refusals.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { decodeProtectedHeader } from 'jose';
import * as client from 'openid-client';
import { acrHigh, acrSubstantial, connectAgency, consentAndReturn, createAgencyKeys, interactionJson, startSignIn, verifyFace, type Agency } from '../helpers/agency.ts';
import { describeWithData, face } from '../helpers/data.ts';
import { cameraShot } from '../helpers/derive.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { citizenPhoto, warmLiveCitizen } from '../helpers/live.ts';

/**
 * `n` shots of one shared photo as a camera would deliver them: re-encoded without its metadata
 * (some carry an EXIF Software tag of Photoshop, which the risk rule flags), bytes never sent before.
 */
const shots = (photo: Buffer, n: number) => Promise.all(Array.from({ length: n }, () => cameraShot(photo)));

describeWithData('sign-in end to end', () => {
  let gw: TestGateway;
  let pension: Agency;
  let tax: Agency;
  let city: Agency;
  let citizenId: string;
  /** The live citizen's ID (the selfie video's person). */
  const nationalId = 'LM19610804';
  /** Another person's ID: the live citizen claiming it is an impostor. */
  const otherId = 'OB19610804';
  /** Where the pension office has the citizen sent after logout. */
  const loggedOut = 'https://agency.example/logged-out';

  beforeAll(async () => {
    // Shorter prompt delays and look-straight step than the defaults: the same protocol, quicker.
    gw = await startTestGateway({ capture: { stream: { promptDelayMs: [300, 700], neutralMs: 600 } } });
    citizenId = await gw.enroll(nationalId, citizenPhoto());
    await gw.enroll(otherId, face('obama', 'obama_1.jpg'));
    const pensionKeys = await createAgencyKeys('pension-office');
    const taxKeys = await createAgencyKeys('tax-office', 'https://tax.example/callback');
    await gw.registerAgency({
      clientId: pensionKeys.clientId, jwks: pensionKeys.jwks, scopes: ['openid', 'profile', 'national_id'], postLogoutRedirectUris: [loggedOut],
    });
    await gw.registerAgency({ clientId: taxKeys.clientId, jwks: taxKeys.jwks, scopes: ['openid', 'profile'], redirectUri: taxKeys.redirectUri });
    // City services registered in the pension office's sector: the two share their `sub`.
    const cityKeys = await createAgencyKeys('city-services', 'https://city.example/callback');
    await gw.registerAgency({ clientId: cityKeys.clientId, jwks: cityKeys.jwks, scopes: ['openid', 'profile'], redirectUri: cityKeys.redirectUri, sector: 'agency.example' });
    pension = await connectAgency(gw.issuer, pensionKeys);
    tax = await connectAgency(gw.issuer, taxKeys);
    city = await connectAgency(gw.issuer, cityKeys);
  });
  // The live citizen's camera is made once per file (the selfie video classified): a few seconds.
  beforeAll(warmLiveCitizen, 180_000);
  afterAll(() => gw?.close());

  it('signs a live citizen in and gives the agency a verified ID token', async () => {
    const s = await startSignIn(pension);
    expect(s.landed.status).toBe(200);
    const { it: interaction, start, submit, run, captureId } = await verifyFace(s, nationalId);
    expect(interaction).toMatchObject({ prompt: 'login', acr: acrSubstantial, client: { name: 'Agency pension-office' } });
    expect(start.status).toBe(201);
    // Substantial asks for one head turn, with high's frame counts; the start answer does not say
    // which: the stream's prompt does.
    expect(start.json).toMatchObject({
      captureId, acr: acrSubstantial, steps: 1, minFrames: 3, maxFrames: gw.config.capture.stream.maxFrames,
      stream: `${interaction.endpoints.capture}/${encodeURIComponent(captureId)}/stream`,
    });
    expect(start.json).not.toHaveProperty('actions');
    // Look straight, then the one turn the capture was started with (the audit trail keeps it).
    const started = await gw.database.db('audit_events').where({ type: 'capture.started' }).select();
    const { actions } = started.map((e) => JSON.parse(e.details) as { captureId: string; actions: string[] }).find((d) => d.captureId === captureId)!;
    expect(actions).toEqual([expect.stringMatching(/^turn_(left|right)$/)]);
    expect(run.prompts.map((p) => p.action)).toEqual(['look_straight', ...actions]);
    expect(run.error).toBeUndefined();
    expect(submit.json).toMatchObject({ status: 'verified', redirectTo: expect.any(String) });

    const back = await consentAndReturn(s, (submit.json as { redirectTo: string }).redirectTo);
    const callback = new URL(back.location!);
    expect(callback.origin + callback.pathname).toBe('https://agency.example/callback');
    const tokens = await client.authorizationCodeGrant(pension.config, callback, {
      pkceCodeVerifier: s.verifier, expectedNonce: s.nonce, expectedState: s.state, idTokenExpected: true,
    }, undefined, { DPoP: s.DPoP });
    expect(tokens.token_type.toLowerCase()).toBe('dpop');
    const claims = tokens.claims()!;
    expect(claims).toMatchObject({ iss: gw.issuer, aud: 'pension-office', nonce: s.nonce, acr: acrSubstantial });
    expect(claims.amr).toEqual(['face', 'user']);
    expect(Math.abs(Number(claims.auth_time) - Date.now() / 1000)).toBeLessThan(60);
    expect(claims.sub).not.toBe(citizenId);
    expect(['PS256', 'ES256']).toContain(decodeProtectedHeader(tokens.id_token!).alg);

    const userinfo = await client.fetchUserInfo(pension.config, tokens.access_token, claims.sub, { DPoP: s.DPoP });
    expect(userinfo).toMatchObject({ sub: claims.sub, given_name: 'Test', family_name: `Citizen ${nationalId}`, birthdate: '1961-08-04', national_id: nationalId });
    expect(userinfo.address).toBeUndefined();

    // The same session satisfies another substantial request, but never one for high.
    const again = await startSignIn(pension, { browser: s.browser });
    expect(again.landed.location ?? '').toContain('https://agency.example/callback');
    const high = await startSignIn(pension, { browser: s.browser, acr: acrHigh });
    expect(high.landed.status).toBe(200);
    expect(await interactionJson(high, high.landed.url)).toMatchObject({ prompt: 'login', acr: acrHigh });

    // The code was consumed: a second exchange fails (and revokes the grant, RFC 9700 §4.14.2).
    await expect(client.authorizationCodeGrant(pension.config, callback, {
      pkceCodeVerifier: s.verifier, expectedNonce: s.nonce, expectedState: s.state,
    }, undefined, { DPoP: s.DPoP })).rejects.toMatchObject({ error: 'invalid_grant' });
  }, 90_000);

  it('gives each sector its own pairwise subject and each agency only the scopes it is registered for', async () => {
    const subs: string[] = [];
    for (const agency of [pension, tax, city]) {
      const s = await startSignIn(agency, { scope: 'openid profile' });
      const { submit } = await verifyFace(s, nationalId);
      expect(submit.json).toMatchObject({ status: 'verified' });
      const back = await consentAndReturn(s, (submit.json as { redirectTo: string }).redirectTo);
      const tokens = await client.authorizationCodeGrant(agency.config, new URL(back.location!), {
        pkceCodeVerifier: s.verifier, expectedNonce: s.nonce, expectedState: s.state,
      }, undefined, { DPoP: s.DPoP });
      subs.push(tokens.claims()!.sub);
    }
    expect(subs[0]).not.toBe(subs[1]);
    expect(subs[2]).toBe(subs[0]);
    await expect(startSignIn(tax, { scope: 'openid national_id' })).rejects.toMatchObject({ error: 'invalid_scope' });
  }, 150_000);

  it('introspects and revokes the access token, and ends the session on RP-initiated logout', async () => {
    const s = await startSignIn(pension);
    const { submit } = await verifyFace(s, nationalId);
    expect(submit.json).toMatchObject({ status: 'verified' });
    const back = await consentAndReturn(s, (submit.json as { redirectTo: string }).redirectTo);
    const tokens = await client.authorizationCodeGrant(pension.config, new URL(back.location!), {
      pkceCodeVerifier: s.verifier, expectedNonce: s.nonce, expectedState: s.state,
    }, undefined, { DPoP: s.DPoP });
    expect(await client.tokenIntrospection(pension.config, tokens.access_token)).toMatchObject({ active: true, client_id: 'pension-office', token_type: 'DPoP' });
    // Another agency introspecting it learns nothing: not its sub, scope or key binding.
    expect(await client.tokenIntrospection(tax.config, tokens.access_token)).toEqual({ active: false });
    await client.tokenRevocation(pension.config, tokens.access_token);
    expect(await client.tokenIntrospection(pension.config, tokens.access_token)).toMatchObject({ active: false });

    // RP-initiated logout back to the agency's registered page, with its state.
    const logout = await s.browser.request(client.buildEndSessionUrl(pension.config, {
      id_token_hint: tokens.id_token!, post_logout_redirect_uri: loggedOut, state: 'bye-1',
    }).href);
    expect(logout.status).toBe(200);
    const action = /<form[^>]*action="([^"]+)"/.exec(logout.body)![1];
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(logout.body)![1];
    const done = await s.browser.request(new URL(action, gw.issuer).href, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ xsrf, logout: 'yes' }),
    });
    expect(done.status).toBe(303);
    expect(done.location).toBe(`${loggedOut}?state=bye-1`);
    // A post-logout URI the agency did not register is refused.
    const stray = await s.browser.request(client.buildEndSessionUrl(pension.config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: 'https://evil.example/' }).href);
    expect(stray.status).toBe(400);
    const after = await startSignIn(pension, { browser: s.browser });
    expect(await interactionJson(after, after.landed.url)).toMatchObject({ prompt: 'login' });
  }, 90_000);

  it('rejects an impostor and an unknown ID with the same outward answer, and issues no code', async () => {
    // The live citizen, present and cooperative, claims someone else's ID, then an unknown one.
    const impostor = await startSignIn(pension);
    const a = await verifyFace(impostor, otherId);
    const unknown = await startSignIn(pension);
    const b = await verifyFace(unknown, 'ZZ00000000');
    expect(a.submit.json).toMatchObject({ status: 'rejected', feedback: [{ code: 'not_verified' }], attemptsLeft: 2 });
    expect(b.submit.json).toEqual(a.submit.json);
    expect(Object.keys(b.start.json as object).sort()).toEqual(Object.keys(a.start.json as object).sort());
    // The stream of an unknown ID runs as a known one's: look straight, then one prompted turn.
    for (const { run } of [a, b]) expect(run.prompts.map((p) => p.action)).toEqual(['look_straight', expect.stringMatching(/^turn_(left|right)$/)]);
    expect(a.submit.json).not.toHaveProperty('redirectTo');
    // Inside, both failed on the match, after presence passed: the audit keeps the reason.
    const decided = (await gw.database.db('audit_events').where({ type: 'capture.decided' }).select())
      .map((e) => ({ code: e.code as string, ...(JSON.parse(e.details) as { captureId: string; checks: Array<{ name: string; outcome: string }> }) }));
    for (const { captureId } of [a, b]) {
      const e = decided.find((d) => d.captureId === captureId)!;
      expect(e.code).toBe('no_match');
      expect(e.checks.at(-1)).toMatchObject({ name: 'match', outcome: 'fail' });
      expect(e.checks.filter((c) => c.outcome !== 'pass')).toHaveLength(1);
      // The decision is the failed match: no step-up is recorded for a face that did not pass.
      expect((e as unknown as { risk: { action: string } }).risk.action).not.toBe('step_up');
    }
  }, 90_000);

  it('asks for a retry with guidance when the frames have no usable face', async () => {
    const s = await startSignIn(pension);
    // Three shots sent as they are, whatever the prompts, then the end of the capture: the server
    // decides on them.
    const { start, submit } = await verifyFace(s, nationalId, await shots(face('_group', 'obama_and_biden_2.jpg'), 3));
    expect(start.json).toMatchObject({ minFrames: 3 });
    expect(submit.json).toMatchObject({ status: 'retry', feedback: [{ code: 'multiple_faces' }], attemptsLeft: 3 });
  });
});

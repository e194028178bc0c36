// Proof of life, agency-initiated, over CIBA (docs/agencies.md#proof-of-life), end to end: openid-client
// 6 is the agency (private_key_jwt from its jwks_uri, DPoP-bound tokens) calling the backchannel
// authentication endpoint with a login_hint naming the citizen; the citizen is told through the
// agency's notifier (a signed webhook notice, or the link in the answer for a QR code), opens the
// one-time link in her own browser and does the real capture at high (the live citizen's frames
// over the stream, following the server's prompts); the agency gets its tokens by polling (poll
// mode) or after the gateway's ping (ping mode, received by a small HTTPS server of the test).
// Also: expiry, "this was not me" (access_denied), unknown citizens, slow_down.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { buildAgencyMetadata, registerClient, type ProofOfLifeInput } from '../../src/oidc/clients.ts';
import { acrHigh, connectAgency, consentAndReturn, createAgencyKeys, startSignIn, verifyFace, type Agency } from '../helpers/agency.ts';
import { startAgencyServer, testCertificate } from '../helpers/agency-server.ts';
import { createBrowser } from '../helpers/browser.ts';
import { describeWithData, face } from '../helpers/data.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { warmLiveCitizen } from '../helpers/live.ts';
import { openProofLink, proveLifeAt } from '../helpers/proof.ts';
import { runStream } from '../helpers/stream.ts';

const cibaGrant = 'urn:openid:params:grant-type:ciba';
type Json = Record<string, unknown>;

describeWithData('proof of life over CIBA', () => {
  const nationalId = 'LM18800116';
  const tls = testCertificate();
  let server: Awaited<ReturnType<typeof startAgencyServer>>;
  let gw: TestGateway;
  let pension: Agency; // poll mode, webhook notifier, national_id scope
  let tax: Agency; // ping mode, QR notifier, national_id scope
  let library: Agency; // poll mode, webhook, no national_id scope
  let citizenId: string;
  /** The citizen's pairwise sub at the pension office, from a sign-in there. */
  let pensionSub: string;

  async function register(clientId: string, host: string, ciba: ProofOfLifeInput, scopes: string[]): Promise<Agency> {
    const keys = await createAgencyKeys(clientId, `https://${host}/callback`);
    await registerClient(gw.database.db, buildAgencyMetadata({
      clientId, name: `Agency ${clientId}`, redirectUris: [keys.redirectUri], jwksUri: server.jwksUri(clientId, keys.jwks), scopes, ciba,
    }));
    return connectAgency(gw.issuer, keys);
  }

  const dpop = async (agency: Agency) => client.getDPoPHandle(agency.config, await client.randomDPoPKeyPair('ES256'));
  const audits = async (proofId: string) => (await gw.database.db('audit_events').where({ interaction_uid: proofId }).orderBy('id')).map((r) => r.type as string);
  const proofRow = (authReqId: string) => gw.database.db('proof_requests').where({ auth_req_id: authReqId }).first();
  /** One poll of the token endpoint, as an agency's own loop would send it; the error body when refused. */
  const pollOnce = async (agency: Agency, authReqId: string, DPoP: client.DPoPHandle) => client.genericGrantRequest(agency.config, cibaGrant, { auth_req_id: authReqId }, { DPoP })
    .then((tokens) => ({ tokens, error: undefined }), (err: { error?: string; status?: number }) => ({ tokens: undefined, error: err.error ?? String(err) }));
  const refusal = (p: Promise<unknown>) => p.then(() => ({ error: 'none' }), (err: { error?: string; status?: number; error_description?: string }) => ({ error: err.error, status: err.status }));

  const openLink = (link: string, decision: 'start' | 'deny' = 'start') => openProofLink(gw.issuer, link, decision);
  const proveLife = (link: string) => proveLifeAt(gw.issuer, link);

  beforeAll(async () => {
    server = await startAgencyServer(tls);
    gw = await startTestGateway({
      oidc: { outbound: { allowPrivateNetworks: true, caFile: tls.caFile } },
      proof: { pollIntervalSeconds: 1 },
      capture: { stream: { promptDelayMs: [300, 700], neutralMs: 600, deadlineMs: 20_000 } },
    });
    citizenId = await gw.enroll(nationalId, face('lin_manuel_miranda', 'lin_manuel_miranda_1.png'));
    pension = await register('pension-office', 'pension.example', { deliveryMode: 'poll', notifier: 'webhook', notificationUri: `${server.origin}/notify` }, ['openid', 'profile', 'national_id']);
    tax = await register('tax-office', 'tax.example', { deliveryMode: 'ping', clientNotificationEndpoint: `${server.origin}/ping`, notifier: 'qr' }, ['openid', 'profile', 'national_id']);
    library = await register('city-library', 'library.example', { deliveryMode: 'poll', notifier: 'webhook', notificationUri: `${server.origin}/notify` }, ['openid', 'profile']);
    await warmLiveCitizen();
    // The pension office knows the citizen by the pairwise sub it received when she signed in there.
    const s = await startSignIn(pension, { acr: acrHigh, scope: 'openid profile' });
    const { submit } = await verifyFace(s, nationalId);
    const back = await consentAndReturn(s, (submit.json as { redirectTo: string }).redirectTo);
    const tokens = await client.authorizationCodeGrant(pension.config, new URL(back.location!), {
      pkceCodeVerifier: s.verifier, expectedNonce: s.nonce, expectedState: s.state,
    }, undefined, { DPoP: s.DPoP });
    pensionSub = tokens.claims()!.sub;
  }, 240_000);
  afterAll(async () => {
    await gw?.close();
    await server?.close();
    tls.remove();
  });

  it('poll mode: the webhook gets a signed one-time link, the citizen verifies at high, the agency polls its tokens', async () => {
    const DPoP = await dpop(pension);
    const asked = await client.initiateBackchannelAuthentication(pension.config, {
      scope: 'openid profile', login_hint: pensionSub, binding_message: 'PENSION 2026-11', acr_values: acrHigh,
    });
    expect(asked).toMatchObject({ auth_req_id: expect.any(String), expires_in: 600, interval: 1 });
    expect(asked).not.toHaveProperty('facegate_link');

    // The notice: a JWT under the gateway's published key, for this agency, naming the request.
    const notice = await server.next('/notify', (r) => decodeJwtPayload(r.body).auth_req_id === asked.auth_req_id);
    expect(notice.contentType).toBe('application/jwt');
    expect(decodeProtectedHeader(notice.body)).toMatchObject({ alg: 'ES256', typ: 'facegate-proof-notice+jwt' });
    const { payload } = await jwtVerify(notice.body, createRemoteJWKSet(new URL(`${gw.issuer}/jwks`)), {
      issuer: gw.issuer, audience: 'pension-office', typ: 'facegate-proof-notice+jwt',
    });
    expect(payload).toMatchObject({ auth_req_id: asked.auth_req_id, binding_message: 'PENSION 2026-11', link: expect.stringMatching(new RegExp(`^${gw.issuer}/proof\\?t=[A-Za-z0-9_-]{43}$`)) });
    const link = payload.link as string;
    // Only the link's hash is kept.
    const row = await proofRow(asked.auth_req_id);
    expect(JSON.stringify(row)).not.toContain(new URL(link).searchParams.get('t'));

    // The agency polls as openid-client does (interval, then each authorization_pending) while the citizen acts.
    const polled = client.pollBackchannelAuthenticationGrant(pension.config, asked, undefined, { DPoP });
    const { browser, landing, page, run } = await proveLife(link);
    expect(landing).toMatchObject({ bindingMessage: 'PENSION 2026-11', client: { name: 'Agency pension-office' } });
    expect(page).toMatchObject({ acr: acrHigh, bindingMessage: 'PENSION 2026-11' });
    expect(run.error).toBeUndefined();
    expect(run.verdict).toMatchObject({ status: 'verified', redirectTo: `/proof/${page.id}/done` });
    expect(run.prompts.map((p) => p.action)).toHaveLength(3);

    const tokens = await polled;
    expect(tokens.token_type.toLowerCase()).toBe('dpop');
    expect(tokens.claims()).toMatchObject({ sub: pensionSub, acr: acrHigh, amr: ['face', 'user'], aud: 'pension-office', auth_time: expect.any(Number) });
    const info = await client.fetchUserInfo(pension.config, tokens.access_token, pensionSub, { DPoP });
    expect(info).toMatchObject({ sub: pensionSub, given_name: 'Test', family_name: `Citizen ${nationalId}` });

    // Her page says it is done; the link, opened again elsewhere, is used up.
    const done = await browser.request(`${gw.issuer}${page.endpoints.done}`, { headers: { accept: 'application/json' } });
    expect(done.json).toMatchObject({ state: 'verified' });
    const elsewhere = await createBrowser().request(link, { headers: { accept: 'application/json' } });
    expect(elsewhere.status).toBe(409);
    expect((elsewhere.json as { error: { code: string } }).error.code).toBe('proof_closed');

    const trail = await audits(page.id);
    expect(trail).toEqual(expect.arrayContaining(['proof.requested', 'proof.notified', 'proof.opened', 'proof.claimed', 'capture.started', 'capture.decided', 'consent.decided', 'proof.verified', 'proof.token_issued']));
    expect(trail.indexOf('proof.verified')).toBeLessThan(trail.indexOf('proof.token_issued'));
    const started = await gw.database.db('audit_events').where({ type: 'capture.started', interaction_uid: page.id }).first();
    expect(JSON.parse(started.details)).toMatchObject({ purpose: 'proof_of_life', acr: acrHigh });
    const granted = await gw.database.db('audit_events').where({ type: 'oidc.grant.success' }).orderBy('id', 'desc').first();
    expect(granted).toMatchObject({ client_id: 'pension-office', citizen_id: citizenId });
    expect(JSON.parse(granted.details)).toMatchObject({ grant_type: cibaGrant, acr: acrHigh });
  }, 120_000);

  it('ping mode: the link comes back for a QR code, the gateway pings the agency, which then takes its tokens', async () => {
    const notificationToken = randomBytes(24).toString('base64url');
    const asked = await client.initiateBackchannelAuthentication(tax.config, {
      scope: 'openid profile', login_hint: `national_id:${nationalId}`, binding_message: 'DESK 4', acr_values: acrHigh,
      client_notification_token: notificationToken,
    }) as client.BackchannelAuthenticationResponse & { facegate_link?: string };
    expect(asked).toMatchObject({ auth_req_id: expect.any(String), interval: 1, facegate_link: expect.stringContaining(`${gw.issuer}/proof?t=`) });

    const { run } = await proveLife(asked.facegate_link!);
    expect(run.verdict).toMatchObject({ status: 'verified' });
    const ping = await server.next('/ping', (r) => r.body.includes(asked.auth_req_id));
    expect(ping.authorization).toBe(`Bearer ${notificationToken}`);
    expect(JSON.parse(ping.body)).toEqual({ auth_req_id: asked.auth_req_id });

    const tokens = await client.pollBackchannelAuthenticationGrant(tax.config, asked, undefined, { DPoP: await dpop(tax) });
    const claims = tokens.claims()!;
    expect(claims).toMatchObject({ acr: acrHigh, amr: ['face', 'user'], aud: 'tax-office' });
    // Pairwise: the tax office's sub is not the pension office's.
    expect(claims.sub).not.toBe(pensionSub);
    expect((await proofRow(asked.auth_req_id)).token_issued_at).not.toBeNull();
  }, 120_000);

  it('discovery advertises CIBA; the citizen\'s pages show the binding message and ask no ID, in English and French', async () => {
    const meta = pension.config.serverMetadata();
    expect(meta).toMatchObject({
      backchannel_authentication_endpoint: `${gw.issuer}/backchannel`, backchannel_token_delivery_modes_supported: ['poll', 'ping'],
      grant_types_supported: expect.arrayContaining(['authorization_code', cibaGrant]),
    });
    const asked = await client.initiateBackchannelAuthentication(pension.config, { scope: 'openid profile', login_hint: pensionSub, binding_message: 'Caisse 7', acr_values: acrHigh });
    const link = decodeJwtPayload((await server.next('/notify', (r) => decodeJwtPayload(r.body).auth_req_id === asked.auth_req_id)).body).link as string;
    const browser = createBrowser();
    const landing = await browser.request(link, { headers: { accept: 'text/html', 'accept-language': 'fr' } });
    expect(landing.status).toBe(200);
    expect(landing.body).toContain('<p class="binding-message" id="binding-message">Caisse 7</p>');
    expect(landing.body).toContain('Preuve de vie');
    expect(landing.body).toContain('name="decision" value="deny"');
    const t = new URL(link).searchParams.get('t')!;
    const csrf = /name="csrf" value="([^"]+)"/.exec(landing.body)![1];
    const started = await browser.request(`${gw.issuer}/proof/claim`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' }, body: new URLSearchParams({ t, csrf, decision: 'start' }).toString(),
    });
    expect(started.status).toBe(303);
    const page = await browser.request(started.location!, { headers: { accept: 'text/html', 'accept-language': 'en' } });
    expect(page.body).toContain('id="sign-in-form"');
    expect(page.body).toContain('Caisse 7');
    expect(page.body).not.toContain('id="nationalId"');
    expect(page.body).toContain('This was not me');
  }, 30_000);

  it('"this was not me": access_denied, from the link\'s page or from the capture page', async () => {
    for (const where of ['link', 'page'] as const) {
      const asked = await client.initiateBackchannelAuthentication(pension.config, { scope: 'openid', login_hint: pensionSub, binding_message: `CHECK ${where}`, acr_values: acrHigh });
      const notice = await server.next('/notify', (r) => decodeJwtPayload(r.body).auth_req_id === asked.auth_req_id);
      const { browser, chosen } = await openLink(decodeJwtPayload(notice.body).link as string, where === 'link' ? 'deny' : 'start');
      if (where === 'page') {
        const page = (await browser.request(`${gw.issuer}${chosen.json.redirectTo}`, { headers: { accept: 'application/json' } })).json as { csrf: string; endpoints: { deny: string } };
        const denied = await browser.request(`${gw.issuer}${page.endpoints.deny}`, { method: 'POST', headers: { accept: 'application/json', 'x-csrf-token': page.csrf } });
        expect(denied.json).toMatchObject({ redirectTo: expect.stringMatching(/\/done$/) });
      }
      const refused = await refusal(client.pollBackchannelAuthenticationGrant(pension.config, asked, undefined, { DPoP: await dpop(pension) }));
      expect(refused).toEqual({ error: 'access_denied', status: 400 });
      const row = await proofRow(asked.auth_req_id);
      expect(row.state).toBe('denied');
      expect(await audits(row.id)).toEqual(expect.arrayContaining(['proof.claimed', 'proof.denied']));
    }
  }, 60_000);

  it('an expired request: expired_token to the agency, proof_expired to the citizen, audited', async () => {
    const DPoP = await dpop(pension);
    const asked = await client.initiateBackchannelAuthentication(pension.config, {
      scope: 'openid', login_hint: pensionSub, binding_message: 'SOON GONE', acr_values: acrHigh, requested_expiry: '2',
    });
    expect(asked.expires_in).toBe(2);
    const notice = await server.next('/notify', (r) => decodeJwtPayload(r.body).auth_req_id === asked.auth_req_id);
    await new Promise((r) => setTimeout(r, 2500));
    expect(await pollOnce(pension, asked.auth_req_id, DPoP)).toMatchObject({ error: 'expired_token' });
    const opened = await createBrowser().request(decodeJwtPayload(notice.body).link as string, { headers: { accept: 'application/json' } });
    expect(opened.status).toBe(410);
    expect((opened.json as { error: { code: string } }).error.code).toBe('proof_expired');
    const row = await proofRow(asked.auth_req_id);
    expect(row.state).toBe('expired');
    expect(await audits(row.id)).toEqual(expect.arrayContaining(['proof.requested', 'proof.notified', 'proof.expired']));
  }, 30_000);

  it('unknown citizens and hints the agency may not use are refused as CIBA says', async () => {
    const ask = (agency: Agency, params: Record<string, string>) => refusal(client.initiateBackchannelAuthentication(agency.config, { scope: 'openid', binding_message: 'HELLO', acr_values: acrHigh, ...params }));
    // A sub this agency never received (another agency's, or made up), an ID not in the registry.
    expect(await ask(pension, { login_hint: randomBytes(32).toString('base64url') })).toEqual({ error: 'unknown_user_id', status: 400 });
    expect(await ask(tax, { login_hint: pensionSub, client_notification_token: 'tok' })).toEqual({ error: 'unknown_user_id', status: 400 });
    expect(await ask(pension, { login_hint: 'national_id:ZZ00000000' })).toEqual({ error: 'unknown_user_id', status: 400 });
    // The national ID only for agencies entitled to it.
    expect(await ask(library, { login_hint: `national_id:${nationalId}` })).toEqual({ error: 'invalid_request', status: 400 });
    // A binding message is required.
    expect(await refusal(client.initiateBackchannelAuthentication(pension.config, { scope: 'openid', login_hint: pensionSub }))).toEqual({ error: 'invalid_binding_message', status: 400 });
    const errors = await gw.database.db('audit_events').where({ type: 'oidc.backchannel_authentication.error' }).select('code', 'client_id');
    expect(errors).toEqual(expect.arrayContaining([{ code: 'unknown_user_id', client_id: 'pension-office' }, { code: 'invalid_request', client_id: 'city-library' }]));
  }, 30_000);

  it('slow_down to a poll sooner than the interval, and the interval grows by 5 s', async () => {
    const DPoP = await dpop(pension);
    const asked = await client.initiateBackchannelAuthentication(pension.config, { scope: 'openid', login_hint: pensionSub, binding_message: 'SLOW DOWN', acr_values: acrHigh });
    await new Promise((r) => setTimeout(r, 1100));
    expect(await pollOnce(pension, asked.auth_req_id, DPoP)).toMatchObject({ error: 'authorization_pending' });
    expect(await pollOnce(pension, asked.auth_req_id, DPoP)).toMatchObject({ error: 'slow_down' });
    const row = await proofRow(asked.auth_req_id);
    expect(row.interval_seconds).toBe(6);
    // 1.1 s later is now too soon as well: the interval is 6 s.
    await new Promise((r) => setTimeout(r, 1100));
    expect(await pollOnce(pension, asked.auth_req_id, DPoP)).toMatchObject({ error: 'slow_down' });
    expect((await gw.database.db('audit_events').where({ type: 'proof.slow_down', interaction_uid: row.id })).length).toBe(2);
    // Neither the pending answer nor slow_down is an error row of its own: the chain does not grow with polling.
    expect(await gw.database.db('audit_events').where({ type: 'oidc.grant.error' }).whereIn('code', ['authorization_pending', 'slow_down'])).toEqual([]);
  }, 30_000);
});

function decodeJwtPayload(jwt: string): Json {
  try {
    return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Json;
  } catch {
    return {};
  }
}

// End to end with openid-client 6 as the agency and a software WebAuthn authenticator (real ES256
// registrations and assertions, test/helpers/passkey-authenticator.ts): a live citizen's face, then
// the passkey offer at the sign-in, the passkey added; the next sign-in is face then passkey and the
// agency's ID token says amr face, user, hwk; an agency that requires a possession factor refuses
// face only; after the passkey is removed, the next sign-in is face only again.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import * as client from 'openid-client';
import { buildAgencyMetadata, registerClient } from '../../src/oidc/clients.ts';
import { createAudit } from '../../src/audit/log.ts';
import { listPasskeys, removePasskey } from '../../src/passkeys/store.ts';
import { connectAgency, consentAndReturn, createAgencyKeys, startSignIn, verifyFace, type Agency, type SignIn } from '../helpers/agency.ts';
import { describeWithData } from '../helpers/data.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { citizenPhoto, warmLiveCitizen } from '../helpers/live.ts';
import { softAuthenticator, type SoftAuthenticator } from '../helpers/passkey-authenticator.ts';

describeWithData('passkeys end to end', () => {
  let gw: TestGateway;
  let pension: Agency;
  let police: Agency;
  let citizenId: string;
  let device: SoftAuthenticator;
  const nationalId = 'LM19610804';

  beforeAll(async () => {
    gw = await startTestGateway({ capture: { stream: { promptDelayMs: [300, 700], neutralMs: 600 } } }, { host: 'localhost' });
    citizenId = await gw.enroll(nationalId, citizenPhoto());
    const pensionKeys = await createAgencyKeys('pension-office');
    await gw.registerAgency({ clientId: pensionKeys.clientId, jwks: pensionKeys.jwks, scopes: ['openid', 'profile'] });
    const policeKeys = await createAgencyKeys('police-eid', 'https://police.example/callback');
    await registerClient(gw.database.db, buildAgencyMetadata({
      clientId: policeKeys.clientId, name: 'Police e-ID', redirectUris: [policeKeys.redirectUri], jwks: policeKeys.jwks, scopes: ['openid', 'profile'], requirePossession: true,
    }));
    pension = await connectAgency(gw.issuer, pensionKeys);
    police = await connectAgency(gw.issuer, policeKeys);
    device = softAuthenticator({ rpId: 'localhost', origin: gw.issuer });
  });
  beforeAll(warmLiveCitizen, 180_000);
  afterAll(() => gw?.close());

  /** Face verified: answers where the verdict sends the browser. */
  async function face(s: SignIn): Promise<string> {
    const { submit } = await verifyFace(s, nationalId);
    expect(submit.json).toMatchObject({ status: 'verified', redirectTo: expect.any(String) });
    return (submit.json as { redirectTo: string }).redirectTo;
  }
  type StepJson = { mode: string; required: boolean; csrf: string; endpoints: Record<string, string> };
  const step = async (s: SignIn, url: string) => (await s.browser.request(url, { headers: { accept: 'application/json' } })).json as StepJson;
  const post = async (s: SignIn, st: StepJson, path: string, body: unknown) => s.browser.request(`${gw.issuer}${path}`, {
    method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': st.csrf }, body: JSON.stringify(body),
  });
  async function idToken(agency: Agency, s: SignIn, back: { location?: string }) {
    const tokens = await client.authorizationCodeGrant(agency.config, new URL(back.location!), {
      pkceCodeVerifier: s.verifier, expectedNonce: s.nonce, expectedState: s.state, idTokenExpected: true,
    }, undefined, { DPoP: s.DPoP });
    return tokens.claims()!;
  }

  it('offers a passkey after the face; the one added makes the next sign-in face + hwk', async () => {
    const s = await startSignIn(pension, { scope: 'openid profile' });
    const next = await face(s);
    expect(next).toBe(`${new URL(s.landed.url).origin}/interaction/${new URL(s.landed.url).pathname.split('/')[2]}/passkey`);
    const offer = await step(s, next);
    expect(offer).toMatchObject({ mode: 'offer', required: false });
    const options = (await post(s, offer, offer.endpoints.options, {})).json as { challenge: string };
    const added = await post(s, offer, offer.endpoints.register, { response: device.register(options) });
    expect(added.status).toBe(200);
    expect((await listPasskeys(gw.database.db, citizenId)).map((p) => p.kind)).toEqual(['hwk']);
    // The passkey counts from the next sign-in: this one is the face's.
    const first = await idToken(pension, s, await consentAndReturn(s, (added.json as { redirectTo: string }).redirectTo));
    expect(first.amr).toEqual(['face', 'user']);

    const again = await startSignIn(pension, { scope: 'openid profile' });
    const ask = await step(again, await face(again));
    expect(ask).toMatchObject({ mode: 'assert', required: false });
    const request = (await post(again, ask, ask.endpoints.options, {})).json as { challenge: string };
    const used = await post(again, ask, ask.endpoints.authenticate, { response: device.assert(request) });
    expect(used.status).toBe(200);
    const claims = await idToken(pension, again, await consentAndReturn(again, (used.json as { redirectTo: string }).redirectTo));
    expect(claims.amr).toEqual(['face', 'user', 'hwk']);
    expect(claims.acr).toBe('http://eidas.europa.eu/LoA/substantial');
  });

  it('an agency that requires a possession factor: face only is refused, face + passkey is not', async () => {
    const s = await startSignIn(police, { scope: 'openid profile' });
    const ask = await step(s, await face(s));
    expect(ask).toMatchObject({ mode: 'assert', required: true });
    const refused = await post(s, ask, ask.endpoints.skip, { action: 'face_only' });
    const back = await s.browser.follow((refused.json as { redirectTo: string }).redirectTo, s.issuer);
    const callback = new URL(back.location!);
    expect(callback.searchParams.get('error')).toBe('unmet_authentication_requirements');
    expect(callback.searchParams.get('error_description')).toMatch(/^possession_required/);

    const ok = await startSignIn(police, { scope: 'openid profile' });
    const st = await step(ok, await face(ok));
    const request = (await post(ok, st, st.endpoints.options, {})).json as { challenge: string };
    const used = await post(ok, st, st.endpoints.authenticate, { response: device.assert(request) });
    const claims = await idToken(police, ok, await consentAndReturn(ok, (used.json as { redirectTo: string }).redirectTo));
    expect(claims.amr).toEqual(['face', 'user', 'hwk']);
  });

  it('after the passkey is removed, the next sign-in is face only', async () => {
    const [mine] = await listPasskeys(gw.database.db, citizenId);
    expect(await removePasskey(gw.database.db, createAudit(gw.database.db), { citizenId, id: mine.id, actor: 'operator' })).toBe(true);
    const s = await startSignIn(pension, { scope: 'openid profile' });
    const offer = await step(s, await face(s));
    expect(offer.mode).toBe('offer');
    const later = await post(s, offer, offer.endpoints.skip, { action: 'later' });
    const claims = await idToken(pension, s, await consentAndReturn(s, (later.json as { redirectTo: string }).redirectTo));
    expect(claims.amr).toEqual(['face', 'user']);
  });
});

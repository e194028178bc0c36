// What agencies see of a remote onboarding, end to end with openid-client 6 as the agencies: a
// citizen onboarded on the test gateway (synthetic passport, the live citizen at high) signs in with
// amr face, user, remote_onboarded (the grant's audit row too); an agency registered with
// --refuse-remote-onboarded-at-high refuses her at high (unmet_authentication_requirements, audited)
// but not at substantial; after an operator's in-person check she signs in there at high, amr
// face, user.
import { afterAll, beforeAll, expect, it, jest } from '@jest/globals';
import * as client from 'openid-client';
import { buildAgencyMetadata, registerClient } from '../../src/oidc/clients.ts';
import { confirmOnboarding } from '../../src/onboarding/operator.ts';
import {
  acrHigh, acrSubstantial, connectAgency, consentAndReturn, createAgencyKeys, interactionJson, startSignIn, verifyFace, type Agency, type SignIn,
} from '../helpers/agency.ts';
import { describeWithData } from '../helpers/data.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { citizenPhoto, liveCamera, warmLiveCitizen } from '../helpers/live.ts';
import { beginOnboarding, captureLive, registerWithoutPhoto, sendDocument } from '../helpers/onboarding.ts';
import { syntheticDocument, yearsFromNow } from '../helpers/synthetic-document.ts';

jest.setTimeout(240_000);
const nationalId = 'LMRE000001';

describeWithData('remote onboarding as agencies see it', () => {
  let gw: TestGateway;
  let pension: Agency;
  let tax: Agency;
  let citizenId: string;

  beforeAll(async () => {
    gw = await startTestGateway({ capture: { stream: { promptDelayMs: [300, 700], neutralMs: 600, deadlineMs: 15_000 } } });
    const pensionKeys = await createAgencyKeys('pension-office');
    await gw.registerAgency({ clientId: pensionKeys.clientId, jwks: pensionKeys.jwks, scopes: ['openid', 'profile'] });
    const taxKeys = await createAgencyKeys('tax-office', 'https://tax.example/callback');
    await registerClient(gw.database.db, buildAgencyMetadata({
      clientId: taxKeys.clientId, name: 'Tax office', redirectUris: [taxKeys.redirectUri], jwks: taxKeys.jwks, scopes: ['openid', 'profile'],
      refuseRemoteOnboardedAtHigh: true,
    }));
    pension = await connectAgency(gw.issuer, pensionKeys);
    tax = await connectAgency(gw.issuer, taxKeys);
  }, 120_000);
  beforeAll(warmLiveCitizen, 180_000);
  beforeAll(async () => {
    citizenId = await registerWithoutPhoto(gw.database.db, { nationalId, givenName: 'Lin-Manuel', familyName: 'Miranda', birthdate: '1980-01-16' });
    const o = await beginOnboarding(gw.issuer, nationalId);
    const passport = await syntheticDocument({
      surname: 'MIRANDA', givenNames: 'LIN MANUEL', birthdate: '1980-01-16', number: 'LM4455667', sex: 'M',
      portrait: citizenPhoto(), expiry: yearsFromNow(5), seed: 5,
    });
    expect((await sendDocument(gw.issuer, o, passport)).status).toBe(200);
    expect((await captureLive(gw.issuer, o, await liveCamera())).verdict).toMatchObject({ status: 'verified' });
    expect((await o.page()).state).toBe('onboarded');
  }, 180_000);
  afterAll(() => gw?.close());

  /** A sign-in at `agency` at `acr` with the live face (in `browser`'s session if given): the agency's callback URL. */
  async function signIn(agency: Agency, acr: string, browser?: SignIn['browser']) {
    const s = await startSignIn(agency, { acr, scope: 'openid profile', ...(browser ? { browser } : {}) });
    // A loaded machine may cost the live capture an attempt (a late frame): the page streams again.
    const { submit } = await verifyFace(s, nationalId, undefined, { retries: 1 });
    expect(submit.json).toMatchObject({ status: 'verified', redirectTo: expect.any(String) });
    const back = await consentAndReturn(s, (submit.json as { redirectTo: string }).redirectTo);
    const callback = new URL(back.location!);
    const claims = async () => (await client.authorizationCodeGrant(agency.config, callback, {
      pkceCodeVerifier: s.verifier, expectedNonce: s.nonce, expectedState: s.state, idTokenExpected: true,
    }, undefined, { DPoP: s.DPoP })).claims()!;
    return { callback, claims, browser: s.browser };
  }
  const grants = async () => (await gw.database.db('audit_events').where({ type: 'oidc.grant.success', citizen_id: citizenId }).orderBy('id'))
    .map((e: { client_id: string; details: string }) => ({ clientId: e.client_id, amr: JSON.parse(e.details).amr as string[] }));

  it('her sign-ins say she was onboarded remotely: amr remote_onboarded in the ID token and the audit', async () => {
    const claims = await (await signIn(pension, acrHigh)).claims();
    expect(claims).toMatchObject({ acr: acrHigh, amr: ['face', 'user', 'remote_onboarded'] });
    expect(await grants()).toEqual([{ clientId: 'pension-office', amr: ['face', 'user', 'remote_onboarded'] }]);
  });

  it('an agency that refuses remote onboardings at high refuses her there, audited, and not at substantial', async () => {
    const refused = await signIn(tax, acrHigh);
    expect(refused.callback.searchParams.get('error')).toBe('unmet_authentication_requirements');
    expect(refused.callback.searchParams.get('error_description')).toMatch(/^in_person_check_required/);
    const events = await gw.database.db('audit_events').where({ type: 'onboarding.sign_in_refused', citizen_id: citizenId });
    expect(events.map((e: { client_id: string; code: string }) => [e.client_id, e.code])).toEqual([['tax-office', 'in_person_check_required']]);
    const lower = await (await signIn(tax, acrSubstantial)).claims();
    expect(lower).toMatchObject({ acr: acrSubstantial, amr: ['face', 'user', 'remote_onboarded'] });
  });

  it('her session at high from another agency does not carry her into that agency: she signs in again and is refused', async () => {
    const first = await signIn(pension, acrHigh);
    await first.claims();
    const sso = await startSignIn(tax, { acr: acrHigh, scope: 'openid profile', browser: first.browser });
    expect((await interactionJson(sso, sso.landed.url)).prompt).toBe('login');
    const again = await signIn(tax, acrHigh, first.browser);
    expect(again.callback.searchParams.get('error')).toBe('unmet_authentication_requirements');
  });

  it('after the in-person check she signs in at high there, without the mark', async () => {
    await confirmOnboarding(gw.database.db, { citizenId, operator: 'desk-3', secrets: gw.config.secrets });
    const claims = await (await signIn(tax, acrHigh)).claims();
    expect(claims).toMatchObject({ acr: acrHigh, amr: ['face', 'user'] });
  });
});

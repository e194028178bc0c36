// OpenID Connect for Identity Assurance and purpose-bound consent, end to end with openid-client 6
// as the agency: verified_claims asked for through the claims parameter at high come back in the
// ID token and userinfo with the face check as evidence, cut to what was asked, what the agency is
// entitled to and what the citizen agreed to; RFC 9396 authorization_details are shown on the
// consent page in English and French, kept with the consent, audited and returned in the token
// response; unknown or malformed ones are refused at PAR with invalid_authorization_details.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as client from 'openid-client';
import { acrHigh, acrSubstantial, connectAgency, createAgencyKeys, interactionJson, startSignIn, verifyFace, type Agency, type SignIn } from '../helpers/agency.ts';
import { describeWithData } from '../helpers/data.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { citizenPhoto, warmLiveCitizen } from '../helpers/live.ts';

let gw: TestGateway;
/** Entitled to profile, not national_id; no authorization_details type. */
let police: Agency;
/** Entitled to profile and national_id, and to both authorization_details types. */
let pension: Agency;
const nationalId = 'LM19610805';
const trustFramework = 'xx_national_eid';

const details = [{ type: 'pension_life_certificate' }, { type: 'tax_record_access', year: 2025 }];
/** Pushes a request with these extra parameters (as startSignIn does), without opening it. */
const push = async (agency: Agency, params: Record<string, string>) => client.buildAuthorizationUrlWithPAR(agency.config, {
  redirect_uri: agency.redirectUri, scope: 'openid', acr_values: acrSubstantial, nonce: client.randomNonce(),
  code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: 'S256', ...params,
}, { DPoP: client.getDPoPHandle(agency.config, await client.randomDPoPKeyPair('ES256')) });

beforeAll(async () => {
  gw = await startTestGateway({
    oidc: { trustFramework, registryName: 'Test citizen registry' },
    capture: { stream: { promptDelayMs: [300, 700], neutralMs: 600, deadlineMs: 20_000 } },
  });
  const policeKeys = await createAgencyKeys('police-eid');
  await gw.registerAgency({ clientId: policeKeys.clientId, jwks: policeKeys.jwks, scopes: ['openid', 'profile'] });
  const pensionKeys = await createAgencyKeys('pension-office', 'https://pension.example/callback');
  await gw.registerAgency({
    clientId: pensionKeys.clientId, jwks: pensionKeys.jwks, scopes: ['openid', 'profile', 'national_id'], redirectUri: pensionKeys.redirectUri,
    authorizationDetailsTypes: ['pension_life_certificate', 'tax_record_access'],
  });
  police = await connectAgency(gw.issuer, policeKeys);
  pension = await connectAgency(gw.issuer, pensionKeys);
}, 60_000);
afterAll(() => gw?.close());

describe('discovery and refused requests', () => {
  it('publishes the Identity Assurance metadata, the claims parameter and the authorization_details types', async () => {
    const m = pension.config.serverMetadata() as Record<string, unknown>;
    expect(m).toMatchObject({
      claims_parameter_supported: true,
      verified_claims_supported: true,
      trust_frameworks_supported: [trustFramework],
      evidence_supported: ['electronic_record'],
      electronic_records_supported: ['population_register'],
      claims_in_verified_claims_supported: ['given_name', 'family_name', 'birthdate', 'address', 'national_id'],
      authorization_details_types_supported: ['pension_life_certificate', 'tax_record_access'],
    });
    expect(m.claims_supported).toContain('verified_claims');
    // Evidence of type document is never given: nothing about documents is advertised.
    expect(m).not.toHaveProperty('documents_supported');
  });

  it('accepts well-formed authorization_details of the agency\'s types (the control case)', async () => {
    await expect(push(pension, { authorization_details: JSON.stringify(details) })).resolves.toBeInstanceOf(URL);
  });

  it.each([
    ['an unknown type', [{ type: 'bank_statement' }], /unsupported authorization details type/],
    ['a tax record without its year', [{ type: 'tax_record_access' }], /tax_record_access: year/],
    ['a year as a string', [{ type: 'tax_record_access', year: '2025' }], /tax_record_access: year/],
    ['a year in the future', [{ type: 'tax_record_access', year: 2999 }], /tax_record_access: year: must not be in the future/],
    ['a member the type does not have', [{ type: 'pension_life_certificate', amount: 1200 }], /pension_life_certificate: amount/],
    ['an object instead of an array', { type: 'pension_life_certificate' }, /JSON array/],
    ['a detail without a type', [{ year: 2025 }], /type attribute/],
  ])('refuses %s with invalid_authorization_details', async (_name, value, description) => {
    await expect(push(pension, { authorization_details: JSON.stringify(value) }))
      .rejects.toMatchObject({ error: 'invalid_authorization_details', error_description: expect.stringMatching(description) });
  });

  it('refuses a type the agency is not registered for', async () => {
    await expect(push(police, { authorization_details: JSON.stringify([{ type: 'pension_life_certificate' }]) }))
      .rejects.toMatchObject({ error: 'invalid_authorization_details', error_description: expect.stringMatching(/not allowed for this client/) });
  });

  it('refuses a malformed verified_claims request with invalid_request', async () => {
    await expect(push(police, { claims: JSON.stringify({ id_token: { verified_claims: { verification: { trust_framework: null } } } }) }))
      .rejects.toMatchObject({ error: 'invalid_request', error_description: expect.stringMatching(/verified_claims\.claims/) });
    // The same request with its claims is accepted.
    await expect(push(police, { claims: JSON.stringify({ id_token: { verified_claims: { verification: { trust_framework: null }, claims: { given_name: null } } } }) }))
      .resolves.toBeInstanceOf(URL);
  });
});

describeWithData('verified claims and purpose-bound consent', () => {
  let citizenId: string;
  beforeAll(async () => {
    citizenId = await gw.enroll(nationalId, citizenPhoto());
  });
  beforeAll(warmLiveCitizen, 180_000);

  /** After `verified`: to the consent page, its JSON form, then the HTML in English and French. */
  async function atConsent(s: SignIn, redirectTo: string) {
    const hop = await s.browser.follow(redirectTo, s.issuer);
    const it = await interactionJson(s, hop.url);
    expect(it.prompt).toBe('consent');
    const page = async (lang: string) => (await s.browser.request(`${hop.url}?lang=${lang}`, { headers: { accept: 'text/html' } })).body;
    return { url: hop.url, it, en: await page('en'), fr: await page('fr') };
  }
  async function allow(s: SignIn, it: Awaited<ReturnType<typeof atConsent>>['it']) {
    const decided = await s.browser.request(`${s.issuer}${it.endpoints.consent}`, {
      method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': it.csrf },
      body: JSON.stringify({ decision: 'allow' }),
    });
    return s.browser.follow((decided.json as { redirectTo: string }).redirectTo, s.issuer);
  }
  const exchange = (agency: Agency, s: SignIn, location: string) => client.authorizationCodeGrant(agency.config, new URL(location), {
    pkceCodeVerifier: s.verifier, expectedNonce: s.nonce, expectedState: s.state, idTokenExpected: true,
  }, undefined, { DPoP: s.DPoP });

  it('returns verified_claims at high in the ID token and userinfo, only what was asked and allowed', async () => {
    const verifiedNames = { given_name: null, family_name: null, national_id: null };
    const claims = {
      id_token: {
        verified_claims: {
          verification: {
            trust_framework: null, assurance_level: null, time: null,
            evidence: [{ type: { value: 'electronic_record' }, check_details: [{ check_method: null }], record: { type: null, source: null } }],
          },
          claims: verifiedNames,
        },
      },
      // Userinfo asks for less verification data, one claim more, and national_id by name too.
      userinfo: { national_id: null, verified_claims: { verification: { trust_framework: null }, claims: { ...verifiedNames, birthdate: null } } },
    };
    const s = await startSignIn(police, { acr: acrHigh, scope: 'openid', params: { claims: JSON.stringify(claims) } });
    const { submit } = await verifyFace(s, nationalId);
    expect(submit.json).toMatchObject({ status: 'verified' });

    // The consent page lists the verified claims the agency may get; never the national ID.
    const consent = await atConsent(s, (submit.json as { redirectTo: string }).redirectTo);
    expect(consent.en).toContain('confirmed by the citizen registry');
    for (const label of ['Your first name', 'Your family name', 'Your date of birth']) expect(consent.en).toContain(label);
    expect(consent.en).not.toContain('Your national ID number');
    expect(consent.fr).toContain('confirmé par le registre des citoyens');
    expect(consent.fr).toContain('Votre prénom');
    const back = await allow(s, consent.it);

    const tokens = await exchange(police, s, back.location!);
    const idToken = tokens.claims()!;
    expect(idToken.acr).toBe(acrHigh);
    const time = new Date(Number(idToken.auth_time) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    expect(idToken.verified_claims).toEqual({
      verification: {
        trust_framework: trustFramework, assurance_level: 'high', time,
        evidence: [{
          type: 'electronic_record',
          check_details: [{ check_method: 'bvr' }, { check_method: 'biopad' }],
          record: { type: 'population_register', source: { name: 'Test citizen registry' } },
        }],
      },
      claims: { given_name: 'Test', family_name: `Citizen ${nationalId}` },
    });
    // Nothing outside verified_claims that was not asked for.
    expect(idToken).not.toHaveProperty('given_name');

    const userinfo = await client.fetchUserInfo(police.config, tokens.access_token, idToken.sub, { DPoP: s.DPoP });
    expect(userinfo.verified_claims).toEqual({
      verification: { trust_framework: trustFramework },
      claims: { given_name: 'Test', family_name: `Citizen ${nationalId}`, birthdate: '1961-08-04' },
    });
    expect(userinfo).not.toHaveProperty('national_id');
    expect(userinfo).not.toHaveProperty('given_name');

    // The access token remembers the level and time of the face check (RFC 9470 names).
    expect(await client.tokenIntrospection(police.config, tokens.access_token)).toMatchObject({ active: true, acr: acrHigh, auth_time: idToken.auth_time });
    // The consent kept each verified claim by name.
    const row = await gw.database.db('consents').where({ citizen_id: citizenId, client_id: 'police-eid' }).first();
    expect(JSON.parse(row.claims)).toEqual(expect.arrayContaining(['verified_claims.given_name', 'verified_claims.family_name', 'verified_claims.birthdate']));
    expect(JSON.parse(row.claims)).not.toContain('verified_claims.national_id');
  }, 120_000);

  it('shows the authorization_details on the consent page, keeps and audits them, and returns them in the token response', async () => {
    const s = await startSignIn(pension, { scope: 'openid profile', params: { authorization_details: JSON.stringify(details) } });
    const { submit } = await verifyFace(s, nationalId);
    expect(submit.json).toMatchObject({ status: 'verified' });

    const consent = await atConsent(s, (submit.json as { redirectTo: string }).redirectTo);
    expect(consent.en).toContain('may use this sign-in for:');
    expect(consent.en).toContain('<li>Proof of life for your pension</li>');
    expect(consent.en).toContain('<li>Your tax record for 2025</li>');
    expect(consent.fr).toContain('utilise cette connexion pour :');
    expect(consent.fr).toContain('<li>Le certificat de vie pour votre pension</li>');
    expect(consent.fr).toContain('<li>Votre dossier fiscal de 2025</li>');
    const back = await allow(s, consent.it);

    const tokens = await exchange(pension, s, back.location!);
    expect(tokens.authorization_details).toEqual(details);
    expect(await client.tokenIntrospection(pension.config, tokens.access_token)).toMatchObject({ active: true, authorization_details: details });

    const row = await gw.database.db('consents').where({ citizen_id: citizenId, client_id: 'pension-office' }).first();
    expect(row).toMatchObject({ decision: 'allow', scopes: 'openid profile' });
    expect(JSON.parse(row.authorization_details)).toEqual(details);
    const event = await gw.database.db('audit_events').where({ type: 'consent.decided', client_id: 'pension-office' }).orderBy('id', 'desc').first();
    expect(JSON.parse(event.details)).toMatchObject({ decision: 'allow', authorization_details: details });

    // Purpose-bound: the next sign-in of the same session asks for none and gets none, without a
    // consent page (the scopes are granted); one asking for another year is asked again.
    const again = await startSignIn(pension, { browser: s.browser, scope: 'openid profile' });
    expect(again.landed.location ?? '').toContain(pension.redirectUri);
    const plain = await exchange(pension, again, again.landed.location!);
    expect(plain.authorization_details).toBeUndefined();

    const other = [{ type: 'tax_record_access', year: 2024 }];
    const third = await startSignIn(pension, { browser: s.browser, scope: 'openid profile', params: { authorization_details: JSON.stringify(other) } });
    const page = await third.browser.request(third.landed.url, { headers: { accept: 'text/html' } });
    expect(page.body).toContain('Votre dossier fiscal de 2024'); // the language chosen above is kept
    const it3 = await interactionJson(third, third.landed.url);
    expect(it3.prompt).toBe('consent');
    const done = await allow(third, it3);
    expect((await exchange(pension, third, done.location!)).authorization_details).toEqual(other);
  }, 120_000);
});

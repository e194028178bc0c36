// The verified_claims answer (OpenID Connect for Identity Assurance 1.0 §5): only the members and
// claims asked for, releasable and available; a constraint on the verification the sign-in does not
// meet omits the whole element, one on a claim omits that claim; malformed requests are named.
import { describe, expect, it } from '@jest/globals';
import { buildVerifiedClaims, requestedVerifiedClaims, verifiedClaimsRequestProblem } from '../../../src/oidc/verified-claims.ts';

const settings = { trustFramework: 'eidas', registryName: 'Citizen registry' };
const citizen = { given_name: 'Ada', family_name: 'Lovelace', birthdate: '1990-12-10', national_id: 'AL19901210' };
const all = new Set(Object.keys(citizen));
const at = 1_767_605_412; // 2026-01-05T09:30:12Z
const high = { acr: 'http://eidas.europa.eu/LoA/high', authTime: at };
const build = (verification: object, claims: object = { given_name: null }, releasable: Set<string> = all, now = at + 60) =>
  buildVerifiedClaims({ verification, claims }, citizen, releasable, high, settings, now);

describe('buildVerifiedClaims', () => {
  it('gives trust_framework always, and the other verification members only when asked', () => {
    expect(build({})).toEqual({ verification: { trust_framework: 'eidas' }, claims: { given_name: 'Ada' } });
    expect(build({ assurance_level: null, time: null })).toEqual({
      verification: { trust_framework: 'eidas', assurance_level: 'high', time: '2026-01-05T09:30:12Z' }, claims: { given_name: 'Ada' },
    });
  });

  it('shapes the evidence by the template', () => {
    expect(build({ evidence: [{ type: { value: 'electronic_record' } }] })!.verification).toMatchObject({ evidence: [{ type: 'electronic_record' }] });
    expect(build({ evidence: [{ type: { value: 'electronic_record' }, check_details: [{ check_method: { value: 'bvr' }, time: null }], record: { type: null } }] })!.verification)
      .toMatchObject({ evidence: [{ type: 'electronic_record', check_details: [{ check_method: 'bvr', time: '2026-01-05T09:30:12Z' }], record: { type: 'population_register' } }] });
  });

  it.each([
    ['another trust framework', { trust_framework: { value: 'de_aml' } }],
    ['another assurance level', { assurance_level: { values: ['low'] } }],
    ['a verification older than max_age', { time: { max_age: 30 } }],
    ['evidence of type document', { evidence: [{ type: { value: 'document' } }] }],
    ['a check method not used', { evidence: [{ type: { value: 'electronic_record' }, check_details: [{ check_method: { value: 'kbv' } }] }] }],
  ])('omits the whole element for %s', (_name, verification) => {
    expect(build(verification)).toBeUndefined();
  });

  it('meets the constraints it can (the control cases)', () => {
    expect(build({ trust_framework: { values: ['de_aml', 'eidas'] }, assurance_level: { value: 'high' }, time: { max_age: 120 } })).toBeDefined();
  });

  it('releases only the releasable, available claims matching their constraints', () => {
    const claims = { given_name: { value: 'Ada' }, family_name: { value: 'Byron' }, national_id: null, nationalities: null };
    expect(build({}, claims, new Set(['given_name', 'family_name']))!.claims).toEqual({ given_name: 'Ada' });
    expect(build({}, { national_id: null }, new Set(['given_name']))).toBeUndefined();
  });
});

describe('the request', () => {
  it('names the claims asked for inside verified_claims that are supported and entitled', () => {
    const parameter = JSON.stringify({
      id_token: { given_name: null, verified_claims: { verification: {}, claims: { given_name: null, national_id: null, nickname: null } } },
      userinfo: { verified_claims: { verification: {}, claims: { birthdate: null } } },
    });
    expect(requestedVerifiedClaims(parameter, new Set(['given_name', 'birthdate']))).toEqual(['given_name', 'birthdate']);
  });

  it.each([
    [{ id_token: { verified_claims: { claims: { given_name: null } } } }, /verification must be an object/],
    [{ id_token: { verified_claims: { verification: {}, claims: {} } } }, /claims must be a non-empty object/],
    [{ userinfo: { verified_claims: { verification: {}, claims: { given_name: true } } } }, /given_name must be null or an object/],
    [{ userinfo: { verified_claims: { verification: { evidence: {} }, claims: { given_name: null } } } }, /evidence must be an array/],
    [{ userinfo: { verified_claims: [] } }, /empty array/],
  ])('refuses a malformed request %#', (parameter, problem) => {
    expect(verifiedClaimsRequestProblem(parameter)).toMatch(problem);
  });

  it('accepts a well-formed one, and a claims parameter without verified_claims', () => {
    expect(verifiedClaimsRequestProblem({ id_token: { verified_claims: { verification: { trust_framework: null }, claims: { given_name: null } } } })).toBeUndefined();
    expect(verifiedClaimsRequestProblem({ userinfo: { given_name: null } })).toBeUndefined();
  });
});

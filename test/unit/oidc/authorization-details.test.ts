// The authorization_details types (RFC 9396) and their exact shapes, and the matching of details
// the code and the grant hold.
import { describe, expect, it } from '@jest/globals';
import { authorizationDetailProblem, detailsOf, detailsWithin } from '../../../src/oidc/authorization-details.ts';

describe('authorization detail types', () => {
  it('accepts the shapes of the types', () => {
    expect(authorizationDetailProblem({ type: 'pension_life_certificate' })).toBeUndefined();
    expect(authorizationDetailProblem({ type: 'tax_record_access', year: 2025 })).toBeUndefined();
  });

  it.each([
    [{ type: 'bank_statement' }, /unsupported authorization details type 'bank_statement'/],
    [{ type: 'tax_record_access' }, /tax_record_access: year/],
    [{ type: 'tax_record_access', year: 2025.5 }, /tax_record_access: year/],
    [{ type: 'tax_record_access', year: 1899 }, /tax_record_access: year/],
    [{ type: 'tax_record_access', year: new Date().getUTCFullYear() + 1 }, /must not be in the future/],
    [{ type: 'pension_life_certificate', locations: ['https://x.example'] }, /pension_life_certificate: locations/],
  ])('refuses %j', (detail, problem) => {
    expect(authorizationDetailProblem(detail)).toMatch(problem);
  });
});

describe('matching details', () => {
  it('keeps the wanted details the holder has, whatever the member order, once each', () => {
    const held = [{ year: 2025, type: 'tax_record_access' }, { type: 'pension_life_certificate' }];
    expect(detailsWithin([{ type: 'tax_record_access', year: 2025 }, { type: 'tax_record_access', year: 2024 }, { type: 'tax_record_access', year: 2025 }], held))
      .toEqual([{ type: 'tax_record_access', year: 2025 }]);
  });

  it('reads the parameter as a JSON string or an array, and nothing else', () => {
    expect(detailsOf('[{"type":"pension_life_certificate"}]')).toEqual([{ type: 'pension_life_certificate' }]);
    expect(detailsOf([{ type: 'x' }, { no: 'type' }])).toEqual([{ type: 'x' }]);
    expect(detailsOf('not json')).toEqual([]);
  });
});

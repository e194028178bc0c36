// Assurance levels (src/oidc/acr.ts): which level a request needs and which session satisfies it.
import { describe, expect, it } from '@jest/globals';
import { acrHigh, acrOf, acrSubstantial, isAcr, levelOf, requiredAcr, satisfies } from '../../../src/oidc/acr.ts';

const unknown = 'urn:example:loa:whatever';

describe('requiredAcr', () => {
  it('takes the lowest supported level among acr_values', () => {
    expect(requiredAcr(`${acrHigh} ${acrSubstantial}`, undefined, acrHigh)).toBe(acrSubstantial);
  });

  it('takes the only level asked for', () => {
    expect(requiredAcr(acrHigh, [acrSubstantial], acrSubstantial)).toBe(acrHigh);
  });

  it('ignores unknown acr_values', () => {
    expect(requiredAcr(`${unknown} ${acrHigh}`, undefined, acrSubstantial)).toBe(acrHigh);
  });

  it('uses the client default_acr_values when acr_values is absent', () => {
    expect(requiredAcr(undefined, [acrHigh], acrSubstantial)).toBe(acrHigh);
  });

  it('uses the client default_acr_values when acr_values names only unknown levels', () => {
    expect(requiredAcr(unknown, [acrHigh], acrSubstantial)).toBe(acrHigh);
  });

  it('takes the lowest supported level among the client defaults', () => {
    expect(requiredAcr(undefined, [unknown, acrHigh, acrSubstantial], acrHigh)).toBe(acrSubstantial);
  });

  it('falls back when neither acr_values nor client defaults name a known level', () => {
    expect(requiredAcr(unknown, [unknown], acrHigh)).toBe(acrHigh);
  });

  it('falls back when nothing is given', () => {
    expect(requiredAcr(undefined, undefined, acrSubstantial)).toBe(acrSubstantial);
  });
});

describe('satisfies', () => {
  it('high satisfies substantial', () => {
    expect(satisfies(acrHigh, acrSubstantial)).toBe(true);
  });

  it('substantial does not satisfy high', () => {
    expect(satisfies(acrSubstantial, acrHigh)).toBe(false);
  });

  it('a level satisfies itself', () => {
    expect(satisfies(acrHigh, acrHigh)).toBe(true);
    expect(satisfies(acrSubstantial, acrSubstantial)).toBe(true);
  });

  it('an unknown or missing acr satisfies nothing', () => {
    expect(satisfies(unknown, acrSubstantial)).toBe(false);
    expect(satisfies(undefined, acrSubstantial)).toBe(false);
  });
});

describe('levelOf, acrOf and isAcr', () => {
  it('levelOf maps each acr to its level', () => {
    expect(levelOf(acrSubstantial)).toBe('substantial');
    expect(levelOf(acrHigh)).toBe('high');
  });

  it('acrOf maps each level to its acr', () => {
    expect(acrOf('substantial')).toBe(acrSubstantial);
    expect(acrOf('high')).toBe(acrHigh);
  });

  it('isAcr accepts the two eIDAS URIs only', () => {
    expect(isAcr(acrSubstantial)).toBe(true);
    expect(isAcr(acrHigh)).toBe(true);
    expect(isAcr(unknown)).toBe(false);
    expect(isAcr('high')).toBe(false);
    expect(isAcr(undefined)).toBe(false);
  });
});

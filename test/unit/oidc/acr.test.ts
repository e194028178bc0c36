// Assurance levels (src/oidc/acr.ts): which level a request needs and which session satisfies it.
import { describe, expect, it } from '@jest/globals';
import { acrHigh, acrOf, acrSubstantial, floorOf, isAcr, levelOf, requiredAcr, satisfies } from '../../../src/oidc/acr.ts';

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

describe('requiredAcr with an agency floor', () => {
  it('raises a request below the floor to the floor', () => {
    expect(requiredAcr(acrSubstantial, undefined, acrSubstantial, acrHigh)).toBe(acrHigh);
  });

  it('drops the requested levels below the floor and keeps the one above it', () => {
    expect(requiredAcr(`${acrSubstantial} ${acrHigh}`, undefined, acrSubstantial, acrHigh)).toBe(acrHigh);
  });

  it('takes the highest requested level that can be reached, not the lowest', () => {
    expect(requiredAcr(`${acrSubstantial} ${unknown} ${acrHigh}`, undefined, acrSubstantial, acrSubstantial)).toBe(acrHigh);
    expect(requiredAcr(`${acrHigh} ${acrSubstantial}`, undefined, acrSubstantial, acrSubstantial)).toBe(acrHigh);
  });

  it('raises the client defaults and the gateway default to the floor', () => {
    expect(requiredAcr(undefined, [acrSubstantial], acrSubstantial, acrHigh)).toBe(acrHigh);
    expect(requiredAcr(undefined, undefined, acrSubstantial, acrHigh)).toBe(acrHigh);
    expect(requiredAcr(unknown, [unknown], acrSubstantial, acrHigh)).toBe(acrHigh);
  });

  it('keeps a request at or above the floor', () => {
    expect(requiredAcr(acrSubstantial, undefined, acrHigh, acrSubstantial)).toBe(acrSubstantial);
    expect(requiredAcr(undefined, undefined, acrHigh, acrSubstantial)).toBe(acrHigh);
  });
});

describe('floorOf', () => {
  const client = (metadata: Record<string, unknown>) => ({ metadata: () => metadata });

  it('reads the registered facegate_min_acr', () => {
    expect(floorOf(client({ facegate_min_acr: acrHigh }))).toBe(acrHigh);
  });

  it('has no floor without the member, with an unknown value, or without a client', () => {
    expect(floorOf(client({}))).toBeUndefined();
    expect(floorOf(client({ facegate_min_acr: 'high' }))).toBeUndefined();
    expect(floorOf(undefined)).toBeUndefined();
  });
});

// The registry cross-check's normalisation (src/onboarding/names.ts, docs/onboarding.md): case,
// accents, fillers and ICAO transliterations; one OCR edit tolerated in a name part of 5 letters or
// more, none in shorter ones; the birth date without its century; the document number exactly.
import { describe, expect, it } from '@jest/globals';
import { editDistance, nameParts, recordMismatches, sameName } from '../../../src/onboarding/names.ts';

describe('names', () => {
  it('writes a name as the MRZ does: uppercase, accents dropped, hyphens and fillers as separators, apostrophes dropped', () => {
    expect(nameParts('Lin-Manuel')).toEqual(['LIN', 'MANUEL']);
    expect(nameParts("José María O'Neill")).toEqual(['JOSE', 'MARIA', 'ONEILL']);
    expect(nameParts('ANNA<MARIA')).toEqual(['ANNA', 'MARIA']);
    expect(nameParts('Søren Ærø')).toEqual(['SOEREN', 'AEROE']);
    expect(nameParts('Straße')).toEqual(['STRASSE']);
    expect(nameParts('Müller', { umlauts: true })).toEqual(['MUELLER']);
  });

  it('accepts a registry name against its MRZ form, with or without the umlaut expanded', () => {
    expect(sameName('Lin-Manuel', 'LIN MANUEL')).toBe(true);
    expect(sameName('Müller', 'MULLER')).toBe(true);
    expect(sameName('Müller', 'MUELLER')).toBe(true);
    expect(sameName('Éloïse', 'ELOISE')).toBe(true);
  });

  it('tolerates one OCR edit in a part of 5 letters or more, none in a shorter part', () => {
    expect(sameName('Mohamed', 'MOHANED')).toBe(true);
    expect(sameName('Mabrouk', 'NABROUK')).toBe(true);
    expect(sameName('Mohamed', 'MOHANEO')).toBe(false); // two edits
    expect(sameName('Anna', 'ANNE')).toBe(false);
    expect(sameName('Ada', 'ADA')).toBe(true);
  });

  it('wants the same parts in the same order', () => {
    expect(sameName('Anna Maria', 'ANNA')).toBe(false);
    expect(sameName('Anna Maria', 'MARIA ANNA')).toBe(false);
    expect(sameName('', '')).toBe(false);
  });

  it('measures edit distance and stops early past the bound', () => {
    expect(editDistance('KITTEN', 'SITTING', 5)).toBe(3);
    expect(editDistance('ABCDEFGH', 'A', 1)).toBe(2);
  });
});

describe('recordMismatches', () => {
  const record = { givenName: 'Anna Maria', familyName: 'Eriksson', birthdate: '1974-08-12' };
  const fields = { surname: 'ERIKSSON', givenNames: 'ANNA MARIA', birthDate: '1974-08-12', documentNumber: 'L898902C3' };

  it('agrees with a document that names the citizen, without comparing the century', () => {
    expect(recordMismatches(record, fields)).toEqual([]);
    expect(recordMismatches({ ...record, birthdate: '1874-08-12' }, fields)).toEqual([]);
  });

  it('names each field that disagrees', () => {
    expect(recordMismatches(record, { ...fields, birthDate: '1974-08-13', surname: 'ERIKSEN' })).toEqual(['surname', 'birthDate']);
    expect(recordMismatches({ ...record, documentNumber: 'L898902C4' }, fields)).toEqual(['documentNumber']);
    expect(recordMismatches({ ...record, documentNumber: 'l898902c3' }, fields)).toEqual([]);
    expect(recordMismatches(record, { ...fields, birthDate: null })).toEqual(['birthDate']);
  });
});

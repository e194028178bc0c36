import { describe, expect, it } from '@jest/globals';
import { decodeWithLength, greedyDecode, restrictPosteriors, type CtcMatrix } from '../../../src/onboarding/ctc.ts';
import { fitLength, interpretMrz, mrzFormats, mrzTemplates, resolveDate } from '../../../src/onboarding/mrz.ts';
import { checkDigitsHold, td3 } from '../../helpers/mrz.ts';

const today = new Date('2026-01-15T00:00:00Z');
// ICAO Doc 9303 specimens (part 4 appendix, part 5, part 6).
const TD3 = ['P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<', 'L898902C36UTO7408122F1204159ZE184226B<<<<<10'];
const TD2 = ['I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<', 'D231458907UTO7408122F1204159<<<<<<<6'];
const TD1 = ['I<UTOD231458907<<<<<<<<<<<<<<<', '7408122F1204159UTO<<<<<<<<<<<6', 'ERIKSSON<<ANNA<MARIA<<<<<<<<<<'];

describe('interpretMrz', () => {
  it('reads the ICAO TD3 specimen with every field and check digit', () => {
    const r = interpretMrz(TD3, today);
    expect(r).toMatchObject({
      format: 'TD3', valid: true, expired: true, checksPassed: 5, checksTotal: 5, problems: [],
      fields: {
        documentType: 'P', issuingState: 'UTO', documentNumber: 'L898902C3', surname: 'ERIKSSON', givenNames: 'ANNA MARIA',
        nationality: 'UTO', birthDate: '1974-08-12', sex: 'F', expiryDate: '2012-04-15', personalNumber: 'ZE184226B',
      },
      checks: { documentNumber: true, birthDate: true, expiryDate: true, personalNumber: true, composite: true },
    });
  });

  it('reads TD2 and TD1, which have no personal-number check digit', () => {
    expect(interpretMrz(TD2, today)).toMatchObject({ format: 'TD2', valid: true, checks: { personalNumber: null, composite: true }, fields: { documentNumber: 'D23145890', documentType: 'I' } });
    expect(interpretMrz(TD1, today)).toMatchObject({ format: 'TD1', valid: true, checks: { personalNumber: null, composite: true }, fields: { documentNumber: 'D23145890', surname: 'ERIKSSON', givenNames: 'ANNA MARIA' } });
  });

  it('names each check digit that does not hold and never calls the read valid', () => {
    const bad = [TD3[0], TD3[1].replace('7408122', '7408123')]; // birth check digit 2 -> 3
    const r = interpretMrz(bad, today);
    expect(r.valid).toBe(false);
    expect(r.checks).toMatchObject({ documentNumber: true, birthDate: false, expiryDate: true, composite: false });
    expect(r.checksPassed).toBe(3);
  });

  it('corrects letters in numeric fields and digits in alphabetic ones (OCR-B confusions)', () => {
    const r = interpretMrz([TD3[0].replace('ERIKSSON', 'ERIKSS0N'), TD3[1].replace('7408122', '74O8122')], today);
    expect(r.valid).toBe(true);
    expect(r.fields.surname).toBe('ERIKSSON');
    expect(r.lines[1]).toBe(TD3[1]);
  });

  it('judges expiry on the given day, with the century resolved', () => {
    const lines = td3({ state: 'FRA', surname: 'MARTIN', givenNames: 'JEANNE', number: 'X1234567', nationality: 'FRA', birth: '450101', sex: 'F', expiry: '300101' });
    expect(checkDigitsHold(lines)).toBe(true);
    const r = interpretMrz(lines, today);
    expect(r).toMatchObject({ valid: true, expired: false, fields: { birthDate: '1945-01-01', expiryDate: '2030-01-01', personalNumber: null } });
    expect(interpretMrz(lines, new Date('2031-06-01T00:00:00Z')).expired).toBe(true);
  });

  it('refuses a state code that is not one', () => {
    const lines = td3({ state: 'QQQ', surname: 'A', givenNames: 'B', number: 'X1', nationality: 'QQQ', birth: '800101', sex: 'M', expiry: '300101' });
    const r = interpretMrz(lines, today);
    expect(r.valid).toBe(false);
    expect(r.problems.join()).toMatch(/state/);
  });
});

describe('resolveDate', () => {
  it('puts births in the past hundred years and expiries up to twenty years ahead', () => {
    expect(resolveDate('250101', 'birth', today)).toBe('2025-01-01');
    expect(resolveDate('270101', 'birth', today)).toBe('1927-01-01');
    expect(resolveDate('450101', 'expiry', today)).toBe('2045-01-01');
    expect(resolveDate('990101', 'expiry', today)).toBe('1999-01-01');
    expect(resolveDate('74<<<<', 'birth', today)).toBe('74<<<<');
  });
});

describe('fitLength', () => {
  it('lengthens or shortens the longest run of fillers', () => {
    expect(fitLength('P<UTOERIKSSON<<ANNA<MARIA<<<<', 30)).toBe('P<UTOERIKSSON<<ANNA<MARIA<<<<<');
    expect(fitLength('ABC<<<<<<DEF<<', 10)).toBe('ABC<<DEF<<');
    expect(fitLength('ABCDEF', 4)).toBe('ABCD');
  });
});

describe('templates', () => {
  it('give every position of every line of each format', () => {
    for (const [format, { lines, length }] of Object.entries(mrzFormats)) {
      const t = mrzTemplates[format as keyof typeof mrzTemplates];
      expect(t).toHaveLength(lines);
      for (const line of t) expect(line).toHaveLength(length);
    }
  });
});

/**
 * A CTC posterior matrix that spells `steps` (one class per step; '-' the blank), each at
 * probability p, most of the rest on the blank (as a trained model puts it).
 */
function matrix(steps: string, alphabet: string, p = 0.9): CtcMatrix {
  const C = alphabet.length + 1;
  const probs = new Float32Array(steps.length * C).fill(0.01 / C);
  [...steps].forEach((ch, t) => {
    const k = ch === '-' ? 0 : alphabet.indexOf(ch) + 1;
    probs[t * C] = 1 - p - 0.01;
    probs[t * C + k] = p;
  });
  return restrictPosteriors(probs, steps.length, C, [...alphabet].map((_, i) => i + 1), alphabet);
}

describe('CTC decoding', () => {
  it('merges repeats and drops blanks when greedy', () => {
    expect(greedyDecode(matrix('AA-B<<-<', 'AB<')).text).toBe('AB<<');
  });

  it('decodes at an exact length, splitting a run of fillers the greedy reading merged', () => {
    const m = matrix('A<<<<B', 'AB<'); // greedy: A<B
    expect(greedyDecode(m).text).toBe('A<B');
    expect(decodeWithLength(m, 4)).toBe('A<<B');
    expect(decodeWithLength(m, 3)).toBe('A<B');
    expect(decodeWithLength(m, 9)).toBeNull();
  });

  it('keeps to the characters allowed at each position', () => {
    const m = matrix('A-B-1', 'AB1');
    expect(decodeWithLength(m, 3)).toBe('AB1');
    expect(decodeWithLength(m, 3, ['A', '1', '1'])).toBe('A11');
  });
});

// Validation of citizen records: normalisation, and the stable code of each kind of bad input.
import { describe, expect, it } from '@jest/globals';
import { isSameRecord, normalizeNationalId, normalizeTypedNationalId, parseCitizenInput, type CitizenInput } from '../../../src/registry/citizens.ts';

const clock = () => Date.UTC(2025, 5, 15, 12); // 2025-06-15
const valid = { nationalId: 'AB123456', givenName: 'Ada', familyName: 'Lovelace', birthdate: '1990-12-10' };
const rejectionOf = (value: unknown) => {
  try {
    parseCitizenInput(value, clock);
  } catch (err) {
    return (err as { code: string; details: { fields?: string[] } });
  }
  throw new Error('expected a rejection');
};

describe('parseCitizenInput', () => {
  it('accepts a valid record and normalises it', () => {
    const input = parseCitizenInput({ ...valid, nationalId: ' ab123456 ', givenName: '  Ada ', address: '  1 Main St ' }, clock);
    expect(input).toStrictEqual({ ...valid, address: '1 Main St' });
  });

  it('treats an empty address as none', () => {
    expect(parseCitizenInput({ ...valid, address: '  ' }, clock).address).toBeUndefined();
  });

  it('drops fields it does not know', () => {
    expect(parseCitizenInput({ ...valid, status: 'deceased' }, clock)).toStrictEqual(valid);
  });

  it.each([
    ['too short', 'AB123'],
    ['too long', 'A'.repeat(21)],
    ['with a hyphen', 'AB-123456'],
    ['with an accented letter', 'ÄB123456'],
    ['empty', ''],
  ])('rejects a national ID %s with invalid_national_id', (_, nationalId) => {
    expect(rejectionOf({ ...valid, nationalId })).toMatchObject({ code: 'invalid_national_id' });
  });

  it('rejects a missing national ID with invalid_national_id', () => {
    const { nationalId: _, ...rest } = valid;
    expect(rejectionOf(rest).code).toBe('invalid_national_id');
  });

  it('accepts national IDs of 6 and 20 characters', () => {
    expect(parseCitizenInput({ ...valid, nationalId: 'abc123' }, clock).nationalId).toBe('ABC123');
    expect(parseCitizenInput({ ...valid, nationalId: '1'.repeat(20) }, clock).nationalId).toBe('1'.repeat(20));
  });

  it('reports invalid_national_id when the ID and other fields are wrong', () => {
    expect(rejectionOf({ ...valid, nationalId: 'x', birthdate: 'soon' })).toMatchObject({ code: 'invalid_national_id', details: { fields: ['nationalId', 'birthdate'] } });
  });

  it.each([
    ['empty given name', { givenName: '   ' }, 'givenName'],
    ['family name over 200 characters', { familyName: 'x'.repeat(201) }, 'familyName'],
    ['address over 500 characters', { address: 'x'.repeat(501) }, 'address'],
    ['birthdate in another format', { birthdate: '10/12/1990' }, 'birthdate'],
    ['birthdate that is not a calendar date', { birthdate: '2023-02-29' }, 'birthdate'],
    ['birthdate with month 13', { birthdate: '1990-13-01' }, 'birthdate'],
    ['birthdate in the future', { birthdate: '2025-06-16' }, 'birthdate'],
    ['birthdate that is not a string', { birthdate: 19901210 }, 'birthdate'],
  ])('rejects a record with %s as invalid_citizen', (_, change, field) => {
    expect(rejectionOf({ ...valid, ...change })).toMatchObject({ code: 'invalid_citizen', details: { fields: [field] } });
  });

  it('accepts a leap day and a birthdate of today', () => {
    expect(parseCitizenInput({ ...valid, birthdate: '2024-02-29' }, clock).birthdate).toBe('2024-02-29');
    expect(parseCitizenInput({ ...valid, birthdate: '2025-06-15' }, clock).birthdate).toBe('2025-06-15');
  });

  it('keeps the values out of the error', () => {
    const err = rejectionOf({ ...valid, givenName: '', familyName: 'Secret-Name' }) as unknown as Error;
    expect(JSON.stringify({ message: err.message, details: (err as unknown as { details: unknown }).details })).not.toContain('Secret-Name');
  });
});

describe('normalizeNationalId', () => {
  it('trims and uppercases a valid ID', () => expect(normalizeNationalId(' ab123456\t')).toBe('AB123456'));
  it('rejects a malformed ID with invalid_national_id', () => expect(() => normalizeNationalId('12')).toThrow(expect.objectContaining({ code: 'invalid_national_id' })));
});

describe('normalizeTypedNationalId', () => {
  it('drops the spaces and dashes typed for readability', () => expect(normalizeTypedNationalId(' ab-123 456 ')).toBe('AB123456'));
  it('rejects what is not a string with invalid_national_id', () => expect(() => normalizeTypedNationalId(42)).toThrow(expect.objectContaining({ code: 'invalid_national_id' })));
});

describe('isSameRecord', () => {
  const citizen = { id: 'c1', status: 'active' as const, ...valid };
  it('is true for the same fields, with no address on either side', () => expect(isSameRecord(citizen, valid as CitizenInput)).toBe(true));
  it('is false when the address appears', () => expect(isSameRecord(citizen, { ...valid, address: 'x' })).toBe(false));
  it('is false when a name changes', () => expect(isSameRecord(citizen, { ...valid, familyName: 'Byron' })).toBe(false));
});

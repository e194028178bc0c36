// Redaction of personal data and credentials in the JSON log (src/server/logger.ts).
import { describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import { loadConfig } from '../../../config/load.ts';
import { createLogger } from '../../../src/server/logger.ts';

const config = loadConfig({});

/** Logs one object and returns the line written and its parsed form. */
const logged = (obj: Record<string, unknown>): { raw: string; line: Record<string, unknown> } => {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  createLogger(config, destination).info(obj, 'event');
  const raw = chunks.join('');
  return { raw, line: JSON.parse(raw) as Record<string, unknown> };
};

const personal = {
  nationalId: 'NID-19800101-4242',
  national_id: 'NID-19800101-4343',
  given_name: 'Ingrid',
  family_name: 'Kowalczyk',
  givenName: 'Ingrida',
  familyName: 'Kowalczykowa',
  birthdate: '1980-01-01',
  address: 'Rue des Exemples 12, 1000 Bruxelles',
} as const;
type Field = keyof typeof personal;
const fields = Object.keys(personal) as Field[];

describe('createLogger redaction', () => {
  it.each(fields)('redacts %s at the top level', (field) => {
    const { raw, line } = logged({ [field]: personal[field] });
    expect(line[field]).toBe('[redacted]');
    expect(raw).not.toContain(personal[field]);
  });

  it.each(fields)('redacts %s one level deep', (field) => {
    const { raw, line } = logged({ citizen: { [field]: personal[field] } });
    expect(line.citizen).toEqual({ [field]: '[redacted]' });
    expect(raw).not.toContain(personal[field]);
  });

  it.each(['nationalId', 'national_id'] as const)('redacts %s two levels deep', (field) => {
    const { raw, line } = logged({ req: { body: { [field]: personal[field] } } });
    expect(line.req).toEqual({ body: { [field]: '[redacted]' } });
    expect(raw).not.toContain(personal[field]);
  });

  // Two levels deep, as in a logged req.body or claims.userinfo.
  it.each(['given_name', 'family_name', 'givenName', 'familyName', 'birthdate', 'address'] as const)('redacts %s two levels deep', (field) => {
    const { raw, line } = logged({ req: { body: { [field]: personal[field] } } });
    expect(line.req).toEqual({ body: { [field]: '[redacted]' } });
    expect(raw).not.toContain(personal[field]);
  });

  it.each(['cookie', 'authorization', 'dpop'] as const)('redacts req.headers.%s', (header) => {
    const value = `secret-${header}-value-0123456789`;
    const { raw, line } = logged({ req: { method: 'POST', headers: { [header]: value, 'user-agent': 'jest' } } });
    expect(line.req).toEqual({ method: 'POST', headers: { [header]: '[redacted]', 'user-agent': 'jest' } });
    expect(raw).not.toContain(value);
  });

  it('redacts an address given as an object, not just its string form', () => {
    const { raw, line } = logged({ claims: { address: { street_address: 'Rue des Exemples 12', locality: 'Bruxelles' } } });
    expect(line.claims).toEqual({ address: '[redacted]' });
    expect(raw).not.toContain('Rue des Exemples');
  });

  it('keeps fields that are not personal', () => {
    const { line } = logged({ clientId: 'tax.agency', outcome: 'success', citizen: { id: 'c-1' } });
    expect(line).toMatchObject({ clientId: 'tax.agency', outcome: 'success', citizen: { id: 'c-1' }, msg: 'event', service: 'facegate' });
  });
});

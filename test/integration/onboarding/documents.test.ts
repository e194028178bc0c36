// The document reader on every shared specimen (../shared/data/documents, see its README), on
// the same pages turned and tilted, and on documents composed here with an MRZ it has never seen.
// Through the worker pool the gateway will use (also: jest's module realm runs the pixel loops
// several times slower than a worker does).
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadConfig } from '../../../config/load.ts';
import type { DocumentReport } from '../../../src/onboarding/document.ts';
import { createDocumentReaderPool, type DocumentReaderPool } from '../../../src/onboarding/pool.ts';
import { isAppError } from '../../../src/shared/errors.ts';
import { dataDir, describeWithData, face } from '../../helpers/data.ts';
import { checkDigitsHold, composeDocument, td3 } from '../../helpers/mrz.ts';

const config = loadConfig({});
const docDir = join(dataDir, 'documents');
const doc = (name: string) => readFileSync(join(docDir, name));
const files = (() => { try { return readdirSync(docDir).sort(); } catch { return []; } })();
let reader: DocumentReaderPool;

beforeAll(async () => { reader = await createDocumentReaderPool(config.biometrics, { threads: 1 }); });
afterAll(async () => { await reader?.close(); });

async function refusal(p: Promise<DocumentReport>): Promise<string> {
  try {
    await p;
    return 'read';
  } catch (err) {
    if (isAppError(err)) return err.code;
    throw err;
  }
}

const utopiaTd3 = {
  documentType: 'P', issuingState: 'UTO', documentNumber: 'L898902C3', surname: 'ERIKSSON', givenNames: 'ANNA MARIA',
  nationality: 'UTO', birthDate: '1974-08-12', sex: 'F', expiryDate: '2012-04-15', personalNumber: 'ZE184226B',
};
const allChecks = { documentNumber: true, birthDate: true, expiryDate: true, composite: true };

describeWithData('the shared specimens', () => {
  it.each(['passport-td3.png', 'passport-td3.jpg'])('%s: the ICAO TD3 specimen, every field and check digit, and its portrait', async (name) => {
    const r = await reader.read(doc(name));
    expect(r).toMatchObject({ format: 'TD3', valid: true, expired: true, fields: utopiaTd3, checks: { ...allChecks, personalNumber: true } });
    expect(r.lines).toEqual(['P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<', 'L898902C36UTO7408122F1204159ZE184226B<<<<<10']);
    // The portrait is on the left of the page.
    expect(r.portrait?.box.x2).toBeLessThan(500);
    expect(r.portrait?.quality).toMatchObject({ grade: 'document', ok: true });
  });

  it.each(['passport-td2.png', 'passport-td2.jpg'])('%s: the ICAO TD2 specimen', async (name) => {
    const r = await reader.read(doc(name));
    expect(r).toMatchObject({
      format: 'TD2', valid: true,
      fields: { documentType: 'I', issuingState: 'UTO', documentNumber: 'D23145890', surname: 'ERIKSSON', givenNames: 'ANNA MARIA', birthDate: '1974-08-12', expiryDate: '2012-04-15', sex: 'F' },
      checks: { ...allChecks, personalNumber: null },
    });
    expect(r.portrait?.quality.ok).toBe(true);
  });

  it.each(files.filter((f) => f.startsWith('100_')))('%s: a national specimen, every check digit valid', async (name) => {
    const r = await reader.read(doc(name));
    expect(r.valid).toBe(true);
    expect(checkDigitsHold(r.lines)).toBe(true);
    expect(Object.values(r.checks).every((c) => c !== false)).toBe(true);
    for (const key of ['documentType', 'issuingState', 'documentNumber', 'surname', 'nationality', 'birthDate', 'sex', 'expiryDate'] as const) {
      expect(r.fields[key]).toEqual(expect.any(String));
    }
    expect(r.fields.birthDate).toMatch(/^(19|20)\d\d-\d\d-\d\d$/);
    expect(r.expired).toBe(true); // every specimen here is past its date
  });

  it.each(files.filter((f) => /^(62|43|24)_/.test(f)))('%s (hard): never claims validity it lacks', async (name) => {
    const outcome = await refusal(reader.read(doc(name)).then((r) => {
      // Valid only when the check digits, recomputed here from the lines, all hold.
      expect(r.valid).toBe(checkDigitsHold(r.lines) && r.problems.length === 0);
      if (!r.valid) expect(Object.values(r.checks)).toContain(false);
      return r;
    }));
    expect(['read', 'mrz_not_found']).toContain(outcome);
  });

  it('0_id-esp.png: refused with mrz_not_found, never a made-up read', async () => {
    expect(await refusal(reader.read(doc('0_id-esp.png')))).toBe('mrz_not_found');
  });

  it('refuses a picture with no document (a face photo) with mrz_not_found', async () => {
    expect(await refusal(reader.read(face('obama', 'obama_1.jpg'), { portrait: false }))).toBe('mrz_not_found');
  });

  it.each([[180, 'upside down'], [90, 'a quarter turn'], [7, 'tilted 7 degrees'], [-12, 'tilted -12 degrees']])('reads a page turned %p (%s)', async (angle) => {
    const bytes = await sharp(doc('100_pass-hrv.jpg')).rotate(angle, { background: '#ffffff' }).png().toBuffer();
    const r = await reader.read(bytes, { portrait: false });
    expect(r).toMatchObject({ valid: true, format: 'TD3', fields: { issuingState: 'HRV', surname: 'SPECIMEN' } });
  });
});

describeWithData('documents composed at test time', () => {
  const people = [
    { state: 'D<<', surname: 'HARINGTON', givenNames: 'KIT', number: 'C01X00T47', nationality: 'D<<', birth: '861226', sex: 'M' as const, expiry: '330101', personal: '' },
    { state: 'NLD', surname: 'DE VRIES', givenNames: 'ANNA SOFIE', number: 'SPECI2014', nationality: 'NLD', birth: '650310', sex: 'F' as const, expiry: '290916', personal: '999999990' },
  ];
  it.each(people.map((p, i) => [p.surname, p, i ? -4 : 3] as const))('%s: a zone never seen before, tilted, blurred, JPEG', async (_n, person, angle) => {
    const lines = td3(person);
    const r = await reader.read(await composeDocument(lines, angle), { today: new Date('2026-01-01T00:00:00Z') });
    expect(r).toMatchObject({ format: 'TD3', valid: true, expired: false, lines });
    expect(r.fields).toMatchObject({ surname: person.surname, givenNames: person.givenNames, nationality: person.nationality.replace(/</g, '') });
    expect(r.portrait?.quality.grade).toBe('document');
  });

  it('a zone with one digit changed is not valid', async () => {
    const lines = td3(people[1]);
    lines[1] = lines[1].replace('650310', '650311'); // the birth date no longer matches its check digit
    const outcome = await refusal(reader.read(await composeDocument(lines, 0), { portrait: false }).then((r) => {
      expect(r.valid).toBe(false);
      expect(r.checks.birthDate).toBe(false);
      return r;
    }));
    expect(outcome).toBe('read');
  });
});

describeWithData('the worker pool', () => {
  it('gives the portrait\'s embedding when asked, and carries refusals across the thread as AppErrors', async () => {
    const r = await reader.read(doc('passport-td3.png'), { embed: true });
    expect(r).toMatchObject({ valid: true, fields: utopiaTd3 });
    expect(r.portrait?.embedding).toHaveLength(512);
    await expect(reader.read(doc('0_id-esp.png'), { portrait: false })).rejects.toMatchObject({ name: 'AppError', code: 'mrz_not_found' });
  });
});

describeWithData('the other OCR engine (tesseract.js, measured against PaddleOCR)', () => {
  it('reads from node_modules alone: no download, no cache file written', async () => {
    const pool = await createDocumentReaderPool(config.biometrics, { threads: 1, ocr: 'tesseract' });
    try {
      const r = await pool.read(doc('passport-td3.png'), { portrait: false });
      expect(r).toMatchObject({ valid: true, ocr: { engine: 'tesseract' }, fields: { documentNumber: 'L898902C3' } });
    } finally {
      await pool.close();
    }
    expect(existsSync(join(process.cwd(), 'eng.traineddata'))).toBe(false);
  });
});

// `facegate document IMAGE` as an operator runs it: the JSON report, the text report, exit
// status and error codes.
import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliRunner, lastJson } from '../../helpers/cli.ts';
import { dataDir, describeWithData } from '../../helpers/data.ts';
import { composeDocument, td3 } from '../../helpers/mrz.ts';

const run = (...args: string[]) => cliRunner()(...args);
const json = lastJson as (s: string) => any;
const docPath = (name: string) => join(dataDir, 'documents', name);

describe('facegate document, refusals before reading', () => {
  it('exits non-zero with file_not_found for a missing image', async () => {
    const r = await run('document', '/no/such/passport.jpg', '--json');
    expect(r.code).not.toBe(0);
    expect(json(r.stdout)).toEqual({ error: { code: 'file_not_found', message: expect.any(String) } });
  });

  it('refuses an unknown OCR engine with invalid_input', async () => {
    const r = await run('document', 'package.json', '--ocr', 'magic', '--json');
    expect(r.code).not.toBe(0);
    expect(json(r.stdout).error.code).toBe('invalid_input');
  });
});

describeWithData('facegate document on the shared specimens', () => {
  it('prints the TD3 specimen\'s fields, check digits, validity and portrait as JSON', async () => {
    const r = await run('document', docPath('passport-td3.jpg'), '--json');
    expect(r.code).toBe(0);
    const out = json(r.stdout);
    expect(out).toMatchObject({
      format: 'TD3',
      fields: {
        documentType: 'P', issuingState: 'UTO', documentNumber: 'L898902C3', surname: 'ERIKSSON', givenNames: 'ANNA MARIA',
        nationality: 'UTO', birthDate: '1974-08-12', sex: 'F', expiryDate: '2012-04-15', personalNumber: 'ZE184226B',
      },
      checks: { documentNumber: true, birthDate: true, expiryDate: true, personalNumber: true, composite: true },
      valid: true,
      expired: true,
      portrait: { box: { x1: expect.any(Number), y1: expect.any(Number), x2: expect.any(Number), y2: expect.any(Number) }, quality: { grade: 'document', ok: true } },
    });
    expect(out.error).toBeUndefined();
    expect(out.portrait.embedding).toBeUndefined();
  });

  it('prints a text report without --json; a back side has no portrait', async () => {
    const r = await run('document', docPath('100_id-che.jpg'));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^TD1 valid, expired/);
    expect(r.stdout).toContain('IDCHES0002068<8');
    expect(r.stdout).toContain('portrait: none found');
  });

  it('refuses the unreadable specimen with mrz_not_found and a non-zero exit', async () => {
    const r = await run('document', docPath('0_id-esp.png'), '--json');
    expect(r.code).not.toBe(0);
    expect(json(r.stdout)).toEqual({ error: { code: 'mrz_not_found', message: expect.stringMatching(/check digits/) } });
    expect(r.stderr).toContain('error mrz_not_found');
  });

  it('prints a zone whose check digits do not all hold, with mrz_check_failed, and exits non-zero', async () => {
    const lines = td3({ state: 'NLD', surname: 'DE VRIES', givenNames: 'ANNA', number: 'SPECI2014', nationality: 'NLD', birth: '650310', sex: 'F', expiry: '290916' });
    lines[1] = lines[1].replace('650310', '650311');
    const dir = mkdtempSync(join(tmpdir(), 'facegate-document-'));
    try {
      const file = join(dir, 'bad.jpg');
      writeFileSync(file, await composeDocument(lines, 0));
      const r = await run('document', file, '--json');
      expect(r.code).not.toBe(0);
      const out = json(r.stdout);
      expect(out).toMatchObject({ format: 'TD3', valid: false, checks: { birthDate: false, documentNumber: true }, error: { code: 'mrz_check_failed' } });
      expect(out.error.message).toMatch(/birthDate/);
      expect(r.stderr).toContain('error mrz_check_failed');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

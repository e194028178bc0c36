// `facegate migrate | registry add | registry import` as an operator runs them: child processes on
// a temporary SQLite file, JSON output, exit status and error codes.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithData, facePath, dataDir } from '../../helpers/data.ts';
import { cliRunner, lastJson } from '../../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'facegate-registry-cli-'));
const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '', DATABASE_URL: `sqlite:${join(dir, 'facegate.sqlite')}`, FACEGATE_WORKERS: '2' };
delete env.DATABASE_SCHEMA;

const run = (...args: string[]) => cliRunner(env)(...args);
const json = lastJson as (s: string) => any;
const obama = ['--national-id', 'ob000001', '--given-name', 'Barack', '--family-name', 'Obama', '--birthdate', '1961-08-04'];

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('facegate migrate', () => {
  it('runs the migrations once, then reports nothing to do', async () => {
    const first = await run('migrate', '--json');
    expect(first.code).toBe(0);
    expect(json(first.stdout)).toEqual({ ran: ['0001_initial', '0002_audit_chain', '0003_risk'] });
    expect(json((await run('migrate', '--json')).stdout)).toEqual({ ran: [] });
  });
});

describe('facegate registry add errors', () => {
  it('refuses a malformed national ID with invalid_national_id', async () => {
    const r = await run('registry', 'add', ...obama, '--national-id', 'x1', '--photo', 'package.json', '--json');
    expect(r.code).toBe(1);
    expect(json(r.stdout).error.code).toBe('invalid_national_id');
  });

  it('refuses a missing photo with file_not_found', async () => {
    const r = await run('registry', 'add', ...obama, '--photo', '/no/such/photo.jpg', '--json');
    expect(r.code).toBe(1);
    expect(json(r.stdout).error.code).toBe('file_not_found');
  });
});

describeWithData('facegate registry on the shared faces', () => {
  beforeAll(() => {
    writeFileSync(join(dir, 'registry.csv'), [
      'national_id,given_name,family_name,birthdate,address,photo',
      'ROSE0001,Rose,Leslie,1987-02-09,,rose_leslie/rose_leslie_2.jpg',
      'KIT00001,Kit,Harington,1986-12-26,,kit_harington/kit_harington_1.jpg',
    ].join('\n'));
    writeFileSync(join(dir, 'bad.csv'), [
      'national_id,given_name,family_name,birthdate,address,photo',
      'ROSE0001,Rose,Leslie,1987-02-09,,rose_leslie/rose_leslie_2.jpg',
      'GROUP001,Two,Faces,1980-01-01,,_group/obama_and_biden_2.jpg',
      'BAD00001,Bad,Date,2999-01-01,,obama/obama_2.jpg',
    ].join('\n'));
  });

  it('registry add enrolls a citizen and prints the record and template model', async () => {
    const r = await run('registry', 'add', ...obama, '--address', '1600 Pennsylvania Ave', '--photo', facePath('obama', 'obama_1.jpg'), '--json');
    expect(r.code).toBe(0);
    expect(json(r.stdout)).toMatchObject({
      change: 'created',
      citizen: { id: expect.any(String), nationalId: 'OB000001', address: '1600 Pennsylvania Ave', status: 'active' },
      templateModelId: expect.stringMatching(/^fr_feature:[0-9a-f]{12}\+bgr$/),
      quality: { grade: 'enrollment', ok: true },
    });
    expect(r.stderr).not.toContain('OB000001');
  });

  it('registry add again with the same input is unchanged', async () => {
    const r = await run('registry', 'add', ...obama, '--address', '1600 Pennsylvania Ave', '--photo', facePath('obama', 'obama_1.jpg'), '--json');
    expect(json(r.stdout)).toMatchObject({ change: 'unchanged', templateChange: 'unchanged' });
  });

  it('registry add rejects a group photo with multiple_faces', async () => {
    const r = await run('registry', 'add', ...obama, '--photo', facePath('_group', 'obama_and_biden_2.jpg'), '--json');
    expect(r.code).toBe(1);
    expect(json(r.stdout).error.code).toBe('multiple_faces');
  });

  it('registry import exits 0 when every row is accepted, and re-runs unchanged', async () => {
    const args = ['registry', 'import', '--csv', join(dir, 'registry.csv'), '--photos', join(dataDir, 'faces'), '--json'];
    const first = await run(...args);
    expect(first.code).toBe(0);
    expect(json(first.stdout)).toMatchObject({ total: 2, created: 2, updated: 0, unchanged: 0, rejected: [] });
    const again = await run(...args);
    expect(json(again.stdout)).toMatchObject({ total: 2, created: 0, unchanged: 2, rejected: [] });
  });

  it('registry import exits 1 and lists the rejected rows with their codes', async () => {
    const r = await run('registry', 'import', '--csv', join(dir, 'bad.csv'), '--photos', join(dataDir, 'faces'));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/rows 3: 0 created, 0 updated, 1 unchanged, 2 rejected/);
    expect(r.stdout).toMatch(/line 3 GROUP001: multiple_faces/);
    expect(r.stdout).toMatch(/line 4 BAD00001: invalid_citizen/);
    expect(r.stderr).toBe(''); // no progress bar when stderr is not a terminal
  });

  it('registry import refuses a missing CSV with file_not_found', async () => {
    const r = await run('registry', 'import', '--csv', join(dir, 'none.csv'), '--photos', dir, '--json');
    expect(r.code).toBe(1);
    expect(json(r.stdout).error.code).toBe('file_not_found');
  });
});

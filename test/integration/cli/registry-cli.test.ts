// `facegate migrate | registry add | registry import` as an operator runs them: child processes on
// a temporary SQLite file, JSON output, exit status, error codes, and the audit events they write.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { describeWithData, facePath, dataDir } from '../../helpers/data.ts';
import { cliRunner, lastJson } from '../../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'facegate-registry-cli-'));
const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '', DATABASE_URL: `sqlite:${join(dir, 'facegate.sqlite')}`, FACEGATE_WORKERS: '2' };
delete env.DATABASE_SCHEMA;

const run = (...args: string[]) => cliRunner(env)(...args);
const json = lastJson as (s: string) => any;
const obama = ['--national-id', 'ob000001', '--given-name', 'Barack', '--family-name', 'Obama', '--birthdate', '1961-08-04'];
/** The audit trail as `audit export` prints it (one JSON object per line). */
const events = async (): Promise<any[]> => (await run('audit', 'export')).stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
const personal = ['OB000001', 'Barack', 'Obama', '1961-08-04', 'Pennsylvania', 'ROSE0001', 'Leslie', 'KIT00001', 'Harington'];

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('facegate migrate', () => {
  it('runs the migrations once, then reports nothing to do', async () => {
    const first = await run('migrate', '--json');
    expect(first.code).toBe(0);
    expect(json(first.stdout)).toEqual({ ran: ['0001_initial', '0002_audit_chain', '0003_risk', '0004_frame_owner', '0005_audit_mac', '0006_readiness', '0007_consent_details', '0008_proof_of_life', '0009_onboarding', '0010_account', '0011_passkeys', '0012_handoffs', '0013_onboarding_checks'] });
    expect(json((await run('migrate', '--json')).stdout)).toEqual({ ran: [] });
  });
});

describe('facegate registry add errors', () => {
  it('refuses a malformed national ID with invalid_national_id', async () => {
    const r = await run('registry', 'add', ...obama, '--national-id', 'x1', '--photo', 'package.json', '--json');
    expect(r.code).toBe(1);
    expect(json(r.stdout).error.code).toBe('invalid_national_id');
  });

  it('refuses an empty --operator with invalid_input', async () => {
    const r = await run('registry', 'add', ...obama, '--photo', 'package.json', '--operator', ' ', '--json');
    expect(r.code).toBe(1);
    expect(json(r.stdout).error.code).toBe('invalid_input');
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

  let citizenId = '';
  it('registry add enrolls a citizen and prints the record and template model', async () => {
    const r = await run('registry', 'add', ...obama, '--address', '1600 Pennsylvania Ave', '--photo', facePath('obama', 'obama_1.jpg'), '--operator', 'op-jane', '--json');
    expect(r.code).toBe(0);
    expect(json(r.stdout)).toMatchObject({
      change: 'created',
      citizen: { id: expect.any(String), nationalId: 'OB000001', address: '1600 Pennsylvania Ave', status: 'active' },
      templateModelId: expect.stringMatching(/^fr_feature:[0-9a-f]{12}\+bgr$/),
      quality: { grade: 'enrollment', ok: true },
    });
    expect(r.stderr).not.toContain('OB000001');
    citizenId = json(r.stdout).citizen.id;
  });

  it('registry add writes registry.citizen_created with the operator, and no personal data', async () => {
    const trail = await events();
    expect(trail.at(-1)).toMatchObject({
      type: 'registry.citizen_created', outcome: 'success', citizen_id: citizenId,
      details: { actor: 'op-jane', source: 'registry add', modelId: expect.stringMatching(/^fr_feature:/) },
    });
    for (const value of personal) expect(JSON.stringify(trail)).not.toContain(value);
  });

  it('registry add again without --replace is refused with citizen_exists, and audited', async () => {
    const before = await events();
    const r = await run('registry', 'add', ...obama, '--given-name', 'Mallory', '--photo', facePath('kit_harington', 'kit_harington_1.jpg'), '--json');
    expect(r.code).toBe(1);
    expect(json(r.stdout).error).toMatchObject({ code: 'citizen_exists', message: expect.stringContaining('--replace') });
    const trail = await events();
    expect(trail.slice(before.length)).toEqual([expect.objectContaining({
      type: 'registry.enrollment_refused', outcome: 'failure', code: 'citizen_exists', citizen_id: citizenId,
      details: { actor: userInfo().username, source: 'registry add' },
    })]);
  });

  it('registry add --replace with the first input is unchanged (the refused add changed nothing) and writes no event', async () => {
    const before = await events();
    const r = await run('registry', 'add', ...obama, '--address', '1600 Pennsylvania Ave', '--photo', facePath('obama', 'obama_1.jpg'), '--replace', '--json');
    expect(json(r.stdout)).toMatchObject({ change: 'unchanged', templateChange: 'unchanged', citizen: { id: citizenId, givenName: 'Barack' } });
    expect(await events()).toHaveLength(before.length);
  });

  it('registry add --replace updates the record and template, audited with the OS user by default', async () => {
    const before = await events();
    const r = await run('registry', 'add', ...obama, '--address', '1 Main Street', '--photo', facePath('obama', 'obama_2.jpg'), '--replace', '--json');
    expect(r.code).toBe(0);
    expect(json(r.stdout)).toMatchObject({ change: 'updated', templateChange: 'updated', citizen: { id: citizenId, address: '1 Main Street' } });
    const actor = { actor: userInfo().username, source: 'registry add' };
    expect((await events()).slice(before.length).map((e) => [e.type, e.citizen_id, e.details])).toEqual([
      ['registry.citizen_updated', citizenId, { ...actor, fields: ['address'] }],
      ['registry.template_replaced', citizenId, { ...actor, modelId: expect.stringMatching(/^fr_feature:/), templateChange: 'updated' }],
    ]);
  });

  it('registry add --replace rejects a group photo with multiple_faces', async () => {
    const r = await run('registry', 'add', ...obama, '--photo', facePath('_group', 'obama_and_biden_2.jpg'), '--replace', '--json');
    expect(r.code).toBe(1);
    expect(json(r.stdout).error.code).toBe('multiple_faces');
  });

  it('registry import exits 0 when every row is accepted, and re-runs unchanged', async () => {
    const args = ['registry', 'import', '--csv', join(dir, 'registry.csv'), '--photos', join(dataDir, 'faces'), '--json'];
    const before = await events();
    const first = await run(...args);
    expect(first.code).toBe(0);
    expect(json(first.stdout)).toMatchObject({ total: 2, created: 2, updated: 0, unchanged: 0, rejected: [] });
    const created = (await events()).slice(before.length);
    expect(created.map((e) => [e.type, e.details.actor, e.details.source])).toEqual([
      ['registry.citizen_created', userInfo().username, 'registry import'], ['registry.citizen_created', userInfo().username, 'registry import'],
    ]);
    const again = await run(...args, '--operator', 'op-jane');
    expect(json(again.stdout)).toMatchObject({ total: 2, created: 0, unchanged: 2, rejected: [] });
    const trail = await events();
    expect(trail).toHaveLength(before.length + 2);
    for (const value of personal) expect(JSON.stringify(trail)).not.toContain(value);
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

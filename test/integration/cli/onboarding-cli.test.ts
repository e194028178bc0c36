// `facegate onboarding list | revoke | confirm` as an operator runs them, on this test file's database
// (SQLite, or PostgreSQL with FACEGATE_TEST_DATABASE_URL): the mark of a remote onboarding listed
// without names, the in-person check recorded, a revocation removing the template the onboarding
// made (not one a desk made since), every step audited with the operator, bad input refused; and
// the agency setting `clients add --refuse-remote-onboarded-at-high`, registered and audited.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../config/load.ts';
import { insertMark } from '../../../src/onboarding/store.ts';
import { hasTemplate, saveTemplate } from '../../../src/registry/templates.ts';
import { createSealer } from '../../../src/shared/sealed.ts';
import { cliRunner, lastJson } from '../../helpers/cli.ts';
import { openTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { registerWithoutPhoto } from '../../helpers/onboarding.ts';

const MODEL = 'test-model@1';
const quality = { grade: 'capture', ok: true, codes: [], measures: {} } as unknown as Parameters<typeof saveTemplate>[5];
let t: TestDatabase;
let env: NodeJS.ProcessEnv;
const ids: Record<string, string> = {};
const json = lastJson as (s: string) => any;
const run = (...args: string[]) => cliRunner(env)(...args);
const events = async (type: string) => (await t.db('audit_events').where({ type }).orderBy('id'))
  .map((r: { citizen_id: string | null; details: string }) => ({ citizenId: r.citizen_id, details: JSON.parse(r.details) as Record<string, unknown> }));

beforeAll(async () => {
  t = await openTestDatabase();
  env = { ...process.env, NODE_OPTIONS: '', DATABASE_URL: t.database.url };
  for (const name of Object.keys(env)) if (name.startsWith('FACEGATE_') || name === 'DATABASE_SCHEMA' || name === 'NODE_ENV') delete env[name];
  if (t.database.schema) env.DATABASE_SCHEMA = t.database.schema;
  // The CLI's configuration: the development defaults, so the same data key.
  const config = loadConfig({}, { database: t.database });
  const sealer = createSealer(config.secrets.dataKeys, config.secrets.dataKeyId);
  const at = Date.parse('2026-11-20T10:00:00Z');
  for (const [i, [nationalId, givenName, familyName]] of [['RO19800101', 'Rémy', 'Onboard'], ['RD19810202', 'Rita', 'Desk']].entries()) {
    const citizenId = await registerWithoutPhoto(t.db, { nationalId, givenName, familyName, birthdate: `198${i}-0${i + 1}-0${i + 1}` });
    ids[nationalId] = citizenId;
    await saveTemplate(t.db, sealer, citizenId, MODEL, new Float32Array(512).fill(0.01 * (i + 1)), quality, at + i);
    await insertMark(t.db, {
      citizenId, sessionId: `session-${i}`, documentType: 'P', issuingState: 'UTO', documentExpiry: '2031-04-15', modelId: MODEL, onboardedAt: at + i,
    });
  }
  // Rita went to a desk after onboarding: her template was written again there.
  await saveTemplate(t.db, sealer, ids.RD19810202, MODEL, new Float32Array(512).fill(0.5), quality, at + 86_400_000);
});
afterAll(() => t?.close());

describe('facegate onboarding', () => {
  it('lists the remote onboardings without names, one citizen with --national-id, and audits the view', async () => {
    const all = await run('onboarding', 'list', '--json');
    expect(all.code).toBe(0);
    expect(json(all.stdout).onboardings).toEqual([
      {
        nationalId: 'RO19800101', documentType: 'P', issuingState: 'UTO', documentExpiry: '2031-04-15', modelId: MODEL,
        onboardedAt: '2026-11-20T10:00:00.000Z', inPersonCheck: null,
      },
      expect.objectContaining({ nationalId: 'RD19810202', onboardedAt: '2026-11-20T10:00:00.001Z' }),
    ]);
    const one = await run('onboarding', 'list', '--national-id', 'ro-1980 0101', '--json');
    expect(json(one.stdout).onboardings.map((o: { nationalId: string }) => o.nationalId)).toEqual(['RO19800101']);
    const text = await run('onboarding', 'list');
    expect(text.stdout.split('\n').slice(0, 2)).toEqual([
      '2 remote onboardings', '  RO19800101  P UTO  expires 2031-04-15  onboarded 2026-11-20T10:00:00.000Z  not checked in person',
    ]);
    expect(text.stdout).not.toMatch(/Rémy|Onboard\b|Rita|1980-01-01/);
    expect(await events('onboarding.list_viewed')).toEqual([
      { citizenId: null, details: { count: 2 } }, { citizenId: ids.RO19800101, details: { count: 1 } }, { citizenId: null, details: { count: 2 } },
    ]);
  });

  it('confirm records the in-person check once, with the operator, audited', async () => {
    const r = await run('onboarding', 'confirm', 'RO19800101', '--operator', 'desk-3', '--note', 'passport seen at the desk', '--json');
    expect(r.code).toBe(0);
    expect(json(r.stdout)).toEqual({ nationalId: 'RO19800101', inPersonCheck: { at: expect.stringMatching(/^\d{4}-/), by: 'desk-3' } });
    const listed = json((await run('onboarding', 'list', '--national-id', 'RO19800101', '--json')).stdout).onboardings[0];
    expect(listed.inPersonCheck).toEqual({ at: json(r.stdout).inPersonCheck.at, by: 'desk-3' });
    const again = await run('onboarding', 'confirm', 'RO19800101', '--json');
    expect(again.code).toBe(1);
    expect(json(again.stdout).error.code).toBe('invalid_input');
    expect(await events('onboarding.confirmed')).toEqual([
      { citizenId: ids.RO19800101, details: { operator: 'desk-3', sessionId: 'session-0', note: 'passport seen at the desk' } },
    ]);
  });

  it('revoke removes the remotely made template and the mark, audited with the operator and the reason', async () => {
    const r = await run('onboarding', 'revoke', 'RO19800101', '--reason', 'document reported stolen', '--operator', 'desk-3', '--json');
    expect(r.code).toBe(0);
    expect(json(r.stdout)).toEqual({ nationalId: 'RO19800101', revoked: true, templateRemoved: true });
    expect(await hasTemplate(t.db, ids.RO19800101, MODEL)).toBe(false);
    expect(json((await run('onboarding', 'list', '--national-id', 'RO19800101', '--json')).stdout).onboardings).toEqual([]);
    const again = await run('onboarding', 'revoke', 'RO19800101', '--reason', 'twice', '--json');
    expect(json(again.stdout).error.code).toBe('remote_onboarding_not_found');
    expect(await events('onboarding.revoked')).toEqual([{
      citizenId: ids.RO19800101,
      details: { operator: 'desk-3', reason: 'document reported stolen', sessionId: 'session-0', modelId: MODEL, templateRemoved: true, confirmed: true },
    }]);
  });

  it('revoke keeps a template a desk wrote after the onboarding', async () => {
    const r = await run('onboarding', 'revoke', 'RD19810202', '--reason', 'asked at the desk', '--json');
    expect(json(r.stdout)).toEqual({ nationalId: 'RD19810202', revoked: true, templateRemoved: false });
    expect(await hasTemplate(t.db, ids.RD19810202, MODEL)).toBe(true);
  });

  it('refuses a missing reason, an unknown citizen and an empty operator with codes', async () => {
    const noReason = await run('onboarding', 'revoke', 'RD19810202', '--json');
    expect(noReason.code).not.toBe(0);
    const blank = await run('onboarding', 'revoke', 'RD19810202', '--reason', '  ', '--json');
    expect(json(blank.stdout).error.code).toBe('invalid_input');
    const nobody = await run('onboarding', 'list', '--national-id', 'NO000000', '--json');
    expect(json(nobody.stdout).error.code).toBe('citizen_not_found');
    const operator = await run('onboarding', 'confirm', 'RD19810202', '--operator', ' ', '--json');
    expect(json(operator.stdout).error.code).toBe('invalid_input');
  });

  it('clients add --refuse-remote-onboarded-at-high registers the agency setting, audited', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'facegate-onboarding-cli-'));
    try {
      const jwks = join(dir, 'tax.json');
      const key = { ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }), use: 'sig', alg: 'ES256', kid: 'sig' };
      writeFileSync(jwks, JSON.stringify({ keys: [key] }));
      const r = await run('clients', 'add', '--client-id', 'tax-office', '--name', 'Tax office', '--redirect-uri', 'https://tax.example/cb', '--jwks', jwks,
        '--refuse-remote-onboarded-at-high', '--json');
      expect(r.code).toBe(0);
      expect(json(r.stdout)).toMatchObject({ client_id: 'tax-office', facegate_refuse_remote_onboarded_at_high: true });
      const [registered] = await t.db('audit_events').where({ type: 'client.registered', client_id: 'tax-office' });
      expect(JSON.parse(registered.details)).toMatchObject({ facegate_refuse_remote_onboarded_at_high: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// `facegate keys rotate-template-key` on real templates (real photos, the real embedding model):
// afterwards every template opens under the new key alone, verification scores are identical,
// the signing keys load under the new key, a second run finds nothing, concurrent runs never
// overwrite each other, and rows that do not open are reported with exit 1 and left untouched.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../../config/load.ts';
import { verifyChain } from '../../../src/audit/query.ts';
import { createEnginePool } from '../../../src/biometrics/pool.ts';
import { matchEmbeddings } from '../../../src/biometrics/matcher.ts';
import type { FaceAnalyzer } from '../../../src/biometrics/pool.ts';
import { ensureSigningKeys, loadSigningJwks } from '../../../src/oidc/keys.ts';
import { enrollCitizen } from '../../../src/registry/enroll.ts';
import { loadTemplate, rotateTemplateKey, type TemplateRow } from '../../../src/registry/templates.ts';
import { createSealer } from '../../../src/shared/sealed.ts';
import { cliRunner, lastJson } from '../../helpers/cli.ts';
import { describeWithData, face } from '../../helpers/data.ts';
import { openTestDatabase, type TestDatabase } from '../../helpers/db.ts';

const json = lastJson as (s: string) => any;
const key = () => randomBytes(32).toString('base64');
const keys = { old: key(), new: key(), third: key(), lost: key() };
const people = [['RT0001', 'obama'], ['RT0002', 'biden'], ['RT0003', 'rose_leslie']] as const;

describeWithData('template key rotation', () => {
  let t: TestDatabase;
  let analyzer: FaceAnalyzer;
  let modelId: string;
  const citizens: { id: string; probe: number[] }[] = [];
  const thresholds = loadConfig({}).biometrics.match;
  const cli = (ring: (keyof typeof keys)[], active: keyof typeof keys) => {
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '', DATABASE_URL: t.database.url };
    for (const name of Object.keys(env)) if (name.startsWith('FACEGATE_') || name === 'DATABASE_SCHEMA' || name === 'NODE_ENV') delete env[name];
    if (t.database.schema) env.DATABASE_SCHEMA = t.database.schema;
    env.FACEGATE_DATA_KEYS = ring.map((id) => `${id}:${keys[id]}`).join(',');
    env.FACEGATE_DATA_KEY_ID = active;
    return cliRunner(env);
  };
  const scores = async (sealerKeys: (keyof typeof keys)[], active: keyof typeof keys) => {
    const sealer = createSealer(Object.fromEntries(sealerKeys.map((k) => [k, keys[k]])), active);
    return Promise.all(citizens.map(async (c) => matchEmbeddings((await loadTemplate(t.db, sealer, c.id, modelId))!, c.probe, 'substantial', thresholds).similarity));
  };

  beforeAll(async () => {
    t = await openTestDatabase();
    const config = loadConfig({ NODE_ENV: 'test' }, { database: t.database });
    analyzer = await createEnginePool(config.biometrics, 1);
    const sealer = createSealer({ old: keys.old }, 'old');
    for (const [nationalId, who] of people) {
      const r = await enrollCitizen({ db: t.db, analyzer, sealer, clock: Date.now }, { nationalId, givenName: 'R', familyName: who, birthdate: '1960-01-01' }, face(who, `${who}_1.jpg`));
      modelId = r.templateModelId;
      const probe = (await analyzer.analyze(face(who, `${who}_2.jpg`), { embed: true })).face!.embedding!;
      citizens.push({ id: r.citizen.id, probe });
    }
    await ensureSigningKeys(t.db, sealer);
  });
  afterAll(async () => {
    await analyzer?.close();
    await t?.close();
  });

  it('re-encrypts every template and signing key under the new key; scores are identical', async () => {
    const before = await scores(['old'], 'old');
    expect(before.every((s) => s > thresholds.substantial)).toBe(true);
    const r = await cli(['old', 'new'], 'new')('keys', 'rotate-template-key', '--batch', '2', '--json');
    expect(r.code).toBe(0);
    expect(json(r.stdout)).toMatchObject({ keyId: 'new', templates: { scanned: 3, rotated: 3, skipped: 0, failed: [] }, signingKeys: { rotated: 4, failed: [] } });
    const rows = await t.db<TemplateRow>('face_templates').select();
    expect(rows.map((row) => row.key_id)).toEqual(['new', 'new', 'new']);
    // The old key is gone from the keyring: everything still opens.
    expect(await scores(['new'], 'new')).toEqual(before);
    expect((await loadSigningJwks(t.db, createSealer({ new: keys.new }, 'new'))).keys).toHaveLength(4);
    const audited = await t.db('audit_events').where({ type: 'keys.template_key_rotated' }).first();
    expect(JSON.parse(audited.details)).toMatchObject({ key_id: 'new', templates: { rotated: 3 } });
    expect((await verifyChain(t.db)).ok).toBe(true);
  });

  it('finds nothing to do when run again', async () => {
    const r = await cli(['old', 'new'], 'new')('keys', 'rotate-template-key', '--json');
    expect(r.code).toBe(0);
    expect(json(r.stdout)).toMatchObject({ templates: { scanned: 0, rotated: 0 }, signingKeys: { rotated: 0 } });
  });

  it('never lets two concurrent runs overwrite each other', async () => {
    const before = await scores(['new'], 'new');
    // Two runs in this process, interleaving row by row on the database.
    const sealer = () => createSealer({ new: keys.new, third: keys.third }, 'third');
    const [a, b] = await Promise.all([rotateTemplateKey(t.db, sealer(), { batch: 1 }), rotateTemplateKey(t.db, sealer(), { batch: 1 })]);
    expect(a.rotated + b.rotated).toBe(3);
    expect(a.failed.length + b.failed.length).toBe(0);
    expect(await scores(['third'], 'third')).toEqual(before);
    // Two operators' processes at once.
    const run = cli(['third', 'new'], 'new');
    const [x, y] = await Promise.all([run('keys', 'rotate-template-key', '--batch', '1', '--json'), run('keys', 'rotate-template-key', '--batch', '1', '--json')]);
    expect([x.code, y.code]).toEqual([0, 0]);
    expect(json(x.stdout).templates.rotated + json(y.stdout).templates.rotated).toBe(3);
    expect(await scores(['new'], 'new')).toEqual(before);
  });

  it('reports rows whose key is missing with exit 1 and leaves them as they were', async () => {
    const rowsBefore = await t.db<TemplateRow>('face_templates').orderBy('id');
    const r = await cli(['lost'], 'lost')('keys', 'rotate-template-key', '--json');
    expect(r.code).toBe(1);
    const out = json(r.stdout);
    expect(out.templates.failed).toHaveLength(3);
    expect(out.templates.failed[0]).toMatchObject({ keyId: 'new' });
    expect(await t.db<TemplateRow>('face_templates').orderBy('id')).toEqual(rowsBefore);
  });
});

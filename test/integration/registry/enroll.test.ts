// Enrollment on the real models and a real database (SQLite, or PostgreSQL under test:postgres):
// templates sealed and bound to their row, quality gate before any write, create-only unless
// replace (then idempotent), and every change audited with its actor and no personal data.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { cosineSimilarity } from '../../../src/biometrics/matcher.ts';
import { findCitizenById, findCitizenByNationalId, upsertCitizen } from '../../../src/registry/citizens.ts';
import { enrollCitizen, type EnrollDeps } from '../../../src/registry/enroll.ts';
import { embeddingModelId, loadTemplate, type TemplateRow } from '../../../src/registry/templates.ts';
import { createSealer, type Sealer } from '../../../src/shared/sealed.ts';
import { describeWithData, face } from '../../helpers/data.ts';
import { openTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { config, getEngine } from '../../helpers/engine.ts';

const clock = () => Date.UTC(2025, 5, 15);
const record = (nationalId: string, extra: Record<string, string> = {}) =>
  ({ nationalId, givenName: 'Barack', familyName: 'Obama', birthdate: '1961-08-04', ...extra });
const floatBytes = (v: ArrayLike<number>) => Buffer.from(Float32Array.from(v).buffer);
const operator = { actor: 'op-jane', source: 'registry add' };
type EventRow = { id: number; type: string; outcome: string; code: string | null; citizen_id: string | null; details: string | null };

describeWithData('enrollCitizen', () => {
  let tdb: TestDatabase;
  let deps: EnrollDeps;
  let sealer: Sealer;
  const count = async (table: string) => Number((await tdb.db(table).count({ n: '*' }))[0].n);
  const lastEventId = async () => Number((await tdb.db('audit_events').max({ id: 'id' }))[0].id ?? 0);
  /** The audit events written after `id`, details parsed. */
  const eventsAfter = async (id: number) => (await tdb.db<EventRow>('audit_events').where('id', '>', id).orderBy('id'))
    .map((e) => ({ ...e, details: e.details ? JSON.parse(e.details) : null }));
  const templateRow = async (citizenId: string) => tdb.db<TemplateRow>('face_templates').where({ citizen_id: citizenId }).first();

  beforeAll(async () => {
    tdb = await openTestDatabase();
    sealer = createSealer(config.secrets.dataKeys, config.secrets.dataKeyId);
    deps = { db: tdb.db, analyzer: await getEngine(), sealer, clock };
  });
  afterAll(() => tdb.close());

  it('creates the citizen and a template that opens to the photo\'s embedding', async () => {
    const result = await enrollCitizen(deps, record('ob000001', { address: '1600 Pennsylvania Ave' }), face('obama', 'obama_1.jpg'));
    expect(result).toMatchObject({
      change: 'created',
      templateChange: 'created',
      templateModelId: expect.stringMatching(/^fr_feature:[0-9a-f]{12}\+bgr$/),
      citizen: { nationalId: 'OB000001', givenName: 'Barack', birthdate: '1961-08-04', address: '1600 Pennsylvania Ave', status: 'active' },
      quality: { grade: 'enrollment', ok: true, codes: [] },
    });
    expect(await findCitizenByNationalId(tdb.db, 'ob000001')).toEqual(result.citizen);
    const direct = await (await getEngine()).analyze(face('obama', 'obama_1.jpg'), { grade: 'enrollment', liveness: false });
    expect(result.templateModelId).toBe(embeddingModelId(direct.models));
    const template = await loadTemplate(tdb.db, sealer, result.citizen.id, result.templateModelId);
    expect(template).toBeInstanceOf(Float32Array);
    expect(template).toHaveLength(512);
    expect(floatBytes(template!).equals(floatBytes(direct.face!.embedding!))).toBe(true);
    expect(cosineSimilarity(template!, direct.face!.embedding!)).toBeCloseTo(1, 5);
  });

  it('stores the template sealed, never as plain floats', async () => {
    const citizen = (await findCitizenByNationalId(tdb.db, 'OB000001'))!;
    const rows = await tdb.db<TemplateRow>('face_templates').where({ citizen_id: citizen.id });
    expect(rows).toHaveLength(1);
    const [row] = rows;
    expect(row.key_id).toBe(config.secrets.dataKeyId);
    const plain = floatBytes((await loadTemplate(tdb.db, sealer, citizen.id, row.model_id))!);
    const stored = Buffer.from(row.ciphertext, 'base64');
    expect(stored.length).toBe(plain.length);
    // No 16-byte window of the floats appears in the ciphertext, raw or base64.
    for (let i = 0; i + 16 <= plain.length; i += 16) expect(stored.includes(plain.subarray(i, i + 16))).toBe(false);
    expect(row.ciphertext).not.toContain(plain.subarray(0, 48).toString('base64'));
    expect(JSON.parse(row.quality!)).toMatchObject({ grade: 'enrollment', ok: true, measures: expect.any(Object) });
  });

  it('refuses to open a template row copied onto another citizen', async () => {
    const owner = (await findCitizenByNationalId(tdb.db, 'OB000001'))!;
    const { citizen: other } = await upsertCitizen(tdb.db, record('XX000001', { givenName: 'Mallory' }), clock);
    const row = (await tdb.db<TemplateRow>('face_templates').where({ citizen_id: owner.id }).first())!;
    await tdb.db('face_templates').insert({ ...row, id: randomUUID(), citizen_id: other.id });
    await expect(loadTemplate(tdb.db, sealer, other.id, row.model_id)).rejects.toMatchObject({ code: 'internal_error' });
    expect(await loadTemplate(tdb.db, sealer, owner.id, row.model_id)).toHaveLength(512);
  });

  it('refuses to open a template under another model id', async () => {
    const owner = (await findCitizenByNationalId(tdb.db, 'OB000001'))!;
    const row = (await tdb.db<TemplateRow>('face_templates').where({ citizen_id: owner.id }).first())!;
    await tdb.db('face_templates').insert({ ...row, id: randomUUID(), model_id: 'fr_feature:000000000000' });
    await expect(loadTemplate(tdb.db, sealer, owner.id, 'fr_feature:000000000000')).rejects.toMatchObject({ code: 'internal_error' });
  });

  it('answers undefined for a citizen without a template', async () => {
    expect(await loadTemplate(tdb.db, sealer, randomUUID(), 'fr_feature:87aacdfe5751')).toBeUndefined();
  });

  it.each([
    ['a face too small', 'obama', 'obama_1_letterbox_240p.jpg', 'face_too_small'],
    ['two faces', '_group', 'obama_and_biden_2.jpg', 'multiple_faces'],
    ['a face cut off', 'obama', 'obama_partial_face_1.jpg', 'face_cut_off'],
  ])('rejects a photo with %s and writes nothing', async (_, identity, file, code) => {
    const [citizens, templates] = [await count('citizens'), await count('face_templates')];
    const err = await enrollCitizen(deps, record('QQ000001'), face(identity, file)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code, details: { codes: expect.arrayContaining([code]) } });
    expect(await findCitizenByNationalId(tdb.db, 'QQ000001')).toBeUndefined();
    expect([await count('citizens'), await count('face_templates')]).toEqual([citizens, templates]);
  });

  it('lists every quality code and leads with the first', async () => {
    const err = await enrollCitizen(deps, record('QQ000002'), face('biden', 'biden_2.jpg')).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'face_turned', details: { codes: ['face_turned', 'eyes_closed'] } });
  });

  it('validates the record before any face work', async () => {
    let calls = 0;
    const analyzer = { analyze: async () => { calls++; throw new Error('must not be called'); } };
    await expect(enrollCitizen({ ...deps, analyzer }, record('bad'), face('obama', 'obama_1.jpg'))).rejects.toMatchObject({ code: 'invalid_national_id' });
    await expect(enrollCitizen({ ...deps, analyzer }, record('QQ000003', { birthdate: '1961-02-30' }), face('obama', 'obama_1.jpg'))).rejects.toMatchObject({ code: 'invalid_citizen' });
    expect(calls).toBe(0);
  });

  it('writes neither record nor template when the template write fails', async () => {
    const failing: Sealer = { ...sealer, seal: () => { throw new Error('disk on fire'); } };
    await expect(enrollCitizen({ ...deps, sealer: failing }, record('QQ000004'), face('rose_leslie', 'rose_leslie_2.jpg'))).rejects.toThrow('disk on fire');
    expect(await findCitizenByNationalId(tdb.db, 'QQ000004')).toBeUndefined();
  });

  it('refuses an enrollment for a registered national ID with citizen_exists, before any face work, and changes nothing', async () => {
    const { citizen } = await enrollCitizen(deps, record('TK000001', { givenName: 'Takeover', familyName: 'Target' }), face('kit_harington', 'kit_harington_1.jpg'));
    const before = await templateRow(citizen.id);
    let calls = 0;
    const analyzer = { analyze: async (...args: Parameters<EnrollDeps['analyzer']['analyze']>) => { calls++; return (await getEngine()).analyze(...args); } };
    const attempt = enrollCitizen({ ...deps, analyzer }, record('tk000001', { givenName: 'Mallory', familyName: 'Attacker' }), face('obama', 'obama_2.jpg'));
    await expect(attempt).rejects.toMatchObject({ code: 'citizen_exists', status: 409 });
    expect(calls).toBe(0);
    expect(await findCitizenById(tdb.db, citizen.id)).toEqual(citizen);
    expect(await templateRow(citizen.id)).toEqual(before);
    expect(await tdb.db('citizens').where({ national_id: 'TK000001' })).toHaveLength(1);
  });

  it('refuses a concurrent enrollment of the same new national ID that lost the race (citizen_exists)', async () => {
    const results = await Promise.allSettled([
      enrollCitizen(deps, record('RC000001', { givenName: 'First' }), face('kit_harington', 'kit_harington_1.jpg')),
      enrollCitizen(deps, record('RC000001', { givenName: 'Second' }), face('obama', 'obama_2.jpg')),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason).toMatchObject({ code: 'citizen_exists' });
    const winner = (results.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<Awaited<ReturnType<typeof enrollCitizen>>>).value;
    expect(await findCitizenByNationalId(tdb.db, 'RC000001')).toEqual(winner.citizen);
    expect(await tdb.db('face_templates').where({ citizen_id: winner.citizen.id })).toHaveLength(1);
  });

  it('with replace, re-enrolls idempotently: same input is unchanged, a new record or photo updates in place', async () => {
    const replace = { replace: true };
    const photo = face('kit_harington', 'kit_harington_1.jpg');
    const first = await enrollCitizen(deps, record('KH000001', { givenName: 'Kit', familyName: 'Harington' }), photo, replace);
    const again = await enrollCitizen(deps, record('kh000001', { givenName: 'Kit', familyName: 'Harington' }), photo, replace);
    expect(again).toMatchObject({ change: 'unchanged', templateChange: 'unchanged', citizen: first.citizen });

    const moved = await enrollCitizen(deps, record('KH000001', { givenName: 'Kit', familyName: 'Harington', address: 'Winterfell' }), photo, replace);
    expect(moved).toMatchObject({ change: 'updated', templateChange: 'unchanged', citizen: { id: first.citizen.id, address: 'Winterfell' } });

    const before = await loadTemplate(tdb.db, sealer, first.citizen.id, first.templateModelId);
    const newPhoto = await enrollCitizen(deps, record('KH000001', { givenName: 'Kit', familyName: 'Harington', address: 'Winterfell' }), face('obama', 'obama_2.jpg'), replace);
    expect(newPhoto).toMatchObject({ change: 'updated', templateChange: 'updated', citizen: { id: first.citizen.id } });
    const after = await loadTemplate(tdb.db, sealer, first.citizen.id, first.templateModelId);
    expect(cosineSimilarity(before!, after!)).toBeLessThan(0.5);

    expect(await tdb.db('citizens').where({ national_id: 'KH000001' })).toHaveLength(1);
    expect(await tdb.db('face_templates').where({ citizen_id: first.citizen.id })).toHaveLength(1);
    expect(await findCitizenById(tdb.db, first.citizen.id)).toMatchObject({ address: 'Winterfell' });
  });

  it('keeps the status of an existing citizen when re-enrolled with replace', async () => {
    const { citizen } = await enrollCitizen(deps, record('RL000001', { givenName: 'Rose' }), face('rose_leslie', 'rose_leslie_1.jpg'));
    await tdb.db('citizens').where({ id: citizen.id }).update({ status: 'suspended' });
    const again = await enrollCitizen(deps, record('RL000001', { givenName: 'Rose', familyName: 'Leslie' }), face('rose_leslie', 'rose_leslie_1.jpg'), { replace: true });
    expect(again).toMatchObject({ change: 'updated', citizen: { id: citizen.id, familyName: 'Leslie', status: 'suspended' } });
  });

  describe('audit trail', () => {
    const personal = ['AU000001', 'Audrey', 'Hepburn', '1929-05-04', 'Rue de la Paix'];
    const audrey = (extra: Record<string, string> = {}) =>
      record('AU000001', { givenName: 'Audrey', familyName: 'Hepburn', birthdate: '1929-05-04', address: '1 Rue de la Paix', ...extra });

    it('writes registry.citizen_created with the actor, the citizen id and the model, and no personal data', async () => {
      const from = await lastEventId();
      const { citizen, templateModelId } = await enrollCitizen(deps, audrey(), face('rose_leslie', 'rose_leslie_2.jpg'), { by: operator });
      const events = await eventsAfter(from);
      expect(events).toEqual([expect.objectContaining({
        type: 'registry.citizen_created', outcome: 'success', citizen_id: citizen.id,
        details: { actor: 'op-jane', source: 'registry add', modelId: templateModelId },
      })]);
      const text = JSON.stringify(await tdb.db('audit_events').where('id', '>', from));
      for (const value of personal) expect(text).not.toContain(value);
    });

    it('with replace, writes registry.citizen_updated naming the changed fields and registry.template_replaced', async () => {
      const citizen = (await findCitizenByNationalId(tdb.db, 'AU000001'))!;
      const from = await lastEventId();
      await enrollCitizen(deps, audrey({ familyName: 'Hepburn-Ruston', address: '2 Rue de la Paix' }), face('lin_manuel_miranda', 'lin_manuel_miranda_1.png'), { replace: true, by: operator });
      const events = await eventsAfter(from);
      expect(events.map((e) => [e.type, e.citizen_id, e.details])).toEqual([
        ['registry.citizen_updated', citizen.id, { actor: 'op-jane', source: 'registry add', fields: ['familyName', 'address'] }],
        ['registry.template_replaced', citizen.id, { actor: 'op-jane', source: 'registry add', modelId: expect.any(String), templateChange: 'updated' }],
      ]);
      const text = JSON.stringify(await tdb.db('audit_events').where('id', '>', from));
      for (const value of [...personal, 'Ruston']) expect(text).not.toContain(value);
    });

    it('writes nothing for an unchanged re-enrollment, a refused photo or a failed template write', async () => {
      const from = await lastEventId();
      const same = await enrollCitizen(deps, audrey({ familyName: 'Hepburn-Ruston', address: '2 Rue de la Paix' }), face('lin_manuel_miranda', 'lin_manuel_miranda_1.png'), { replace: true, by: operator });
      expect(same.change).toBe('unchanged');
      await expect(enrollCitizen(deps, record('AU000002'), face('_group', 'obama_and_biden_2.jpg'), { by: operator })).rejects.toMatchObject({ code: 'multiple_faces' });
      const failing: Sealer = { ...sealer, seal: () => { throw new Error('disk on fire'); } };
      await expect(enrollCitizen({ ...deps, sealer: failing }, record('AU000003'), face('rose_leslie', 'rose_leslie_2.jpg'), { by: operator })).rejects.toThrow('disk on fire');
      expect(await eventsAfter(from)).toEqual([]);
    });

    it('writes registry.enrollment_refused (citizen_exists) for an enrollment over a registered citizen', async () => {
      const citizen = (await findCitizenByNationalId(tdb.db, 'AU000001'))!;
      const from = await lastEventId();
      const by = { actor: 'demo', source: 'demo enroll', ip: '192.0.2.7', userAgent: 'test-agent' };
      await expect(enrollCitizen(deps, audrey({ givenName: 'Mallory' }), face('obama', 'obama_2.jpg'), { by })).rejects.toMatchObject({ code: 'citizen_exists' });
      expect(await eventsAfter(from)).toEqual([expect.objectContaining({
        type: 'registry.enrollment_refused', outcome: 'failure', code: 'citizen_exists', citizen_id: citizen.id,
        ip: '192.0.2.7', user_agent: 'test-agent', details: { actor: 'demo', source: 'demo enroll' },
      })]);
    });
  });
});

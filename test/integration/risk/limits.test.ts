// Attempt limits, replay defence and the risk rule through the capture service on the real face
// engine and a real database (SQLite, or PostgreSQL with FACEGATE_TEST_DATABASE_URL): a thousand
// scripted failures from many IPs lock one ID out exactly at the limit without running the engine
// again; another citizen still signs in; unknown and known IDs lock out alike; replayed frames and
// reused captures are refused; two instances on one database share the counts.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../../config/load.ts';
import type { Config } from '../../../config/schema.ts';
import { createAudit } from '../../../src/audit/log.ts';
import { createEnginePool, type FaceAnalyzer } from '../../../src/biometrics/pool.ts';
import { createCaptureService, type CaptureService } from '../../../src/capture/service.ts';
import { openDatabase, type Db } from '../../../src/db/knex.ts';
import { acrOf } from '../../../src/oidc/acr.ts';
import { enrollCitizen } from '../../../src/registry/enroll.ts';
import { createRiskKeys } from '../../../src/risk/keys.ts';
import { createAttemptLimits } from '../../../src/risk/limits.ts';
import { createSealer } from '../../../src/shared/sealed.ts';
import { describeWithData, face } from '../../helpers/data.ts';
import { cameraShot } from '../../helpers/derive.ts';
import { openTestDatabase, type TestDatabase } from '../../helpers/db.ts';

const camera = cameraShot;

const errorCode = (e: unknown) => (e as { code?: string }).code;

describeWithData('attempt limits and replay defence (capture service)', () => {
  let database: TestDatabase;
  let config: Readonly<Config>;
  let pool: FaceAnalyzer;
  let engineCalls = 0;
  let analyzer: FaceAnalyzer;
  const extraDbs: Db[] = [];

  /** One instance's capture service: its own knex pool and limiters over the shared database. */
  function instance(db: Db, overrides: Record<string, unknown> = {}): CaptureService {
    const c = overrides.risk ? loadConfig({ NODE_ENV: 'test' }, { database: database.database, demo: { enabled: false }, ...overrides }) : config;
    return createCaptureService({
      db, analyzer, sealer: createSealer(c.secrets.dataKeys, c.secrets.dataKeyId), config: c, audit: createAudit(db),
      limits: createAttemptLimits(db, c), keys: createRiskKeys(c.secrets.pairwiseSalt),
    });
  }

  /** One scripted attempt: a new interaction, a capture start and one submission. The answer's code. */
  async function attempt(svc: CaptureService, nationalId: string, frames: Buffer[], ip: string): Promise<string> {
    const interactionUid = randomUUID();
    try {
      const started = await svc.start({ interactionUid, clientId: 'agency', nationalId, acr: acrOf('substantial'), ip, userAgent: 'script/1.0' });
      const r = await svc.submit({ interactionUid, captureId: started.captureId, frames, ip, userAgent: 'script/1.0' });
      return r.status === 'verified' ? 'verified' : r.feedback[0].code;
    } catch (e) {
      return errorCode(e) ?? String(e);
    }
  }

  let service: CaptureService;
  let impostor: Buffer;
  let kit: Buffer;
  let rose: Buffer;

  beforeAll(async () => {
    database = await openTestDatabase();
    // The thousand attempts come from 250 addresses; the step-up after 2 failures is tested elsewhere.
    config = loadConfig({ NODE_ENV: 'test' }, { database: database.database, demo: { enabled: false }, risk: { rules: { stepUpAfterIdFailures: 10 } } });
    pool = await createEnginePool(config.biometrics, 2);
    analyzer = { analyze: (bytes, options) => { engineCalls++; return pool.analyze(bytes, options); }, close: () => pool.close() };
    const sealer = createSealer(config.secrets.dataKeys, config.secrets.dataKeyId);
    const enroll = (nationalId: string, photo: Buffer) => enrollCitizen({ db: database.db, analyzer: pool, sealer, clock: Date.now }, {
      nationalId, givenName: 'Test', familyName: 'Citizen', birthdate: '1970-01-01',
    }, photo);
    await enroll('KH19861226', face('kit_harington', 'kit_harington_1.jpg'));
    await enroll('RL19870225', face('rose_leslie', 'rose_leslie_1.jpg'));
    await enroll('OB19610804', face('obama', 'obama_1.jpg'));
    service = instance(database.db);
    impostor = face('rose_leslie', 'rose_leslie_2.jpg');
    kit = face('kit_harington', 'kit_harington_2.jpg');
    rose = face('rose_leslie', 'rose_leslie_2.jpg');
  });
  afterAll(async () => {
    for (const db of extraDbs) await db.destroy();
    await pool?.close();
    await database?.close();
  });

  it('locks an ID out exactly at the limit over a thousand failures from many IPs, without running the engine again', async () => {
    const limit = config.risk.lockout.maxFailures;
    const before = engineCalls;
    const answers: string[] = [];
    for (let i = 0; i < 1000; i++) answers.push(await attempt(service, 'KH19861226', [await camera(impostor)], `198.51.100.${i % 250}`));
    expect(answers.slice(0, limit)).toEqual(Array(limit).fill('not_verified'));
    expect(new Set(answers.slice(limit))).toEqual(new Set(['locked']));
    // One analysis per failed attempt; none after the lockout.
    expect(engineCalls - before).toBe(limit);
    const locked = await database.db('audit_events').where({ type: 'capture.locked' });
    expect(locked).toHaveLength(1);
    // Nothing in the limiter table names the ID or an address.
    expect(JSON.stringify(await database.db('risk_limits').select())).not.toMatch(/KH19861226|198\.51\.100/);
  });

  it('still signs in a genuine citizen with another ID from the same addresses', async () => {
    expect(await attempt(service, 'RL19870225', [await camera(face('rose_leslie', 'rose_leslie_2.jpg'))], '198.51.100.7')).toBe('verified');
  });

  it('tells a locked citizen when to retry and what else she can do, and doubles the next lockout', async () => {
    const interactionUid = randomUUID();
    const err = await service.start({ interactionUid, clientId: null, nationalId: 'KH19861226', acr: acrOf('substantial'), ip: '203.0.113.9' }).catch((e) => e);
    expect(err).toMatchObject({ code: 'locked', status: 429 });
    const retryAt = Date.parse(err.details.retryAt);
    const base = config.risk.lockout.baseSeconds * 1000;
    expect(retryAt).toBeGreaterThan(Date.now() + base - 60_000);
    expect(retryAt).toBeLessThanOrEqual(Date.now() + base);
    expect(err.message).toContain(`try again after ${err.details.retryAt.slice(0, 16).replace('T', ' ')} UTC`);
    expect(err.message).toMatch(/service desk with your ID card/);
    // The lockout ends (its row expires); five more failures lock it out twice as long.
    await database.db('risk_limits').where('key', 'like', 'idb:%').update({ expire: Date.now() - 1 });
    const limit = config.risk.lockout.maxFailures;
    const answers: string[] = [];
    for (let i = 0; i < limit + 1; i++) answers.push(await attempt(service, 'KH19861226', [await camera(impostor)], '203.0.113.9'));
    expect(answers).toEqual([...Array(limit).fill('not_verified'), 'locked']);
    const again = await service.start({ interactionUid: randomUUID(), clientId: null, nationalId: 'KH19861226', acr: acrOf('substantial'), ip: '203.0.113.9' }).catch((e) => e);
    expect(Date.parse(again.details.retryAt)).toBeGreaterThan(Date.now() + 2 * base - 60_000);
  });

  it('refuses a capture opened before the lockout at its next submission, before the engine', async () => {
    const interactionUid = randomUUID();
    const started = await service.start({ interactionUid, clientId: null, nationalId: 'OB19610804', acr: acrOf('substantial'), ip: '192.0.2.1' });
    for (let i = 0; i < config.risk.lockout.maxFailures; i++) await attempt(service, 'OB19610804', [await camera(impostor)], '192.0.2.2');
    const before = engineCalls;
    const err = await service.submit({ interactionUid, captureId: started.captureId, frames: [await camera(face('obama', 'obama_2.jpg'))], ip: '192.0.2.1' }).catch((e) => e);
    expect(errorCode(err)).toBe('locked');
    expect(engineCalls).toBe(before);
  });

  it('locks an unknown ID out exactly like a known one', async () => {
    const script = async (nationalId: string) => {
      const out: string[] = [];
      for (let i = 0; i < config.risk.lockout.maxFailures + 2; i++) out.push(await attempt(service, nationalId, [await camera(kit)], `10.1.${i}.1`));
      return out;
    };
    const known = await script('RL19870225');
    const unknown = await script('ZZ00000001');
    expect(unknown).toEqual(known);
    expect(known.at(-1)).toBe('locked');
  });

  it('refuses the same frame bytes a second time, in another capture, without the engine; and twice in one submission', async () => {
    const frame = await camera(kit);
    const svc = instance(database.db);
    const first = await attempt(svc, 'ZZ00000002', [frame], '192.0.2.50');
    expect(first).toBe('not_verified');
    const before = engineCalls;
    expect(await attempt(svc, 'ZZ00000003', [frame], '192.0.2.51')).toBe('not_verified');
    expect(engineCalls).toBe(before);
    const replay = await database.db('audit_events').where({ type: 'capture.decided', code: 'replayed_frame' });
    expect(replay).toHaveLength(1);
    expect(JSON.parse(replay[0].details).risk).toEqual({ action: 'deny', reasons: ['replayed_frame'] });
    const twice = await camera(kit);
    expect(await attempt(svc, 'ZZ00000004', [twice, twice], '192.0.2.52')).toBe('not_verified');
    expect(engineCalls).toBe(before);
  });

  it('refuses a verified capture and a rejected one when reused: capture_closed', async () => {
    await database.db('risk_limits').del();
    const interactionUid = randomUUID();
    const ok = await service.start({ interactionUid, clientId: null, nationalId: 'RL19870225', acr: acrOf('substantial'), ip: '192.0.2.60' });
    expect((await service.submit({ interactionUid, captureId: ok.captureId, frames: [await camera(rose)], ip: '192.0.2.60' })).status).toBe('verified');
    const reuse = await service.submit({ interactionUid, captureId: ok.captureId, frames: [await camera(rose)], ip: '192.0.2.60' }).catch((e) => e);
    expect(errorCode(reuse)).toBe('capture_closed');
    const bad = await service.start({ interactionUid, clientId: null, nationalId: 'ZZ00000005', acr: acrOf('substantial'), ip: '192.0.2.61' });
    let last;
    for (let i = 0; i < config.capture.maxAttempts; i++) last = await service.submit({ interactionUid, captureId: bad.captureId, frames: [await camera(rose)], ip: '192.0.2.61' });
    expect(last).toMatchObject({ status: 'rejected', attemptsLeft: 0 });
    const reused = await service.submit({ interactionUid, captureId: bad.captureId, frames: [await camera(rose)], ip: '192.0.2.61' }).catch((e) => e);
    expect(errorCode(reused)).toBe('capture_closed');
  });

  it('asks for the challenge before verifying a photo edited in Photoshop, and saves the actions in the flow', async () => {
    const interactionUid = randomUUID();
    const started = await service.start({ interactionUid, clientId: null, nationalId: 'OB19610804', acr: acrOf('substantial'), ip: '192.0.2.70' })
      .catch(async () => {
        await database.db('risk_limits').del();
        return service.start({ interactionUid, clientId: null, nationalId: 'OB19610804', acr: acrOf('substantial'), ip: '192.0.2.70' });
      });
    expect(started.actions).toEqual([]);
    // The shared photo carries EXIF Software "Adobe Photoshop CC 2017" (obama_2.jpg).
    const r = await service.submit({ interactionUid, captureId: started.captureId, frames: [face('obama', 'obama_2.jpg')], ip: '192.0.2.70' });
    expect(r).toMatchObject({ status: 'retry', feedback: [{ code: 'challenge_required' }], minFrames: config.capture.high.minFrames });
    expect(r.actions).toHaveLength(config.capture.high.actions);
    const row = await database.db('capture_sessions').where({ id: started.captureId }).first();
    expect(JSON.parse(row.actions)).toEqual(r.actions);
    const audit = await database.db('audit_events').where({ type: 'capture.decided', code: 'challenge_required' }).first();
    expect(JSON.parse(audit.details)).toMatchObject({ risk: { action: 'step_up', reasons: expect.arrayContaining(['editing_software']) }, signals: { flags: ['editing_software'] } });
    // The next submission must bring the challenge's frames.
    const few = await service.submit({ interactionUid, captureId: started.captureId, frames: [await camera(face('obama', 'obama_2.jpg'))], ip: '192.0.2.70' }).catch((e) => e);
    expect(errorCode(few)).toBe('too_few_frames');
  });

  it('asks for the challenge when frames come faster than a camera delivers', async () => {
    const interactionUid = randomUUID();
    const started = await service.start({ interactionUid, clientId: null, nationalId: 'RL19870225', acr: acrOf('substantial'), ip: '192.0.2.80' });
    const t = Date.now();
    const r = await service.submit({ interactionUid, captureId: started.captureId, frames: [await camera(rose), await camera(rose)], timestamps: [t, t + 2], ip: '192.0.2.80' });
    expect(r).toMatchObject({ status: 'retry', feedback: [{ code: 'challenge_required' }] });
  });

  it('steps a capture up to the challenge at start after recent failures of the ID', async () => {
    const strict = instance(database.db, { risk: { rules: { stepUpAfterIdFailures: 2 } } });
    for (let i = 0; i < 2; i++) expect(await attempt(strict, 'ZZ00000006', [await camera(impostor)], '192.0.2.90')).toBe('not_verified');
    const started = await strict.start({ interactionUid: randomUUID(), clientId: null, nationalId: 'ZZ00000006', acr: acrOf('substantial'), ip: '192.0.2.90' });
    expect(started.actions).toHaveLength(config.capture.high.actions);
    expect(started.minFrames).toBe(config.capture.high.minFrames);
  });

  it('holds the limits across two instances sharing one database', async () => {
    const dbB = openDatabase(database.database);
    extraDbs.push(dbB);
    const a = service;
    const b = instance(dbB);
    const limit = config.risk.lockout.maxFailures;
    for (let i = 0; i < limit; i++) expect(await attempt(a, 'ZZ00000007', [await camera(impostor)], `172.16.0.${i}`)).toBe('not_verified');
    expect(await attempt(b, 'ZZ00000007', [await camera(impostor)], '172.16.9.9')).toBe('locked');
    // And the other way round: a frame seen by B is a replay on A.
    const frame = await camera(kit);
    await attempt(b, 'ZZ00000008', [frame], '172.16.1.1');
    const before = engineCalls;
    expect(await attempt(a, 'ZZ00000009', [frame], '172.16.1.2')).toBe('not_verified');
    expect(engineCalls).toBe(before);
  });
});

describe('attempt limits without face data', () => {
  it('takes the lockout policy from config', () => {
    const c = loadConfig({ NODE_ENV: 'test', FACEGATE_LOCKOUT_MAX_FAILURES: '3', FACEGATE_LOCKOUT_SECONDS: '60' });
    expect(c.risk.lockout).toMatchObject({ maxFailures: 3, baseSeconds: 60, maxSeconds: 86_400 });
    expect(loadConfig({ NODE_ENV: 'test' }).risk.lockout).toMatchObject({ maxFailures: 5, baseSeconds: 900, maxSeconds: 86_400 });
  });
});

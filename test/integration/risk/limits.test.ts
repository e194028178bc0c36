// Attempt limits, replay defence and the risk rule through the capture service on the real face
// engine and a real database (SQLite, or PostgreSQL with FACEGATE_TEST_DATABASE_URL): a thousand
// scripted failures from many IPs of one network lock one ID out there exactly at the limit without
// running the engine again; another citizen still signs in; unknown and known IDs lock out alike;
// replayed frames and reused captures are refused; two instances on one database share the counts.
// Locks across networks (the ID everywhere only at a higher count): network-lockout.test.ts.
// The genuine citizen is the live one of helpers/live.ts (her registry photo enrolled under
// CITIZEN, and under CITIZEN_2 where a test locks a genuine citizen out); a failure is that live
// citizen claiming someone else's ID (presence passes, the match fails) or fresh copies of a still
// photo (not live, read not_live): both count toward the lockout.
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
import sharp from 'sharp';
import type { ChallengeAction } from '../../../src/capture/flow.ts';
import { createSealer } from '../../../src/shared/sealed.ts';
import { describeWithData, face } from '../../helpers/data.ts';
import { cameraShot } from '../../helpers/derive.ts';
import { openTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { citizenPhoto, liveFrames } from '../../helpers/live.ts';

const camera = cameraShot;

/** What a submission sends: frames, or the frames for the actions the capture start asked for. */
type FramesFor = Buffer[] | ((actions: ChallengeAction[]) => Promise<Buffer[]>);
/** The live citizen's camera performing the server's actions (new bytes every call). */
const live = (actions: ChallengeAction[]) => liveFrames(actions);
/** A still photo held to the camera: `n` fresh copies (new bytes, the same picture): not live. */
const still = (photo: Buffer, n = 3) => () => Promise.all(Array.from({ length: n }, () => camera(photo)));
/** The live citizen's frames, with `frame` (sent before) in place of the first. */
const replaying = (frame: Buffer) => async (actions: ChallengeAction[]) => [frame, ...(await liveFrames(actions)).slice(1)];
/** Keeps what `source` sent in `into`. */
const recording = (into: Buffer[], source: (actions: ChallengeAction[]) => Promise<Buffer[]>) => async (actions: ChallengeAction[]) => {
  const frames = await source(actions);
  into.push(...frames);
  return frames;
};

/** An EXIF APP1 segment naming Adobe Photoshop as the Software (as the shared obama_2.jpg carries). */
const photoshopExif = sharp({ create: { width: 16, height: 16, channels: 3, background: '#808080' } })
  .withExif({ IFD0: { Software: 'Adobe Photoshop CC 2017 (Windows)' } }).jpeg().toBuffer()
  .then((jpeg) => {
    for (let at = 2; at + 4 <= jpeg.length;) {
      const length = jpeg.readUInt16BE(at + 2);
      if (jpeg[at + 1] === 0xe1 && jpeg.toString('latin1', at + 4, at + 8) === 'Exif') return jpeg.subarray(at, at + 2 + length);
      at += 2 + length;
    }
    throw new Error('sharp wrote no EXIF segment');
  });
/** A frame as saved again by Photoshop: the same pixels, its EXIF naming the editor. */
const photoshopped = async (frame: Buffer) => Buffer.concat([frame.subarray(0, 2), await photoshopExif, frame.subarray(2)]);

const CITIZEN = 'LM19800116';
const CITIZEN_2 = 'LM19800117';

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

  /** Submissions made and frames sent by attempt() (a locked start sends none). */
  const sent = { submissions: 0, frames: 0 };

  /** One scripted attempt: a new interaction, a capture start and one submission. The answer's code. */
  async function attempt(svc: CaptureService, nationalId: string, source: FramesFor, ip: string): Promise<string> {
    const interactionUid = randomUUID();
    try {
      const started = await svc.start({ interactionUid, clientId: 'agency', nationalId, acr: acrOf('substantial'), ip, userAgent: 'script/1.0' });
      const frames = typeof source === 'function' ? await source(started.actions) : source;
      sent.submissions++;
      sent.frames += frames.length;
      const r = await svc.submit({ interactionUid, captureId: started.captureId, frames, ip, userAgent: 'script/1.0' });
      return r.status === 'verified' ? 'verified' : r.feedback[0].code;
    } catch (e) {
      return errorCode(e) ?? String(e);
    }
  }

  let service: CaptureService;
  /** A still photo of someone (fresh copies of it are not live). */
  let photo: Buffer;

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
    // Other people's IDs: the live citizen claiming them is an impostor.
    await enroll('KH19861226', face('kit_harington', 'kit_harington_1.jpg'));
    await enroll('RL19870225', face('rose_leslie', 'rose_leslie_1.jpg'));
    // The live citizen, under two IDs (two genuine citizens).
    await enroll(CITIZEN, citizenPhoto());
    await enroll(CITIZEN_2, citizenPhoto());
    service = instance(database.db);
    photo = face('rose_leslie', 'rose_leslie_2.jpg');
  });
  afterAll(async () => {
    for (const db of extraDbs) await db.destroy();
    await pool?.close();
    await database?.close();
  });

  it('locks an ID out exactly at the limit over a thousand failures from many IPs of one network, without running the engine again', async () => {
    const limit = config.risk.lockout.maxFailures;
    const before = engineCalls;
    const was = { ...sent };
    const answers: string[] = [];
    for (let i = 0; i < 1000; i++) answers.push(await attempt(service, 'KH19861226', live, `198.51.100.${i % 250}`));
    expect(answers.slice(0, limit)).toEqual(Array(limit).fill('not_verified'));
    expect(new Set(answers.slice(limit))).toEqual(new Set(['locked']));
    // Only the failed attempts submitted, one analysis per frame each; none after the lockout.
    expect(sent.submissions - was.submissions).toBe(limit);
    expect(sent.frames - was.frames).toBeGreaterThanOrEqual(limit * config.capture.high.minFrames);
    expect(engineCalls - before).toBe(sent.frames - was.frames);
    // Each failure was the face's: presence passed, the match did not (the live citizen is not Kit).
    const decided = await database.db('audit_events').where({ type: 'capture.decided' });
    expect(decided.map((e) => JSON.parse(e.details).checks.at(-1)).map((c: { name: string; outcome: string }) => `${c.name} ${c.outcome}`))
      .toEqual(Array(limit).fill('match fail'));
    const locked = await database.db('audit_events').where({ type: 'capture.locked' });
    expect(locked).toHaveLength(1);
    // Nothing in the limiter table names the ID or an address.
    expect(JSON.stringify(await database.db('risk_limits').select())).not.toMatch(/KH19861226|198\.51\.100/);
  });

  it('still signs in a genuine citizen with another ID from the same addresses', async () => {
    expect(await attempt(service, CITIZEN, live, '198.51.100.7')).toBe('verified');
  });

  it('tells a locked citizen when to retry and what else she can do, and doubles the next lockout', async () => {
    const interactionUid = randomUUID();
    // From the network the thousand failures came from (another network is not locked for it).
    const err = await service.start({ interactionUid, clientId: null, nationalId: 'KH19861226', acr: acrOf('substantial'), ip: '198.51.100.9' }).catch((e) => e);
    expect(err).toMatchObject({ code: 'locked', status: 429 });
    const retryAt = Date.parse(err.details.retryAt);
    const base = config.risk.lockout.baseSeconds * 1000;
    expect(retryAt).toBeGreaterThan(Date.now() + base - 60_000);
    expect(retryAt).toBeLessThanOrEqual(Date.now() + base);
    expect(err.message).toContain(`try again after ${err.details.retryAt.slice(0, 16).replace('T', ' ')} UTC`);
    expect(err.message).toMatch(/service desk with your ID card/);
    // The lockout ends (its row expires); five more failures lock it out twice as long.
    await database.db('risk_limits').where('key', 'like', 'nb:%').update({ expire: Date.now() - 1 });
    const limit = config.risk.lockout.maxFailures;
    const answers: string[] = [];
    for (let i = 0; i < limit + 1; i++) answers.push(await attempt(service, 'KH19861226', live, '198.51.100.9'));
    expect(answers).toEqual([...Array(limit).fill('not_verified'), 'locked']);
    const again = await service.start({ interactionUid: randomUUID(), clientId: null, nationalId: 'KH19861226', acr: acrOf('substantial'), ip: '198.51.100.9' }).catch((e) => e);
    expect(Date.parse(again.details.retryAt)).toBeGreaterThan(Date.now() + 2 * base - 60_000);
  });

  it('refuses a capture opened before the lockout at its next submission, before the engine', async () => {
    const interactionUid = randomUUID();
    const started = await service.start({ interactionUid, clientId: null, nationalId: CITIZEN_2, acr: acrOf('substantial'), ip: '192.0.2.1' });
    const answers: string[] = [];
    for (let i = 0; i < config.risk.lockout.maxFailures; i++) answers.push(await attempt(service, CITIZEN_2, still(photo), '192.0.2.2'));
    expect(answers).toEqual(Array(config.risk.lockout.maxFailures).fill('not_live'));
    // The genuine citizen's own live frames, in the capture opened before: refused all the same.
    const frames = await liveFrames(started.actions);
    const before = engineCalls;
    const err = await service.submit({ interactionUid, captureId: started.captureId, frames, ip: '192.0.2.1' }).catch((e) => e);
    expect(errorCode(err)).toBe('locked');
    expect(engineCalls).toBe(before);
  });

  it('locks an unknown ID out exactly like a known one', async () => {
    const script = async (nationalId: string) => {
      const out: string[] = [];
      for (let i = 0; i < config.risk.lockout.maxFailures + 2; i++) out.push(await attempt(service, nationalId, live, `10.1.0.${i}`));
      return out;
    };
    const known = await script('RL19870225');
    const unknown = await script('ZZ00000001');
    expect(unknown).toEqual(known);
    expect(known.at(-1)).toBe('locked');
  });

  it('refuses the same frame bytes a second time, in another capture, without the engine; and twice in one submission', async () => {
    const seen: Buffer[] = [];
    const svc = instance(database.db);
    const first = await attempt(svc, 'ZZ00000002', recording(seen, live), '192.0.2.50');
    expect(first).toBe('not_verified');
    const before = engineCalls;
    // One frame of the first capture among otherwise new ones.
    expect(await attempt(svc, 'ZZ00000003', replaying(seen[1]), '192.0.2.51')).toBe('not_verified');
    expect(engineCalls).toBe(before);
    const replay = await database.db('audit_events').where({ type: 'capture.decided', code: 'replayed_frame' });
    expect(replay).toHaveLength(1);
    expect(JSON.parse(replay[0].details).risk).toEqual({ action: 'deny', reasons: ['replayed_frame'] });
    // New bytes, but one frame twice in the submission.
    const twice = async (actions: ChallengeAction[]) => {
      const f = await liveFrames(actions);
      return [f[0], f[0], ...f.slice(2)];
    };
    expect(await attempt(svc, 'ZZ00000004', twice, '192.0.2.52')).toBe('not_verified');
    expect(engineCalls).toBe(before);
    const duplicate = await database.db('audit_events').where({ type: 'capture.decided', code: 'not_verified' }).orderBy('id', 'desc').first();
    expect(JSON.parse(duplicate.details).risk).toEqual({ action: 'deny', reasons: ['duplicate_frame'] });
  });

  it('refuses a verified capture and a rejected one when reused: capture_closed', async () => {
    await database.db('risk_limits').del();
    const interactionUid = randomUUID();
    const ok = await service.start({ interactionUid, clientId: null, nationalId: CITIZEN, acr: acrOf('substantial'), ip: '192.0.2.60' });
    expect((await service.submit({ interactionUid, captureId: ok.captureId, frames: await liveFrames(ok.actions), ip: '192.0.2.60' })).status).toBe('verified');
    const reuse = await service.submit({ interactionUid, captureId: ok.captureId, frames: await liveFrames(ok.actions), ip: '192.0.2.60' }).catch((e) => e);
    expect(errorCode(reuse)).toBe('capture_closed');
    const bad = await service.start({ interactionUid, clientId: null, nationalId: 'ZZ00000005', acr: acrOf('substantial'), ip: '192.0.2.61' });
    let last;
    for (let i = 0; i < config.capture.maxAttempts; i++) last = await service.submit({ interactionUid, captureId: bad.captureId, frames: await liveFrames(bad.actions), ip: '192.0.2.61' });
    expect(last).toMatchObject({ status: 'rejected', attemptsLeft: 0 });
    const reused = await service.submit({ interactionUid, captureId: bad.captureId, frames: await liveFrames(bad.actions), ip: '192.0.2.61' }).catch((e) => e);
    expect(errorCode(reused)).toBe('capture_closed');
  });

  it('answers a streamed submission to a capture verified meanwhile with that verdict, deciding nothing again', async () => {
    // Its first stream lost the socket (the balancer took the instance out) while its decision ran
    // on; the page's new stream reached another instance before that decision was in.
    await database.db('risk_limits').del();
    const interactionUid = randomUUID();
    const ok = await service.start({ interactionUid, clientId: null, nationalId: CITIZEN, acr: acrOf('substantial'), ip: '192.0.2.62' });
    expect((await service.submit({ interactionUid, captureId: ok.captureId, frames: await liveFrames(ok.actions), ip: '192.0.2.62' })).status).toBe('verified');
    const count = (type: string) => database.db('audit_events').where({ type, interaction_uid: interactionUid }).count({ n: '*' });
    const decided = await count('capture.decided');
    const frames = await liveFrames(ok.actions);
    const arrivals = frames.map((_, i) => Date.now() + i * 150);
    const again = await service.submit({ interactionUid, captureId: ok.captureId, frames, arrivals, ip: '192.0.2.62' });
    expect(again).toMatchObject({ status: 'verified', feedback: [], attemptsLeft: 0 });
    expect(await count('capture.decided')).toEqual(decided);
    expect(await count('capture.resumed')).toEqual([{ n: 1 }]);
  });

  it('asks for the challenge before verifying frames edited in Photoshop, and saves the actions in the flow', async () => {
    const interactionUid = randomUUID();
    const started = await service.start({ interactionUid, clientId: null, nationalId: CITIZEN, acr: acrOf('substantial'), ip: '192.0.2.70' });
    // Substantial's own small movement: one turn, not high's challenge.
    expect(started.actions).toHaveLength(config.capture.substantial.actions);
    for (const a of started.actions) expect(['turn_left', 'turn_right']).toContain(a);
    // The live citizen's frames, saved again by Photoshop (EXIF Software "Adobe Photoshop CC 2017").
    const edited = await Promise.all((await liveFrames(started.actions)).map(photoshopped));
    const r = await service.submit({ interactionUid, captureId: started.captureId, frames: edited, ip: '192.0.2.70' });
    expect(r).toMatchObject({ status: 'retry', feedback: [{ code: 'challenge_required' }], minFrames: config.capture.high.minFrames, maxFrames: config.capture.high.maxFrames });
    expect(r.actions).toHaveLength(config.capture.high.actions);
    const row = await database.db('capture_sessions').where({ id: started.captureId }).first();
    expect(JSON.parse(row.actions)).toEqual(r.actions);
    const audit = await database.db('audit_events').where({ type: 'capture.decided', code: 'challenge_required' }).first();
    expect(JSON.parse(audit.details)).toMatchObject({ risk: { action: 'step_up', reasons: expect.arrayContaining(['editing_software']) }, signals: { flags: ['editing_software'] } });
    // The next submission must bring the challenge's frames: fewer than its minimum are refused…
    const few = await service.submit({ interactionUid, captureId: started.captureId, frames: (await liveFrames(r.actions!)).slice(0, config.capture.high.minFrames - 1), ip: '192.0.2.70' }).catch((e) => e);
    expect(errorCode(few)).toBe('too_few_frames');
    // …and the citizen performing them (the same editor in the metadata) is verified: the challenge was the step-up.
    const done = await service.submit({ interactionUid, captureId: started.captureId, frames: await Promise.all((await liveFrames(r.actions!)).map(photoshopped)), ip: '192.0.2.70' });
    expect(done.status).toBe('verified');
    const decided = await database.db('audit_events').where({ type: 'capture.decided', interaction_uid: interactionUid }).orderBy('id', 'desc').first();
    expect(JSON.parse(decided.details).risk).toMatchObject({ action: 'allow', reasons: expect.arrayContaining(['editing_software', 'challenge_done']) });
  });

  it('asks for the challenge when frames come faster than a camera delivers', async () => {
    const interactionUid = randomUUID();
    const started = await service.start({ interactionUid, clientId: null, nationalId: CITIZEN, acr: acrOf('substantial'), ip: '192.0.2.80' });
    const frames = await liveFrames(started.actions);
    const t = Date.now();
    const r = await service.submit({ interactionUid, captureId: started.captureId, frames, timestamps: frames.map((_, i) => t + 2 * i), ip: '192.0.2.80' });
    expect(r).toMatchObject({ status: 'retry', feedback: [{ code: 'challenge_required' }] });
  });

  it('steps a capture up to the challenge at start after recent failures of the ID', async () => {
    const strict = instance(database.db, { risk: { rules: { stepUpAfterIdFailures: 2 } } });
    for (let i = 0; i < 2; i++) expect(await attempt(strict, 'ZZ00000006', live, '192.0.2.90')).toBe('not_verified');
    const started = await strict.start({ interactionUid: randomUUID(), clientId: null, nationalId: 'ZZ00000006', acr: acrOf('substantial'), ip: '192.0.2.90' });
    // High's challenge (more actions than substantial's one turn) and its frame counts.
    expect(started.actions).toHaveLength(config.capture.high.actions);
    expect(started.actions.length).toBeGreaterThan(config.capture.substantial.actions);
    expect(started.minFrames).toBe(config.capture.high.minFrames);
    expect(started.maxFrames).toBe(config.capture.high.maxFrames);
  });

  it('holds the limits across two instances sharing one database', async () => {
    const dbB = openDatabase(database.database);
    extraDbs.push(dbB);
    const a = service;
    const b = instance(dbB);
    const limit = config.risk.lockout.maxFailures;
    for (let i = 0; i < limit; i++) expect(await attempt(a, 'ZZ00000007', live, `172.16.0.${i}`)).toBe('not_verified');
    expect(await attempt(b, 'ZZ00000007', live, '172.16.0.9')).toBe('locked');
    // And the other way round: a frame seen by B is a replay on A.
    const seen: Buffer[] = [];
    expect(await attempt(b, 'ZZ00000008', recording(seen, live), '172.16.1.1')).toBe('not_verified');
    const before = engineCalls;
    expect(await attempt(a, 'ZZ00000009', replaying(seen[1]), '172.16.1.2')).toBe('not_verified');
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

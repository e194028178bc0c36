// Replay defence and a retry after a crash (finding 18), on a real database (SQLite, or
// PostgreSQL with FACEGATE_TEST_DATABASE_URL). Each frame digest is recorded with the capture that
// sent it and whether that submission got its answer: frames of a submission that never got one
// (the instance died, the engine failed) may come again in the same capture, once its next
// submission claims them; anywhere else, or once answered, the same bytes are a replay.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../../config/load.ts';
import type { Config } from '../../../config/schema.ts';
import { createAudit } from '../../../src/audit/log.ts';
import { createEnginePool, type FaceAnalyzer } from '../../../src/biometrics/pool.ts';
import { createCaptureService, type CaptureService } from '../../../src/capture/service.ts';
import { claimFlow, loadFlow } from '../../../src/capture/store.ts';
import { openDatabase, type Db } from '../../../src/db/knex.ts';
import { acrOf } from '../../../src/oidc/acr.ts';
import { enrollCitizen } from '../../../src/registry/enroll.ts';
import { createRiskKeys } from '../../../src/risk/keys.ts';
import { createAttemptLimits } from '../../../src/risk/limits.ts';
import { digestsOf, recordFrames, settleFrames } from '../../../src/risk/replay.ts';
import { createSealer } from '../../../src/shared/sealed.ts';
import { describeWithData, face } from '../../helpers/data.ts';
import { openTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { citizenPhoto, liveFrames, warmLiveCitizen } from '../../helpers/live.ts';

const windowMs = 60_000;
/** Digests of distinct made-up frames. */
const digests = (...names: string[]) => digestsOf(names.map((n) => Buffer.from(`frame ${n} ${randomUUID()}`)));

describe('frame digests: replays, and a retry of a submission that never got an answer (recordFrames)', () => {
  let t: TestDatabase;
  beforeAll(async () => { t = await openTestDatabase(); });
  afterAll(() => t?.close());

  it('lets the same capture send again the frames of a submission that never got an answer, and no other capture', async () => {
    const frames = digests('a', 'b', 'c');
    expect(await recordFrames(t.db, frames, 1000, windowMs, { owner: 'capture-A', submission: 1 })).toMatchObject({ replayed: 0, duplicates: 0 });
    // The instance died there: no answer, nothing settled. Another sign-in's capture sends them.
    expect(await recordFrames(t.db, frames, 1500, windowMs, { owner: 'capture-B', submission: 1 })).toMatchObject({ replayed: 3 });
    // The same capture's next submission (the flow's next version): its own retry, not a replay.
    expect(await recordFrames(t.db, frames, 2000, windowMs, { owner: 'capture-A', submission: 2 })).toEqual({ replayed: 0, duplicates: 0, retried: 3 });
  });

  it('refuses the frames once their submission was answered, even to the same capture', async () => {
    const frames = digests('a', 'b', 'c');
    await recordFrames(t.db, frames, 1000, windowMs, { owner: 'capture-C', submission: 1 });
    expect(await settleFrames(t.db, frames, { owner: 'capture-C', submission: 1 }, 1100)).toBe(3);
    expect(await recordFrames(t.db, frames, 2000, windowMs, { owner: 'capture-C', submission: 2 })).toMatchObject({ replayed: 3, retried: 0 });
    expect(await recordFrames(t.db, frames, 2000, windowMs, { owner: 'capture-D', submission: 1 })).toMatchObject({ replayed: 3 });
  });

  it('refuses a retried frame once the retry was answered', async () => {
    const frames = digests('a', 'b');
    await recordFrames(t.db, frames, 1000, windowMs, { owner: 'capture-E', submission: 1 });
    expect(await recordFrames(t.db, frames, 2000, windowMs, { owner: 'capture-E', submission: 2 })).toMatchObject({ replayed: 0, retried: 2 });
    // Settling names the submission that claimed them: the one before has nothing left to settle.
    expect(await settleFrames(t.db, frames, { owner: 'capture-E', submission: 1 }, 2100)).toBe(0);
    expect(await settleFrames(t.db, frames, { owner: 'capture-E', submission: 2 }, 2100)).toBe(2);
    expect(await recordFrames(t.db, frames, 3000, windowMs, { owner: 'capture-E', submission: 3 })).toMatchObject({ replayed: 2 });
  });

  it('never hands frames claimed by a later submission back to an earlier one', async () => {
    const frames = digests('a', 'b');
    await recordFrames(t.db, frames, 1000, windowMs, { owner: 'capture-F', submission: 1 });
    expect(await recordFrames(t.db, frames, 2000, windowMs, { owner: 'capture-F', submission: 3 })).toMatchObject({ replayed: 0, retried: 2 });
    expect(await recordFrames(t.db, frames, 2000, windowMs, { owner: 'capture-F', submission: 2 })).toMatchObject({ replayed: 2, retried: 0 });
    expect(await recordFrames(t.db, frames, 2000, windowMs, { owner: 'capture-F', submission: 3 })).toMatchObject({ replayed: 2, retried: 0 });
  });

  it('counts each frame of a mixed retry: new, its own unanswered, another capture\'s, twice in one submission', async () => {
    const [own, theirs, fresh] = [digests('own'), digests('theirs'), digests('fresh')].map((d) => d[0]);
    await recordFrames(t.db, [own], 1000, windowMs, { owner: 'capture-G', submission: 1 });
    await recordFrames(t.db, [theirs], 1000, windowMs, { owner: 'capture-H', submission: 1 });
    expect(await recordFrames(t.db, [own, theirs, fresh, fresh], 2000, windowMs, { owner: 'capture-G', submission: 2 }))
      .toEqual({ replayed: 1, duplicates: 1, retried: 1 });
  });

  it('forgets a digest after its window, answered or not', async () => {
    const frames = digests('a');
    await recordFrames(t.db, frames, 1000, windowMs, { owner: 'capture-I', submission: 1 });
    await settleFrames(t.db, frames, { owner: 'capture-I', submission: 1 }, 1000);
    expect(await recordFrames(t.db, frames, 1000 + windowMs, windowMs, { owner: 'capture-J', submission: 1 })).toMatchObject({ replayed: 0, retried: 0 });
  });

  it('treats a digest recorded before owners were (no owner) as answered', async () => {
    const [d] = digests('old');
    await t.db('frame_hashes').insert({ digest: d, seen_at: 1000, expires_at: 1000 + windowMs, settled_at: 1000 });
    expect(await recordFrames(t.db, [d], 2000, windowMs, { owner: 'capture-K', submission: 1 })).toMatchObject({ replayed: 1 });
  });
});

const CITIZEN = 'LM19800116';
const IMPOSTOR_TARGET = 'KH19861226';
const errorCode = (e: unknown) => (e as { code?: string }).code;

describeWithData('a retry after a crash is not a replay (capture service)', () => {
  let database: TestDatabase;
  let config: Readonly<Config>;
  let pool: FaceAnalyzer;
  /** Set: the face engine fails (a worker died) instead of analysing. */
  let engineDown = false;
  let engineCalls = 0;
  let analyzer: FaceAnalyzer;
  const extraDbs: Db[] = [];
  let service: CaptureService;
  const keys = () => createRiskKeys(config.secrets.pairwiseSalt);

  function instance(db: Db): CaptureService {
    return createCaptureService({
      db, analyzer, sealer: createSealer(config.secrets.dataKeys, config.secrets.dataKeyId), config, audit: createAudit(db),
      limits: createAttemptLimits(db, config), keys: keys(),
    });
  }

  beforeAll(async () => {
    database = await openTestDatabase();
    config = loadConfig({ NODE_ENV: 'test' }, { database: database.database, demo: { enabled: false }, risk: { rules: { stepUpAfterIdFailures: 10 } } });
    pool = await createEnginePool(config.biometrics, 2);
    analyzer = {
      analyze: (bytes, options) => {
        engineCalls++;
        return engineDown ? Promise.reject(new Error('the worker died')) : pool.analyze(bytes, options);
      },
      close: () => pool.close(),
    };
    const sealer = createSealer(config.secrets.dataKeys, config.secrets.dataKeyId);
    await enrollCitizen({ db: database.db, analyzer: pool, sealer, clock: Date.now }, { nationalId: CITIZEN, givenName: 'Test', familyName: 'Citizen', birthdate: '1970-01-01' }, citizenPhoto());
    await enrollCitizen({ db: database.db, analyzer: pool, sealer, clock: Date.now }, { nationalId: IMPOSTOR_TARGET, givenName: 'Kit', familyName: 'Harington', birthdate: '1986-12-26' }, face('kit_harington', 'kit_harington_1.jpg'));
    await warmLiveCitizen();
    service = instance(database.db);
  }, 120_000);
  afterAll(async () => {
    for (const db of extraDbs) await db.destroy();
    await pool?.close();
    await database?.close();
  });

  const start = async (svc: CaptureService, nationalId: string, ip: string) => {
    const interactionUid = randomUUID();
    const started = await svc.start({ interactionUid, clientId: null, nationalId, acr: acrOf('substantial'), ip });
    return { interactionUid, ...started };
  };
  /** What an instance that died mid-submission left: the flow claimed, the frames recorded, no answer. */
  const crashAfterRecording = async (interactionUid: string, captureId: string, frames: Buffer[]) => {
    const claimed = await claimFlow(database.db, await loadFlow(database.db, captureId, interactionUid), Date.now());
    await recordFrames(database.db, digestsOf(frames), Date.now(), config.risk.replay.windowSeconds * 1000, { owner: captureId, submission: claimed.version });
  };
  const decided = (interactionUid: string) => database.db('audit_events').where({ type: 'capture.decided', interaction_uid: interactionUid }).orderBy('id');
  const failures = async (nationalId: string) => (await createAttemptLimits(database.db, config).idState(keys().id(nationalId))).failures;

  it('verifies the same frames sent again in the same capture after the instance died having recorded them; another sign-in sending them is a replay', async () => {
    const a = await start(service, CITIZEN, '192.0.2.10');
    const frames = await liveFrames(a.actions);
    await crashAfterRecording(a.interactionUid, a.captureId, frames);
    // Someone else's sign-in with those bytes: a replay, the engine never runs.
    const b = await start(service, CITIZEN, '192.0.2.11');
    const before = engineCalls;
    expect(await service.submit({ interactionUid: b.interactionUid, captureId: b.captureId, frames, ip: '192.0.2.11' })).toMatchObject({ status: 'rejected', feedback: [{ code: 'not_verified' }] });
    expect(engineCalls).toBe(before);
    expect((await decided(b.interactionUid)).map((e) => e.code)).toEqual(['replayed_frame']);
    // The citizen's app sends its buffered frames again, to the capture that never answered.
    const r = await service.submit({ interactionUid: a.interactionUid, captureId: a.captureId, frames, ip: '192.0.2.10' });
    expect(r.status).toBe('verified');
    const events = await decided(a.interactionUid);
    expect(events.map((e) => e.code)).toEqual([null]);
    expect(JSON.parse(events[0].details).signals.replay).toEqual({ replayed: 0, duplicates: 0, retried: frames.length });
    // Answered now: the same bytes are a replay everywhere.
    const c = await start(service, CITIZEN, '192.0.2.12');
    expect(await service.submit({ interactionUid: c.interactionUid, captureId: c.captureId, frames, ip: '192.0.2.12' })).toMatchObject({ status: 'rejected' });
    expect((await decided(c.interactionUid)).map((e) => e.code)).toEqual(['replayed_frame']);
  });

  it('counts no failure when the engine failed after recording and the same frames come again in the same capture', async () => {
    await createAttemptLimits(database.db, config).reset(keys().id(IMPOSTOR_TARGET));
    // The live citizen claiming Kit's ID: the retry of her own frames fails on the match (one
    // failure, the face's), not as a replay before the engine.
    const a = await start(service, IMPOSTOR_TARGET, '192.0.2.20');
    const frames = await liveFrames(a.actions);
    engineDown = true;
    const err = await service.submit({ interactionUid: a.interactionUid, captureId: a.captureId, frames, ip: '192.0.2.20' }).catch((e) => e);
    engineDown = false;
    expect(err).toBeInstanceOf(Error);
    expect(await failures(IMPOSTOR_TARGET)).toBe(0);
    const r = await service.submit({ interactionUid: a.interactionUid, captureId: a.captureId, frames, ip: '192.0.2.20' });
    expect(r).toMatchObject({ status: 'rejected', feedback: [{ code: 'not_verified' }] });
    const codes = (await decided(a.interactionUid)).map((e) => e.code);
    expect(codes).toEqual(['no_match']);
    const checks = JSON.parse((await decided(a.interactionUid))[0].details).checks;
    expect(checks.at(-1)).toMatchObject({ name: 'match', outcome: 'fail' });
    expect(await failures(IMPOSTOR_TARGET)).toBe(1);
  });

  it('refuses the same frames after an answer, even in the same capture, without the engine', async () => {
    await createAttemptLimits(database.db, config).reset(keys().id(IMPOSTOR_TARGET));
    const a = await start(service, IMPOSTOR_TARGET, '192.0.2.30');
    const frames = await liveFrames(a.actions);
    const first = await service.submit({ interactionUid: a.interactionUid, captureId: a.captureId, frames, ip: '192.0.2.30' });
    expect(first).toMatchObject({ feedback: [{ code: 'not_verified' }] });
    expect(first.attemptsLeft).toBeGreaterThan(0);
    const before = engineCalls;
    const again = await service.submit({ interactionUid: a.interactionUid, captureId: a.captureId, frames, ip: '192.0.2.30' });
    expect(again).toMatchObject({ feedback: [{ code: 'not_verified' }] });
    expect(engineCalls).toBe(before);
    expect((await decided(a.interactionUid)).map((e) => e.code)).toEqual(['no_match', 'replayed_frame']);
  });

  it('answers one of two instances retrying the same unanswered frames at once; the other gets capture_busy and counts nothing', async () => {
    await createAttemptLimits(database.db, config).reset(keys().id(CITIZEN));
    const dbB = openDatabase(database.database);
    extraDbs.push(dbB);
    const b = instance(dbB);
    const a = await start(service, CITIZEN, '192.0.2.40');
    const frames = await liveFrames(a.actions);
    await crashAfterRecording(a.interactionUid, a.captureId, frames);
    const results = await Promise.all([service, b].map((svc) => svc.submit({ interactionUid: a.interactionUid, captureId: a.captureId, frames, ip: '192.0.2.40' })
      .then((r) => r.status, (e) => errorCode(e) ?? String(e))));
    expect(results.filter((x) => x === 'verified')).toHaveLength(1);
    // The other lost the flow to it (capture_busy), or came after its answer (capture_closed).
    expect(['capture_busy', 'capture_closed']).toContain(results.find((x) => x !== 'verified'));
    expect((await decided(a.interactionUid)).map((e) => e.code)).toEqual([null]);
    expect(await failures(CITIZEN)).toBe(0);
    // The frames are answered: a later retry in the same capture is closed, elsewhere a replay.
    const c = await start(service, CITIZEN, '192.0.2.41');
    await service.submit({ interactionUid: c.interactionUid, captureId: c.captureId, frames, ip: '192.0.2.41' });
    expect((await decided(c.interactionUid)).map((e) => e.code)).toEqual(['replayed_frame']);
  });

  it('still refuses the same frames twice in one capture\'s retry (duplicates)', async () => {
    const a = await start(service, CITIZEN, '192.0.2.50');
    const frames = await liveFrames(a.actions);
    await crashAfterRecording(a.interactionUid, a.captureId, frames);
    const twice = [frames[0], frames[0], ...frames.slice(2)];
    const r = await service.submit({ interactionUid: a.interactionUid, captureId: a.captureId, frames: twice, ip: '192.0.2.50' });
    expect(r).toMatchObject({ status: 'rejected', feedback: [{ code: 'not_verified' }] });
    const events = await decided(a.interactionUid);
    expect(events).toHaveLength(1);
    expect(JSON.parse(events[0].details).risk).toEqual({ action: 'deny', reasons: ['duplicate_frame'] });
  });
});

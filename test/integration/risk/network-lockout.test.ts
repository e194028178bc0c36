// Lockouts are no weapon (review finding 4; NIST SP 800-63B 5.2.2): failures are counted per
// national ID on each source network (IPv4 /24, IPv6 /64) and per ID across all networks. At
// risk.lockout.maxFailures failures from one network only that network is locked for the ID; the
// genuine citizen elsewhere is asked for the active challenge, not locked out. The ID is locked
// everywhere only at risk.lockout.maxFailuresAnyNetwork failures across networks; an unknown ID
// reads exactly like a known one all the way. On the real face engine and a real database.
// The impostor holds a still photo of someone else (not live); the genuine citizen is the live one
// of helpers/live.ts, her registry photo enrolled under CITIZEN.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../../config/load.ts';
import type { Config } from '../../../config/schema.ts';
import { createAudit } from '../../../src/audit/log.ts';
import { createEnginePool, type FaceAnalyzer } from '../../../src/biometrics/pool.ts';
import type { ChallengeAction } from '../../../src/capture/flow.ts';
import { createCaptureService, type CaptureService } from '../../../src/capture/service.ts';
import { acrOf } from '../../../src/oidc/acr.ts';
import { enrollCitizen } from '../../../src/registry/enroll.ts';
import { createRiskKeys } from '../../../src/risk/keys.ts';
import { createAttemptLimits } from '../../../src/risk/limits.ts';
import { createSealer } from '../../../src/shared/sealed.ts';
import { describeWithData, face } from '../../helpers/data.ts';
import { cameraShot } from '../../helpers/derive.ts';
import { openTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { citizenPhoto, liveFrames } from '../../helpers/live.ts';

const CITIZEN = 'LM19800118';
const OTHER = 'KH19861227';
const UNKNOWN = 'ZZ00000118';

type Answer = { code: string; actions?: number; message?: string };

describeWithData('lockouts per ID and network (capture service)', () => {
  let database: TestDatabase;
  let config: Readonly<Config>;
  let pool: FaceAnalyzer;
  let service: CaptureService;
  let photo: Buffer;

  /** A still photo held to the camera: fresh copies, as many as the capture asks for. */
  const still = (actions: ChallengeAction[]) => Promise.all(Array.from({ length: Math.max(3, actions.length * 2 + 1) }, () => cameraShot(photo)));
  const live = (actions: ChallengeAction[]) => liveFrames(actions);

  /** One attempt: a new interaction, a start and one submission (a step-up's challenge is performed). */
  async function attempt(nationalId: string, frames: (a: ChallengeAction[]) => Promise<Buffer[]>, ip: string): Promise<Answer> {
    const interactionUid = randomUUID();
    try {
      const started = await service.start({ interactionUid, clientId: 'agency', nationalId, acr: acrOf('substantial'), ip, userAgent: 'script/1.0' });
      let r = await service.submit({ interactionUid, captureId: started.captureId, frames: await frames(started.actions), ip, userAgent: 'script/1.0' });
      if (r.actions) r = await service.submit({ interactionUid, captureId: started.captureId, frames: await frames(r.actions), ip, userAgent: 'script/1.0' });
      return { code: r.status === 'verified' ? 'verified' : r.feedback[0].code, actions: started.actions.length };
    } catch (e) {
      const err = e as { code?: string; message?: string };
      return { code: err.code ?? String(e), message: err.message };
    }
  }

  beforeAll(async () => {
    database = await openTestDatabase();
    // The generic step-up after recent ID failures set far off: the step-up seen here is the
    // network rule's (failures of the ID past the per-network limit, from any network).
    config = loadConfig({ NODE_ENV: 'test' }, { database: database.database, demo: { enabled: false }, risk: { rules: { stepUpAfterIdFailures: 50 } } });
    pool = await createEnginePool(config.biometrics, 2);
    const sealer = createSealer(config.secrets.dataKeys, config.secrets.dataKeyId);
    const enroll = (nationalId: string, p: Buffer) => enrollCitizen({ db: database.db, analyzer: pool, sealer, clock: Date.now }, {
      nationalId, givenName: 'Test', familyName: 'Citizen', birthdate: '1970-01-01',
    }, p);
    await enroll(CITIZEN, citizenPhoto());
    await enroll(OTHER, face('kit_harington', 'kit_harington_1.jpg'));
    service = createCaptureService({
      db: database.db, analyzer: pool, sealer, config, audit: createAudit(database.db),
      limits: createAttemptLimits(database.db, config), keys: createRiskKeys(config.secrets.pairwiseSalt),
    });
    photo = face('rose_leslie', 'rose_leslie_2.jpg');
  });
  afterAll(async () => {
    await pool?.close();
    await database?.close();
  });

  it('locks the impostor\'s network only; the citizen elsewhere gets the challenge, and the ID locks everywhere only at the higher count', async () => {
    const { maxFailures } = config.risk.lockout;
    const anyNetwork = config.risk.lockout.maxFailuresAnyNetwork;
    expect(anyNetwork).toBeGreaterThan(maxFailures);
    // maxFailures impostor attempts from network A (other addresses of one /24 count together).
    for (let i = 0; i < maxFailures; i++) expect((await attempt(CITIZEN, still, `203.0.113.${10 + i}`)).code).not.toBe('locked');
    const fromA = await attempt(CITIZEN, still, '203.0.113.99');
    expect(fromA.code).toBe('locked');

    // The genuine citizen from network B: not locked out, asked for the active challenge at start
    // (high's actions, more than substantial's one turn), and signed in after performing it.
    const fromB = await attempt(CITIZEN, live, '198.51.100.20');
    expect(fromB).toEqual({ code: 'verified', actions: config.capture.high.actions });
    const started = await database.db('audit_events').where({ type: 'capture.started' }).orderBy('id', 'desc').first();
    expect(JSON.parse(started.details).risk).toMatchObject({ action: 'step_up', reasons: expect.arrayContaining(['recent_id_failures']) });
    // A's lock says it is this network's; her success does not lift it.
    expect(fromA.message).toMatch(/from your network/);
    expect((await attempt(CITIZEN, still, '203.0.113.7')).code).toBe('locked');
    const pairLocks = await database.db('audit_events').where({ type: 'capture.locked' });
    expect(pairLocks.map((e) => JSON.parse(e.details).scope)).toEqual(['id_network']);

    // The impostor moves from network to network: each locks at maxFailures, and at anyNetwork
    // failures across networks (counted afresh after her success) the ID is locked everywhere.
    const answers: string[] = [];
    for (let i = 0; i < anyNetwork; i++) answers.push((await attempt(CITIZEN, still, `10.20.${Math.floor(i / maxFailures)}.${i % maxFailures}`)).code);
    expect(answers).not.toContain('locked');
    for (const ip of ['10.99.0.1', '198.51.100.20']) {
      const a = await attempt(CITIZEN, live, ip);
      expect(a.code).toBe('locked');
      expect(a.message).toMatch(/^Too many attempts to verify this ID number have failed/);
    }
    const locks = (await database.db('audit_events').where({ type: 'capture.locked' }).orderBy('id')).map((e) => JSON.parse(e.details).scope);
    expect(locks.at(-1)).toBe('id');
    expect(locks.filter((s) => s === 'id')).toHaveLength(1);
  }, 180_000);

  it('locks an unknown ID across networks exactly like a known one', async () => {
    const { maxFailures, maxFailuresAnyNetwork } = config.risk.lockout;
    const script = async (nationalId: string, net: number) => {
      const out: string[] = [];
      for (let i = 0; i < maxFailuresAnyNetwork + 2; i++) out.push((await attempt(nationalId, live, `10.${net}.${Math.floor(i / (maxFailures - 1))}.${i}`)).code);
      return out;
    };
    // The live citizen claiming Kit's ID (an impostor) and an ID the registry does not hold.
    const known = await script(OTHER, 40);
    const unknown = await script(UNKNOWN, 41);
    expect(unknown).toEqual(known);
    expect(known).toEqual([...Array(maxFailuresAnyNetwork).fill('not_verified'), 'locked', 'locked']);
  }, 240_000);
});

describe('lockouts per ID and network (the counters)', () => {
  let t: TestDatabase;
  let limits: ReturnType<typeof createAttemptLimits>;
  let config: Readonly<Config>;
  beforeAll(async () => {
    t = await openTestDatabase();
    config = loadConfig({ NODE_ENV: 'test' }, { database: t.database });
    limits = createAttemptLimits(t.db, config);
  });
  afterAll(() => t?.close());
  const failOn = async (id: string, net: string) => limits.settle(await limits.reserve(id, `ip-${net}`, net), 'failure');

  it('locks a network at maxFailures, the ID everywhere at maxFailuresAnyNetwork; a success resets hers and the ID-wide count', async () => {
    const { maxFailures, maxFailuresAnyNetwork } = config.risk.lockout;
    for (let i = 0; i < maxFailures - 1; i++) expect(await failOn('id-1', 'net-a')).toBeUndefined();
    expect(await failOn('id-1', 'net-a')).toMatchObject({ scope: 'id_network', reason: 'lockout' });
    expect((await limits.status('id-1', 'ip-a', 'net-a')).lock).toMatchObject({ scope: 'id_network' });
    expect(await limits.status('id-1', 'ip-b', 'net-b')).toEqual({ idFailures: maxFailures, ipFailures: 0, lock: undefined });
    // A success on B: B's and the ID-wide counts start afresh; A stays locked.
    await limits.settle(await limits.reserve('id-1', 'ip-b', 'net-b'), 'success');
    expect(await limits.status('id-1', 'ip-b', 'net-b')).toMatchObject({ idFailures: 0, lock: undefined });
    expect((await limits.status('id-1', 'ip-a', 'net-a')).lock).toMatchObject({ scope: 'id_network' });
    // maxFailures - 1 on each of many networks: none locks, until the ID-wide count does.
    let lock;
    for (let i = 0; i < maxFailuresAnyNetwork; i++) lock = await failOn('id-1', `net-${Math.floor(i / (maxFailures - 1))}`);
    expect(lock).toMatchObject({ scope: 'id', reason: 'lockout' });
    expect((await limits.status('id-1', 'ip-z', 'net-z')).lock).toMatchObject({ scope: 'id', reason: 'lockout' });
    expect(await limits.lockouts('id-1')).toBe(1);
    expect(await limits.lockouts('id-1', 'net-a')).toBe(1);
  });

  it('spends quality retries per network: a full budget on one network holds up no other', async () => {
    for (let i = 0; i < config.risk.retriesPerIdPerHour; i++) await limits.settle(await limits.reserve('id-2', 'ip-a', 'net-a'), 'retry');
    expect((await limits.status('id-2', 'ip-a', 'net-a')).lock).toMatchObject({ scope: 'id_network', reason: 'retries' });
    expect((await limits.status('id-2', 'ip-b', 'net-b')).lock).toBeUndefined();
  });

  it('shows an operator the locks on networks, and reset lifts them all', async () => {
    const { maxFailures } = config.risk.lockout;
    // Keys are base64url: '_' (a LIKE wildcard) in one, and neighbours differing only in case or at the '_'.
    const id = 'id_3';
    for (const net of ['net-a', 'net-b']) for (let i = 0; i < maxFailures; i++) await failOn(id, net);
    for (const other of ['ID_3', 'idx3']) for (let i = 0; i < maxFailures; i++) await failOn(other, 'net-a');
    expect(await limits.idState(id)).toMatchObject({ failures: 2 * maxFailures, lockouts: 0, lock: { scope: 'id_network' }, lockedNetworks: 2, networkLockouts: 2 });
    await limits.reset(id);
    expect(await limits.idState(id)).toEqual({ failures: 0, retries: 0, lockouts: 0, lock: undefined, lockedNetworks: 0, networkLockouts: 0 });
    expect((await limits.status(id, 'ip-a', 'net-a')).lock).toBeUndefined();
    for (const other of ['ID_3', 'idx3']) expect(await limits.idState(other)).toMatchObject({ lockedNetworks: 1, networkLockouts: 1 });
  });
});

// The passkey step's WebAuthn verification, end to end below HTTP: real registrations and assertions
// made by a software ES256 authenticator (test/helpers/passkey-authenticator.ts) and verified by
// @simplewebauthn/server against challenges stored in the database (SQLite, or PostgreSQL with
// FACEGATE_TEST_DATABASE_URL). Covers hwk vs swk, single-use challenges, a wrong origin, a counter
// that goes back, bounded failures, face only, possession required, and removal (audited).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type Provider from 'oidc-provider';
import { loadConfig } from '../../../config/load.ts';
import { createAudit } from '../../../src/audit/log.ts';
import { createPasskeys, type Passkeys } from '../../../src/passkeys/service.ts';
import { listPasskeys, removePasskey } from '../../../src/passkeys/store.ts';
import { insertCitizen } from '../../../src/registry/citizens.ts';
import { openTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { softAuthenticator } from '../../helpers/passkey-authenticator.ts';

const issuer = 'https://id.example.gov';
const rp = { rpId: 'id.example.gov', origin: issuer };

describe('passkey step (WebAuthn verified by @simplewebauthn/server)', () => {
  let t: TestDatabase;
  let passkeys: Passkeys;
  let citizenId: string;
  let n = 0;
  const audit = () => createAudit(t.db);
  const events = async (type: string) => (await t.db('audit_events').where({ type }).orderBy('id')).map((r: { details: string | object; outcome: string }) => ({
    outcome: r.outcome, details: typeof r.details === 'string' ? JSON.parse(r.details) as Record<string, unknown> : r.details,
  }));

  /** The row a verified face writes (service.afterFace), for a fresh interaction. */
  async function faceVerified(mode: 'offer' | 'assert' | 'required', required = false): Promise<string> {
    const uid = `uid-${++n}`;
    const now = Date.now();
    await t.db('passkey_steps').insert({
      interaction_uid: uid, citizen_id: citizenId, client_id: 'pension-office', acr: 'http://eidas.europa.eu/LoA/substantial', face_at: Math.floor(now / 1000),
      mode, required, challenge: null, challenge_expires_at: null, failures: 0, expires_at: now + 600_000, created_at: now,
    });
    return uid;
  }
  const who = { ip: '192.0.2.1', userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0 Safari/537.36' };

  beforeAll(async () => {
    t = await openTestDatabase();
    const config = loadConfig({ NODE_ENV: 'test' }, { server: { issuer, logLevel: 'silent' }, database: t.database });
    // Only afterFace reads the provider (the browser test covers it); these paths never do.
    passkeys = createPasskeys({ db: t.db, audit: audit(), config, provider: {} as Provider });
    citizenId = (await insertCitizen(t.db, { nationalId: 'PK19610804', givenName: 'Ada', familyName: 'Passkey', birthdate: '1961-08-04' }, Date.now)).id;
  });
  afterAll(async () => { await t?.close(); });

  it('derives the relying party from the issuer', () => {
    expect(passkeys.enabled).toBe(true);
    expect(passkeys.relyingParty).toEqual(rp);
  });

  it('registers a device-bound passkey after the face (hwk), then signs in with face + hwk', async () => {
    const device = softAuthenticator(rp);
    const uid = await faceVerified('offer');
    const creation = await passkeys.options(uid) as { challenge: string; rp: { id: string }; attestation: string };
    expect(creation.rp.id).toBe(rp.rpId);
    expect(creation.attestation).toBe('none');
    const registered = await passkeys.register(uid, device.register(creation), who);
    expect(registered).toEqual({ finish: expect.objectContaining({ citizenId, amr: ['face', 'user'] }) });
    const mine = await listPasskeys(t.db, citizenId);
    expect(mine).toEqual([expect.objectContaining({ id: device.id, kind: 'hwk', label: 'Chrome on Linux', lastUsedAt: null })]);
    expect((await events('passkey.registered')).at(-1)?.details).toMatchObject({ kind: 'hwk', deviceType: 'singleDevice', backedUp: false });

    const next = await faceVerified('assert');
    const request = await passkeys.options(next) as { challenge: string; allowCredentials: Array<{ id: string }>; userVerification: string };
    expect(request.allowCredentials.map((c) => c.id)).toEqual([device.id]);
    expect(request.userVerification).toBe('preferred');
    const used = await passkeys.authenticate(next, device.assert(request), who);
    expect(used).toEqual({ finish: expect.objectContaining({ citizenId, amr: ['face', 'user', 'hwk'] }) });
    expect((await listPasskeys(t.db, citizenId))[0].lastUsedAt).not.toBeNull();
    // The step is single use: nothing is left to finish twice.
    await expect(passkeys.loadStep(next)).rejects.toMatchObject({ code: 'passkey_unavailable' });
  });

  it('refuses a replayed assertion, a used challenge, a wrong origin and a counter that goes back', async () => {
    const device = softAuthenticator(rp);
    const reg = await faceVerified('offer');
    await passkeys.register(reg, device.register(await passkeys.options(reg) as { challenge: string }), who);

    const uid = await faceVerified('assert');
    const first = await passkeys.options(uid) as { challenge: string };
    // Another origin (a phishing site relaying the challenge): refused, and the challenge is spent.
    await expect(passkeys.authenticate(uid, device.assert(first, { origin: 'https://id-example.gov.evil.test' }), who)).rejects.toMatchObject({ code: 'passkey_failed' });
    await expect(passkeys.authenticate(uid, device.assert(first), who)).rejects.toMatchObject({ code: 'passkey_failed' });
    // A counter behind the stored one (a cloned authenticator).
    const second = await passkeys.options(uid) as { challenge: string };
    const ok = device.assert(second);
    const third = await passkeys.options(uid) as { challenge: string };
    // The newest challenge replaces the older one: the answer to `second` is refused.
    await expect(passkeys.authenticate(uid, ok, who)).rejects.toMatchObject({ code: 'passkey_failed' });
    const failures = await events('passkey.assertion_failed');
    expect(failures.length).toBeGreaterThanOrEqual(3);
    expect(failures.every((f) => f.outcome === 'failure')).toBe(true);
    // maxFailures (3) reached: the step takes no more passkey attempts, even a valid one.
    await expect(passkeys.authenticate(uid, device.assert(third), who)).rejects.toMatchObject({ code: 'passkey_failed', details: { attemptsLeft: 0 } });
    // …but she may still go on with her face alone (the agency does not require a passkey).
    expect(await passkeys.skip(uid, 'face_only', who)).toEqual({ finish: expect.objectContaining({ amr: ['face', 'user'] }) });

    // A good assertion moves the stored counter on (5); an answer with counter 1 after it is a clone's.
    const good = await faceVerified('assert');
    await passkeys.authenticate(good, device.assert(await passkeys.options(good) as { challenge: string }, { counter: 5 }), who);
    const again = await faceVerified('assert');
    const o = await passkeys.options(again) as { challenge: string };
    await expect(passkeys.authenticate(again, device.assert(o, { counter: 1 }), who)).rejects.toMatchObject({ code: 'passkey_failed' });
    expect((await events('passkey.assertion_failed')).at(-1)?.details).toMatchObject({ reason: 'invalid_assertion', message: expect.stringMatching(/counter/i) });
  });

  it('a synced passkey (backup eligible) is swk', async () => {
    const synced = softAuthenticator({ ...rp, synced: true });
    const reg = await faceVerified('offer');
    await passkeys.register(reg, synced.register(await passkeys.options(reg) as { challenge: string }), who);
    expect((await listPasskeys(t.db, citizenId)).find((p) => p.id === synced.id)?.kind).toBe('swk');
    const uid = await faceVerified('assert');
    const used = await passkeys.authenticate(uid, synced.assert(await passkeys.options(uid) as { challenge: string }), who);
    expect(used).toEqual({ finish: expect.objectContaining({ amr: ['face', 'user', 'swk'] }) });
  });

  it('an agency that requires possession: face only is refused, and a passkey added now counts from the next sign-in', async () => {
    const uid = await faceVerified('assert', true);
    expect(await passkeys.skip(uid, 'face_only', who)).toEqual({ refuse: { error: 'unmet_authentication_requirements', description: expect.stringMatching(/^possession_required/) } });
    expect((await events('passkey.possession_refused')).length).toBe(1);

    const device = softAuthenticator(rp);
    const req = await faceVerified('required', true);
    const added = await passkeys.register(req, device.register(await passkeys.options(req) as { challenge: string }), who);
    expect(added).toMatchObject({ added: true });
    expect(await passkeys.skip(req, 'cancel', who)).toMatchObject({ refuse: { error: 'unmet_authentication_requirements' } });
  });

  it('refuses a registration for another relying party, and the same authenticator twice', async () => {
    const device = softAuthenticator({ rpId: 'evil.test', origin: 'https://evil.test' });
    const uid = await faceVerified('offer');
    await expect(passkeys.register(uid, device.register(await passkeys.options(uid) as { challenge: string }), who)).rejects.toMatchObject({ code: 'passkey_failed' });
    expect(await listPasskeys(t.db, citizenId)).not.toEqual(expect.arrayContaining([expect.objectContaining({ id: device.id })]));
  });

  it('removes a passkey (audited with the actor); not hers or unknown: false', async () => {
    const before = await listPasskeys(t.db, citizenId);
    expect(before.length).toBeGreaterThan(0);
    const other = (await insertCitizen(t.db, { nationalId: 'PK19700101', givenName: 'Bo', familyName: 'Other', birthdate: '1970-01-01' }, Date.now)).id;
    expect(await removePasskey(t.db, audit(), { citizenId: other, id: before[0].id, actor: 'citizen' })).toBe(false);
    expect(await removePasskey(t.db, audit(), { citizenId, id: 'unknown', actor: 'operator' })).toBe(false);
    expect(await removePasskey(t.db, audit(), { citizenId, id: before[0].id, actor: 'operator', requester: who })).toBe(true);
    expect((await listPasskeys(t.db, citizenId)).map((p) => p.id)).not.toContain(before[0].id);
    expect((await events('passkey.removed')).at(-1)?.details).toMatchObject({ actor: 'operator', credential: before[0].id.slice(0, 16) });
  });
});

// "Finish on my phone" (src/handoff/) on a real database (SQLite, or PostgreSQL with
// FACEGATE_TEST_DATABASE_URL), with the real capture service's start (no frame is submitted here:
// the face check itself runs in test/browser/handoff.test.ts): a code is claimed by the first phone
// only; it ends at its expiry (never after the sign-in's own); a new code cancels the old one; the
// phone's captures are bound to the desktop's interaction and a result is taken once, by it only;
// unknown codes are rate-limited per address; the audit trail holds neither the ID nor the code.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../../config/load.ts';
import type { Config } from '../../../config/schema.ts';
import { createAudit } from '../../../src/audit/log.ts';
import type { FaceAnalyzer } from '../../../src/biometrics/pool.ts';
import { loadFlow } from '../../../src/capture/store.ts';
import { createCaptureService } from '../../../src/capture/service.ts';
import { codeAlphabet, normalizeCode } from '../../../src/handoff/code.ts';
import { createHandoffs, type Handoffs } from '../../../src/handoff/service.ts';
import { acrSubstantial } from '../../../src/oidc/acr.ts';
import { createRiskKeys } from '../../../src/risk/keys.ts';
import { createAttemptLimits } from '../../../src/risk/limits.ts';
import { createSealer } from '../../../src/shared/sealed.ts';
import { openTestDatabase, type TestDatabase } from '../../helpers/db.ts';

const nationalId = 'HX19470203';
const desktop = { ip: '192.0.2.10', userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36' };
const phone = { ip: '198.51.100.7', userAgent: 'Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36' };
const otherPhone = { ip: '203.0.113.99', userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile/15E148 Safari/604.1' };

/** The face engine is not reached: no frame is submitted in this file. */
const noEngine: FaceAnalyzer = { analyze: () => { throw new Error('the face engine is not used by these tests'); } } as unknown as FaceAnalyzer;

/** Expects a promise to fail with an AppError of this code. */
async function refused(p: Promise<unknown>, code: string): Promise<void> {
  await expect(p).rejects.toMatchObject({ code });
}

describe('handoff: store and service', () => {
  let t: TestDatabase;
  let config: Readonly<Config>;
  let now = Date.now();
  let handoffs: Handoffs;
  let n = 0;
  const uid = () => `interaction-${++n}-${Date.now()}`;
  const create = (targetId: string, extra: Partial<Parameters<Handoffs['create']>[0]> = {}) => handoffs.create({
    kind: 'sign_in', targetId, clientId: 'pension-office', acr: acrSubstantial, nationalId, notAfter: now + 3_600_000, ...desktop, ...extra,
  });

  beforeAll(async () => {
    t = await openTestDatabase();
    config = loadConfig({ NODE_ENV: 'test' }, { database: t.database, server: { logLevel: 'silent' }, handoff: { lookupFailuresPerIp: 5 } });
    const sealer = createSealer(config.secrets.dataKeys, config.secrets.dataKeyId);
    const audit = createAudit(t.db, Date.now, config.secrets);
    const capture = createCaptureService({
      db: t.db, analyzer: noEngine, sealer, config, audit, limits: createAttemptLimits(t.db, config), keys: createRiskKeys(config.secrets.pairwiseSalt),
    });
    handoffs = createHandoffs({ db: t.db, sealer, config, audit, capture, codeSecret: config.secrets.csrfSecret, clock: () => now });
  });
  afterAll(async () => { await t?.close(); });

  it('makes 8-symbol codes of the unambiguous alphabet, typed in any case with or without the dash', async () => {
    const { code } = await create(uid());
    expect(code).toMatch(new RegExp(`^[${codeAlphabet}]{8}$`));
    expect(codeAlphabet).not.toMatch(/[01ILOU]/);
    expect(normalizeCode(`${code.slice(0, 4).toLowerCase()}-${code.slice(4)}`)).toBe(code);
    expect(normalizeCode('ABCD-EFG0')).toBeUndefined();
  });

  it('lets the first phone claim a code; a second phone is told it was used; the first one resumes', async () => {
    const target = uid();
    const { handoff, code } = await create(target);
    const first = await handoffs.lookup(code, undefined, phone);
    expect(first).toMatchObject({ resume: false, handoff: { id: handoff.id, state: 'pending', desktop: 'Chrome · Windows' } });
    const claimed = await handoffs.claim(code, phone);
    expect(claimed.handoff.state).toBe('claimed');
    await refused(handoffs.claim(code, otherPhone), 'handoff_used');
    await refused(handoffs.lookup(code, undefined, otherPhone), 'handoff_used');
    expect(await handoffs.lookup(code, claimed.phone, phone)).toMatchObject({ resume: true });
    // The phone's session is its cookie's: another phone's (or none) reads as unknown.
    expect((await handoffs.session(handoff.id, claimed.phone)).id).toBe(handoff.id);
    await refused(handoffs.session(handoff.id, 'not-the-phone'), 'handoff_not_found');
    await refused(handoffs.session(handoff.id, undefined), 'handoff_not_found');
    expect((await handoffs.status('sign_in', target))?.state).toBe('opened');
  });

  it('ends a code at its expiry, and never after the sign-in\'s own', async () => {
    const { code, handoff } = await create(uid());
    expect(handoff.expiresAt).toBe(now + config.handoff.ttlSeconds * 1000);
    const capped = await create(uid(), { notAfter: now + 60_000 });
    expect(capped.handoff.expiresAt).toBe(now + 60_000);
    const claimedBefore = await create(uid());
    const { phone: secret } = await handoffs.claim(claimedBefore.code, phone);
    const saved = now;
    now += config.handoff.ttlSeconds * 1000;
    try {
      await refused(handoffs.lookup(code, undefined, phone), 'handoff_expired');
      await refused(handoffs.claim(code, phone), 'handoff_expired');
      await refused(handoffs.session(claimedBefore.handoff.id, secret), 'handoff_expired');
      expect((await handoffs.status('sign_in', handoff.targetId))?.state).toBe('expired');
    } finally {
      now = saved;
    }
  });

  it('cancels the previous code when the desktop makes a new one, keeping the ID typed for it', async () => {
    const target = uid();
    const old = await create(target);
    const renewed = await create(target, { nationalId: undefined });
    await refused(handoffs.lookup(old.code, undefined, phone), 'handoff_cancelled');
    expect(handoffs.maskedId(renewed.handoff)).toMatch(/^•+203$/);
    expect((await handoffs.current('sign_in', target))?.id).toBe(renewed.handoff.id);
    expect(handoffs.codeOf(renewed.handoff)).toBe(renewed.code);
  });

  it('refuses a malformed national ID on the desktop before any code exists', async () => {
    const target = uid();
    await refused(create(target, { nationalId: 'no!' }), 'invalid_national_id');
    expect(await handoffs.current('sign_in', target)).toBeUndefined();
  });

  it('binds the phone\'s capture to the desktop\'s interaction, and lets only that interaction take the result, once', async () => {
    const target = uid();
    const { handoff, code } = await create(target);
    const { phone: secret } = await handoffs.claim(code, phone);
    const h = await handoffs.session(handoff.id, secret);
    const started = await handoffs.startCapture(h, phone);
    const flow = await loadFlow(t.db, started.captureId, target);
    expect(flow).toMatchObject({ interactionUid: target, clientId: 'pension-office', acr: acrSubstantial, purpose: 'sign_in' });
    expect((await handoffs.status('sign_in', target))?.state).toBe('capturing');
    // Not verified yet: the desktop cannot continue.
    await refused(handoffs.complete('sign_in', target, handoff.id, desktop), 'handoff_pending');
    const verifiedFlow = { ...flow, state: 'verified' as const, citizenId: '00000000-0000-4000-8000-000000000001', updatedAt: now };
    // A capture of another interaction is not this handoff's.
    await refused(handoffs.verified(handoff.id, { ...verifiedFlow, interactionUid: uid() }, phone), 'internal_error');
    await handoffs.verified(handoff.id, verifiedFlow, phone);
    expect((await handoffs.status('sign_in', target))?.state).toBe('verified');
    // Another interaction's page cannot take it.
    await refused(handoffs.complete('sign_in', uid(), handoff.id, desktop), 'handoff_not_found');
    expect(await handoffs.status('sign_in', uid(), handoff.id)).toBeUndefined();
    const done = await handoffs.complete('sign_in', target, handoff.id, desktop);
    expect(done).toMatchObject({ citizenId: verifiedFlow.citizenId, verifiedAcr: acrSubstantial, verifiedAt: now });
    await refused(handoffs.complete('sign_in', target, handoff.id, desktop), 'capture_closed');
    // After use the code is dead for everyone, and the phone's page only shows "done".
    await refused(handoffs.lookup(code, undefined, otherPhone), 'handoff_used');
    await refused(handoffs.session(handoff.id, secret), 'capture_closed');
    expect((await handoffs.session(handoff.id, secret, true)).state).toBe('completed');
  });

  it('stops answering unknown codes from one address after the limit, even a valid code', async () => {
    const { code } = await create(uid());
    const scanner = { ip: '192.0.2.200', userAgent: 'x' };
    for (let i = 0; i < config.handoff.lookupFailuresPerIp; i++) {
      const wrong = code.slice(0, 7) + codeAlphabet[(codeAlphabet.indexOf(code[7]) + 1 + i) % codeAlphabet.length];
      await refused(handoffs.lookup(wrong, undefined, scanner), 'handoff_not_found');
    }
    await refused(handoffs.lookup(code, undefined, scanner), 'rate_limited');
    // Another address is not affected.
    expect((await handoffs.lookup(code, undefined, otherPhone)).resume).toBe(false);
  });

  it('audits every step, with neither the national ID nor any code in the trail', async () => {
    const target = uid();
    const { code } = await create(target);
    await handoffs.claim(code, phone);
    await refused(handoffs.claim(code, otherPhone), 'handoff_used');
    const rows = await t.db('audit_events').where({ interaction_uid: target }).orderBy('id');
    expect(rows.map((r: { type: string }) => r.type)).toEqual(['handoff.created', 'handoff.claimed', 'handoff.refused']);
    expect(rows[2]).toMatchObject({ code: 'handoff_used' });
    const all = JSON.stringify(await t.db('audit_events').where('type', 'like', 'handoff.%'));
    expect(all).not.toContain(nationalId);
    expect(all).not.toContain(code);
  });
});

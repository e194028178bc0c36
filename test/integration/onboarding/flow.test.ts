// The remote onboarding flow (docs/onboarding.md) on the test gateway: real models, the real
// document reader (a worker thread), the real database, the live citizen of the shared selfie video
// streaming at high. Synthetic passports are composed at test time (helpers/synthetic-document.ts).
// A genuine citizen is onboarded (template from the live capture, mark, audit); an expired
// document, a mismatched record, an unknown ID, someone else's document, a duplicate identity and
// an unreadable page are refused with their codes, leaving no template and no portrait behind.
import { afterAll, beforeAll, expect, it, jest } from '@jest/globals';
import { describeWithData, face } from '../../helpers/data.ts';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.ts';
import { citizenPhoto, liveCamera, warmLiveCitizen } from '../../helpers/live.ts';
import { beginOnboarding, captureLive, registerWithoutPhoto, sendDocument, type OnboardingRecord } from '../../helpers/onboarding.ts';
import { syntheticDocument, yearsFromNow } from '../../helpers/synthetic-document.ts';

jest.setTimeout(240_000);

const lin = { surname: 'MIRANDA', givenNames: 'LIN MANUEL', birthdate: '1980-01-16', number: 'LM4455667', sex: 'M' as const };
const record = (nationalId: string, extra: Partial<OnboardingRecord> = {}): OnboardingRecord =>
  ({ nationalId, givenName: 'Lin-Manuel', familyName: 'Miranda', birthdate: '1980-01-16', ...extra });
const passport = (o: { portrait?: Uint8Array; expiry?: string; birthdate?: string; seed?: number } = {}) => syntheticDocument({
  ...lin, portrait: o.portrait ?? citizenPhoto(), expiry: o.expiry ?? yearsFromNow(5), birthdate: o.birthdate ?? lin.birthdate, seed: o.seed ?? 3,
});

describeWithData('remote onboarding', () => {
  let gw: TestGateway;
  const db = () => gw.database.db;
  const templatesOf = async (citizenId: string) => db()('face_templates').where({ citizen_id: citizenId });
  const events = async (uid: string) => (await db()('audit_events').where({ interaction_uid: uid }).orderBy('id')).map((e: { type: string; code: string | null }) => [e.type, e.code]);

  beforeAll(async () => {
    gw = await startTestGateway({ capture: { stream: { promptDelayMs: [300, 700], neutralMs: 600, deadlineMs: 15_000 } } });
  }, 120_000);
  beforeAll(warmLiveCitizen, 180_000);
  afterAll(() => gw?.close());

  it('onboards a citizen without a registry photo: document, live capture, template from the live face, mark', async () => {
    const citizenId = await registerWithoutPhoto(db(), record('LMON000001', { documentNumber: lin.number }));
    const o = await beginOnboarding(gw.issuer, 'LMON000001');
    const sent = await sendDocument(gw.issuer, o, await passport());
    expect(sent.status).toBe(200);
    const page = await o.page();
    expect(page.state).toBe('capture');
    const run = await captureLive(gw.issuer, o, await liveCamera());
    expect(run.error).toBeUndefined();
    expect(run.verdict).toMatchObject({ status: 'verified', redirectTo: `/onboarding/${page.id}` });
    expect((await o.page()).state).toBe('onboarded');
    // The template is the live capture's (capture grade), never the printed portrait's.
    const templates = await templatesOf(citizenId);
    expect(templates).toHaveLength(1);
    expect(JSON.parse(templates[0].quality)).toMatchObject({ grade: 'capture', ok: true });
    expect(await db()('remote_onboardings').where({ citizen_id: citizenId })).toEqual([expect.objectContaining({ session_id: page.id, document_type: 'P', issuing_state: 'UTO' })]);
    const session = await db()('onboarding_sessions').where({ id: page.id }).first();
    expect(session.portrait).toBeNull();
    expect(await events(page.id)).toEqual(expect.arrayContaining([['onboarding.started', null], ['onboarding.document_accepted', null], ['capture.decided', null], ['onboarding.completed', null]]));
    const completed = await db()('audit_events').where({ type: 'onboarding.completed', interaction_uid: page.id }).first();
    const details = JSON.parse(completed.details);
    expect(details.portrait.score).toBeGreaterThanOrEqual(gw.config.onboarding.portraitThreshold);
    expect(details).toMatchObject({ template: 'live_capture', remote: true, oneToMany: { compared: 0 } });
    // The audit row has no names, no document number.
    expect(completed.details).not.toMatch(/MIRANDA|LM4455667/i);
  });

  it('refuses an expired document (document_expired) and lets her send another', async () => {
    const citizenId = await registerWithoutPhoto(db(), record('LMON000002'));
    const o = await beginOnboarding(gw.issuer, 'LMON000002');
    const sent = await sendDocument(gw.issuer, o, await passport({ expiry: yearsFromNow(-1) }));
    expect(sent).toMatchObject({ status: 422, body: { error: { code: 'document_expired' }, state: 'document', attemptsLeft: 2 } });
    expect(await templatesOf(citizenId)).toHaveLength(0);
  });

  it('refuses a document whose birth date or number is not the record\'s, and an unknown ID alike (document_mismatch)', async () => {
    await registerWithoutPhoto(db(), record('LMON000003'));
    await registerWithoutPhoto(db(), record('LMON000004', { documentNumber: 'ZZ9999999' }));
    const codes = [];
    for (const [id, doc] of [['LMON000003', { birthdate: '1981-01-16' }], ['LMON000004', {}], ['LMUNKNOWN5', {}]] as const) {
      const sent = await sendDocument(gw.issuer, await beginOnboarding(gw.issuer, id), await passport(doc));
      codes.push([sent.status, sent.body.error?.code, sent.body.attemptsLeft]);
    }
    expect(codes).toEqual([[422, 'document_mismatch', 2], [422, 'document_mismatch', 2], [422, 'document_mismatch', 2]]);
    const refused = await db()('audit_events').where({ type: 'onboarding.document_refused', code: 'document_mismatch' });
    expect(refused.map((e: { details: string }) => JSON.parse(e.details).fields)).toEqual([['birthDate'], ['documentNumber'], ['record']]);
  });

  it('refuses someone else\'s document at the live capture (portrait_mismatch), keeping nothing', async () => {
    const citizenId = await registerWithoutPhoto(db(), record('LMON000006'));
    const o = await beginOnboarding(gw.issuer, 'LMON000006');
    expect((await sendDocument(gw.issuer, o, await passport({ portrait: face('obama', 'obama_1.jpg') }))).status).toBe(200);
    const run = await captureLive(gw.issuer, o, await liveCamera());
    expect(run.verdict?.status).toBe('rejected');
    expect(run.verdict?.feedback.map((f) => f.code)).toEqual(['portrait_mismatch']);
    expect(await templatesOf(citizenId)).toHaveLength(0);
    const decided = await db()('audit_events').where({ type: 'capture.decided', citizen_id: citizenId }).first();
    const match = JSON.parse(decided.details).checks.find((c: { name: string }) => c.name === 'match');
    expect(match).toMatchObject({ outcome: 'fail', threshold: gw.config.onboarding.portraitThreshold });
  });

  it('refuses a face already enrolled under another ID (duplicate_identity)', async () => {
    const otherId = await gw.enroll('LMDUPL0007', citizenPhoto());
    const citizenId = await registerWithoutPhoto(db(), record('LMON000008'));
    const o = await beginOnboarding(gw.issuer, 'LMON000008');
    expect((await sendDocument(gw.issuer, o, await passport({ seed: 5 }))).status).toBe(200);
    const run = await captureLive(gw.issuer, o, await liveCamera());
    expect(run.error?.code).toBe('duplicate_identity');
    const page = await o.page();
    expect(page).toMatchObject({ state: 'refused', error: { code: 'duplicate_identity' } });
    expect(await templatesOf(citizenId)).toHaveLength(0);
    expect(await db()('remote_onboardings').where({ citizen_id: citizenId })).toHaveLength(0);
    const refused = await db()('audit_events').where({ type: 'onboarding.refused', interaction_uid: page.id }).first();
    // Her face is enrolled under LMDUPL0007 (and, if the first test ran, remotely under LMON000001): the best match is one of them.
    const details = JSON.parse(refused.details);
    expect(details).toMatchObject({ oneToMany: { threshold: gw.config.biometrics.match.high } });
    expect(details.oneToMany.bestScore).toBeGreaterThanOrEqual(gw.config.biometrics.match.high);
    const lins = [otherId, (await db()('citizens').where({ national_id: 'LMON000001' }).first())?.id];
    expect(lins).toContain(details.matchedCitizenId);
    expect((await db()('onboarding_sessions').where({ id: page.id }).first()).portrait).toBeNull();
  });

  it('ends the session after its last document attempt (mrz_not_found three times)', async () => {
    await registerWithoutPhoto(db(), record('LMON000009'));
    const o = await beginOnboarding(gw.issuer, 'LMON000009');
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push((await sendDocument(gw.issuer, o, face('biden', 'biden_2.jpg'))).body);
    expect(answers.map((a) => [a.error?.code, a.attemptsLeft, a.state])).toEqual([['mrz_not_found', 2, 'document'], ['mrz_not_found', 1, 'document'], ['mrz_not_found', 0, 'refused']]);
    expect((await sendDocument(gw.issuer, o, face('biden', 'biden_2.jpg'))).body.error?.code).toBe('onboarding_closed');
  });
});

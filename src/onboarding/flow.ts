// The remote onboarding flow (docs/onboarding.md): a citizen of the registry without a template
// types her national ID, photographs her identity document, then performs the live capture at high
// (src/capture/, purpose 'onboarding'), whose match reference is the document portrait at its own
// calibrated threshold. Verified only when the MRZ is valid and unexpired, it names her (names.ts),
// its portrait matches her live face, and her live face matches no other enrolled citizen (1:N,
// exact). Then her template is made from the live capture and she is marked onboarded remotely.
// Every step is audited (`onboarding.*`); a refusal stores nothing but the audit event and the
// session's state (the sealed portrait wiped). Imports capture, registry, risk, audit, db; no koa.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Config } from '../../config/schema.ts';
import type { Audit, AuditEvent } from '../audit/log.ts';
import type { ImageAnalysis } from '../biometrics/engine.ts';
import { cosineSimilarity } from '../biometrics/matcher.ts';
import { readManifest } from '../biometrics/models.ts';
import type { CaptureFlow } from '../capture/flow.ts';
import type { CaptureReference, CaptureService, Requester } from '../capture/service.ts';
import { poseDeviation } from '../capture/threshold.ts';
import type { Db } from '../db/knex.ts';
import { acrHigh } from '../oidc/acr.ts';
import { registryAudit } from '../registry/changes.ts';
import { findCitizenById, findCitizenByNationalId, normalizeTypedNationalId } from '../registry/citizens.ts';
import { embeddingModelIdFromManifest, hasTemplate, loadTemplate, saveTemplate, summarizeQuality } from '../registry/templates.ts';
import type { RiskKeys } from '../risk/keys.ts';
import { lockError, type AttemptLimits } from '../risk/limits.ts';
import { AppError, isAppError, isOutage, type ErrorCode } from '../shared/errors.ts';
import type { Sealer } from '../shared/sealed.ts';
import { documentRefusal, type DocumentReport, type ReadDocumentOptions } from './document.ts';
import { recordMismatches } from './names.ts';
import { insertMark, insertSession, loadSession, openPortrait, countSessions, updateSession, type OnboardingSession } from './store.ts';

export type OnboardingDeps = {
  db: Db; sealer: Sealer; config: Readonly<Config>; audit: Audit;
  clock?: () => number;
};

/** Reads a document (the worker pool in the gateway, an in-thread reader in a tool). */
export type DocumentReading = { read(bytes: Uint8Array, options?: ReadDocumentOptions): Promise<DocumentReport> };

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const who = (r: Requester): Pick<AuditEvent, 'ip' | 'userAgent'> => ({ ip: r.ip, userAgent: r.userAgent?.slice(0, 512) });
const dayMs = 86_400_000;

/** The frame an onboarding enrolls: of the frames that passed the full quality gate, the most frontal. */
export function enrollmentFrame(analyses: ImageAnalysis[]): (ImageAnalysis & { face: NonNullable<ImageAnalysis['face']> }) | undefined {
  const usable = analyses.filter((a): a is ImageAnalysis & { face: NonNullable<ImageAnalysis['face']> } => a.quality.ok && !!a.face?.embedding);
  return usable.reduce<typeof usable[number] | undefined>((best, a) => (!best || poseDeviation(a) < poseDeviation(best) ? a : best), undefined);
}

/**
 * The capture's side of onboarding (passed to createCaptureService as `references.onboarding`):
 * the document portrait as the match reference, and, once a capture is decided, the end of the
 * onboarding — refused when the capture is over without a verification, completed (1:N check,
 * template, mark) when it verified.
 */
export function createOnboardingReference(deps: OnboardingDeps): CaptureReference {
  const { db, sealer, config } = deps;
  const clock = deps.clock ?? Date.now;
  const refuse = refusalOf(deps);

  async function complete(session: OnboardingSession, flow: CaptureFlow, analyses: ImageAnalysis[], portraitScore: number | undefined): Promise<void> {
    const citizenId = session.citizenId!;
    const modelId = session.modelId!;
    const base = { interactionUid: session.id, citizenId };
    const probe = enrollmentFrame(analyses);
    if (!probe) return refuse(session, 'not_verified', base, { reason: 'no_enrollment_frame' });
    // 1:N, exact: every other citizen's template for this model. A match at the registry's high
    // threshold is another enrolled person with this face (a duplicate or an impostor).
    const others = await db('face_templates').where({ model_id: modelId }).whereNot({ citizen_id: citizenId }).select('citizen_id') as Array<{ citizen_id: string }>;
    let best = { score: -1, citizenId: null as string | null };
    for (const { citizen_id: other } of others) {
      const template = await loadTemplate(db, sealer, other, modelId);
      const score = template ? cosineSimilarity(probe.face.embedding!, template) : -1;
      if (score > best.score) best = { score, citizenId: other };
    }
    const threshold = config.biometrics.match.high;
    const oneToMany = { compared: others.length, bestScore: others.length ? Math.round(best.score * 1000) / 1000 : null, threshold };
    if (others.length && best.score >= threshold) {
      return refuse(session, 'duplicate_identity', base, { captureId: flow.id, oneToMany, matchedCitizenId: best.citizenId });
    }
    const now = clock();
    await db.transaction(async (trx) => {
      // A template made meanwhile (an operator enrolled her): she signs in with it instead.
      if (await hasTemplate(trx, citizenId, modelId)) throw new AppError('onboarding_not_needed');
      await saveTemplate(trx, sealer, citizenId, modelId, probe.face.embedding!, summarizeQuality(probe.quality), now);
      const doc = session.document!;
      await insertMark(trx, { citizenId, sessionId: session.id, documentType: doc.documentType, issuingState: doc.issuingState, documentExpiry: doc.expiryDate, modelId, onboardedAt: now });
      await updateSession(trx, sealer, session, { state: 'onboarded' }, now);
      await registryAudit(trx, clock, config.secrets)({
        ...base, type: 'onboarding.completed', outcome: 'success',
        details: {
          captureId: flow.id, acr: flow.acr, modelId, document: doc, oneToMany,
          portrait: { score: portraitScore, threshold: config.onboarding.portraitThreshold },
          template: 'live_capture', remote: true,
        },
      });
    }).catch(async (err: unknown) => {
      if (isAppError(err) && err.code === 'onboarding_not_needed') return refuse(await loadSession(db, session.id), 'onboarding_not_needed', base, { captureId: flow.id });
      throw err;
    });
  }

  return {
    async reference(flow, modelId) {
      const session = await loadSession(db, flow.interactionUid);
      if (session.state !== 'capture' || session.modelId !== modelId || session.citizenId !== flow.citizenId) return undefined;
      const template = await openPortrait(db, sealer, session.id);
      return template ? { template, threshold: config.onboarding.portraitThreshold } : undefined;
    },
    async decided(flow, outcome) {
      const session = await loadSession(db, flow.interactionUid);
      if (session.state !== 'capture') return;
      const match = outcome.checks?.find((c) => c.name === 'match');
      if (outcome.status === 'verified') return complete(session, flow, outcome.analyses, match?.score);
      // Attempts left: the capture goes on. Over: the onboarding is refused with the capture's reason.
      if (flow.state === 'open') return;
      const failed = outcome.checks?.at(-1);
      const code: ErrorCode = failed?.name === 'match' ? 'portrait_mismatch' : outcome.code === 'not_live' ? 'not_live' : 'not_verified';
      await refuse(session, code, { interactionUid: session.id, citizenId: session.citizenId }, {
        captureId: flow.id, check: failed?.name, reason: failed?.reason ?? outcome.code,
        ...(match ? { portrait: { score: match.score, threshold: match.threshold } } : {}),
      });
    },
  };
}

/** Ends a session as refused (the sealed portrait wiped) and audits why. */
function refusalOf({ db, sealer, audit, clock = Date.now }: OnboardingDeps) {
  return async (session: OnboardingSession, code: ErrorCode, base: Omit<AuditEvent, 'type' | 'outcome'>, details: Record<string, unknown> = {}): Promise<void> => {
    await updateSession(db, sealer, session, { state: 'refused', code }, clock());
    await audit({ ...base, type: 'onboarding.refused', outcome: 'failure', code, details: { ...details, final: true } });
  };
}

/** The citizen's side: start, the document, the capture's start, and the session for the pages. */
export function createOnboarding(deps: OnboardingDeps & {
  reader: DocumentReading; capture: Pick<CaptureService, 'start'>; limits: Pick<AttemptLimits, 'countStart' | 'uncountStart'>; keys: RiskKeys;
}) {
  const { db, sealer, config, audit, reader, capture, limits, keys } = deps;
  const clock = deps.clock ?? Date.now;
  const settings = config.onboarding;
  const refuse = refusalOf(deps);
  const modelId = embeddingModelIdFromManifest(readManifest(config.biometrics.modelsDir));

  /**
   * Starts an onboarding for a typed national ID. The same answer whether or not the ID is in
   * the registry (the document step tells them apart, against a document). Returns the session
   * and the browser's secret (its cookie).
   */
  async function begin(input: { nationalId: unknown } & Requester): Promise<{ session: OnboardingSession; secret: string }> {
    const nationalId = normalizeTypedNationalId(input.nationalId);
    const now = clock();
    const idKey = keys.id(nationalId);
    const ipKey = keys.ip(input.ip ?? 'unknown');
    const ipLock = await limits.countStart(ipKey);
    if (ipLock) {
      await audit({ type: 'onboarding.refused', outcome: 'failure', code: 'rate_limited', ...who(input), details: { stage: 'start', scope: 'ip' } });
      throw lockError(ipLock);
    }
    try {
      return await open(input, nationalId, idKey, now);
    } catch (err) {
      // A start an outage stopped (the database down…) does not count against the network's starts.
      if (isOutage(err)) await limits.uncountStart(ipKey).catch(() => {});
      throw err;
    }
  }

  async function open(input: Requester, nationalId: string, idKey: string, now: number): Promise<{ session: OnboardingSession; secret: string }> {
    if (await countSessions(db, idKey, now - dayMs) >= settings.maxSessionsPerIdPerDay) {
      await audit({ type: 'onboarding.refused', outcome: 'failure', code: 'rate_limited', ...who(input), details: { stage: 'start', scope: 'id', perDay: settings.maxSessionsPerIdPerDay } });
      const retryAt = new Date(now + dayMs).toISOString();
      throw new AppError('rate_limited', 'too many onboardings were started for this ID number today', { retryAt, retryAfterSeconds: dayMs / 1000 });
    }
    const citizen = await findCitizenByNationalId(db, nationalId);
    const secret = randomBytes(32).toString('base64url');
    const session: OnboardingSession = {
      id: randomBytes(18).toString('base64url'), browserHash: sha256(secret), idKey, citizenId: citizen?.status === 'active' ? citizen.id : null,
      state: 'document', documentAttempts: 0, document: null, modelId: null, code: null, version: 0,
      expiresAt: now + settings.sessionTtlSeconds * 1000, createdAt: now, updatedAt: now,
    };
    await insertSession(db, session);
    await audit({ interactionUid: session.id, citizenId: session.citizenId, type: 'onboarding.started', outcome: 'info', ...who(input), details: { knownCitizen: Boolean(session.citizenId) } });
    return { session, secret };
  }

  /** The session this browser holds (its secret), open or final; onboarding_not_found otherwise or once expired. */
  async function session(id: string, secret: string | undefined): Promise<OnboardingSession> {
    const s = await loadSession(db, id);
    const a = Buffer.from(sha256(secret ?? '')), b = Buffer.from(s.browserHash);
    if (!secret || a.length !== b.length || !timingSafeEqual(a, b)) throw new AppError('onboarding_not_found');
    if (clock() >= s.expiresAt && s.state !== 'onboarded') throw new AppError('onboarding_not_found');
    return s;
  }

  /**
   * The document photo: read (MRZ, portrait), checked (check digits, expiry, the registry record,
   * a portrait), counted against the session's attempts. A refused document throws its code
   * (`details.attemptsLeft`); the last attempt ends the session. Nothing of the image is kept.
   */
  async function submitDocument(s: OnboardingSession, bytes: Uint8Array, requester: Requester): Promise<OnboardingSession> {
    if (s.state !== 'document') throw new AppError('onboarding_closed');
    // The attempt is spent before the read: two photos at once cannot both be the last.
    const counted = await updateSession(db, sealer, s, { documentAttempts: s.documentAttempts + 1 }, clock());
    const attemptsLeft = settings.maxDocumentAttempts - counted.documentAttempts;
    const base = { interactionUid: s.id, citizenId: s.citizenId, ...who(requester) };
    const refuseAttempt = async (code: ErrorCode, details: Record<string, unknown>, final = attemptsLeft <= 0): Promise<never> => {
      if (final) await refuse(counted, code, base, { stage: 'document', attempt: counted.documentAttempts, ...details });
      else await audit({ ...base, type: 'onboarding.document_refused', outcome: 'failure', code, details: { attempt: counted.documentAttempts, attemptsLeft, ...details } });
      throw new AppError(code, undefined, { attemptsLeft: final ? 0 : attemptsLeft });
    };
    let report: DocumentReport;
    try {
      report = await reader.read(bytes, { embed: true, today: new Date(clock()) });
    } catch (err) {
      if (!isAppError(err) || err.status >= 500) throw err;
      return refuseAttempt(err.code, { reason: err.code });
    }
    const fields = report.fields;
    const read = { format: report.format, checks: report.checks, stage: report.ocr.stage, passes: report.ocr.passes };
    const bad = documentRefusal(report);
    if (bad) return refuseAttempt(bad.code, { read });
    // The registry record: an ID not in the registry reads like a record the document does not match.
    const citizen = s.citizenId ? await findCitizenById(db, s.citizenId) : undefined;
    const row = citizen ? await db('citizens').where({ id: citizen.id }).first('document_number') as { document_number: string | null } | undefined : undefined;
    const mismatches = citizen
      ? recordMismatches({ givenName: citizen.givenName, familyName: citizen.familyName, birthdate: citizen.birthdate, documentNumber: row?.document_number }, fields)
      : ['record'];
    if (mismatches.length) return refuseAttempt('document_mismatch', { read, fields: mismatches });
    // She has a registry photo already: she signs in with it (told only to someone holding a document that names her).
    if (await hasTemplate(db, citizen!.id, modelId)) return refuseAttempt('onboarding_not_needed', { read }, true);
    const portrait = report.portrait;
    if (!portrait?.embedding) return refuseAttempt('portrait_not_found', { read });
    const document = { format: report.format, documentType: fields.documentType ?? '', issuingState: fields.issuingState ?? '', expiryDate: fields.expiryDate ?? '' };
    const next = await updateSession(db, sealer, counted, { state: 'capture', document, modelId, portrait: portrait.embedding }, clock());
    await audit({
      ...base, type: 'onboarding.document_accepted', outcome: 'success',
      details: { attempt: counted.documentAttempts, read, document, portrait: { box: portrait.box, quality: summarizeQuality(portrait.quality) } },
    });
    return next;
  }

  /** Starts the live capture at high for the session's citizen (the capture's own limits apply). */
  async function startCapture(s: OnboardingSession, requester: Requester) {
    if (s.state !== 'capture') throw new AppError('onboarding_closed');
    const citizen = await findCitizenById(db, s.citizenId!);
    return capture.start({ interactionUid: s.id, clientId: null, nationalId: citizen?.nationalId ?? '', acr: acrHigh, purpose: 'onboarding', ...requester });
  }

  return { begin, session, submitDocument, startCapture, modelId };
}

export type Onboarding = ReturnType<typeof createOnboarding>;

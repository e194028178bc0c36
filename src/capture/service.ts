// The sign-in capture: starts a flow for a claimed national ID, evaluates submitted frames on
// the worker pool, applies the decision to the flow and audits it. The same outward answer
// whether or not the ID exists. Imports biometrics, registry, audit and the capture parts; no koa.
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import type { Config } from '../../config/schema.ts';
import type { Audit } from '../audit/log.ts';
import type { ImageAnalysis } from '../biometrics/engine.ts';
import type { FaceAnalyzer } from '../biometrics/pool.ts';
import type { Db } from '../db/knex.ts';
import { levelOf, type Acr } from '../oidc/acr.ts';
import { findCitizenByNationalId, normalizeNationalId } from '../registry/citizens.ts';
import { embeddingModelId, loadTemplate } from '../registry/templates.ts';
import { AppError, errorCatalogue, isAppError, type ErrorCode } from '../shared/errors.ts';
import type { Sealer } from '../shared/sealed.ts';
import { decide } from './decide.ts';
import { applyEvent, assertOpen, attemptsLeft, type CaptureEvent, type CaptureFlow, type ChallengeAction } from './flow.ts';
import { claimFlow, countFlows, insertFlow, loadFlow, saveFlow } from './store.ts';

export type Feedback = { code: ErrorCode; message: string };
export type StartResult = { captureId: string; acr: Acr; actions: ChallengeAction[]; minFrames: number; maxFrames: number; expiresAt: string };
export type SubmitResult = { status: 'verified' | 'retry' | 'rejected'; feedback: Feedback[]; attemptsLeft: number; flow: CaptureFlow };

export type CaptureDeps = {
  db: Db; analyzer: FaceAnalyzer; sealer: Sealer; config: Readonly<Config>; audit: Audit;
  observe?: (decision: { level: string; status: string; code?: string }, analyses: ImageAnalysis[]) => void;
  clock?: () => number;
};

const allActions: ChallengeAction[] = ['blink', 'turn_left', 'turn_right'];
const feedbackOf = (code: ErrorCode): Feedback => ({ code, message: errorCatalogue[code].message });

/** The registry's form of a typed ID; spaces and dashes people type for readability are dropped. */
const claimedId = (raw: unknown): string => normalizeNationalId(typeof raw === 'string' ? raw.replace(/[\s-]/g, '') : '');

function pickActions(n: number): ChallengeAction[] {
  const pool = [...allActions];
  return Array.from({ length: Math.min(n, pool.length) }, () => pool.splice(randomInt(pool.length), 1)[0]);
}

export function createCaptureService(deps: CaptureDeps) {
  const { db, analyzer, sealer, config, audit } = deps;
  const clock = deps.clock ?? Date.now;
  const limits = { maxAttempts: config.capture.maxAttempts, maxSubmissions: config.capture.maxSubmissions };
  const frameLimits = (acr: Acr) => config.capture[levelOf(acr)];

  /** Starts a capture for `nationalId` at `acr`, bound to the interaction. */
  async function start(input: { interactionUid: string; clientId: string | null; nationalId: unknown; acr: Acr }): Promise<StartResult> {
    const nationalId = claimedId(input.nationalId);
    // Each capture brings fresh attempts: without a cap, one sign-in could try without end.
    if (await countFlows(db, input.interactionUid) >= config.capture.maxCapturesPerInteraction) {
      await audit({ type: 'capture.refused', outcome: 'failure', code: 'too_many_captures', interactionUid: input.interactionUid, clientId: input.clientId ?? undefined });
      throw new AppError('too_many_captures');
    }
    const citizen = await findCitizenByNationalId(db, nationalId);
    const now = clock();
    const actions = levelOf(input.acr) === 'high' ? pickActions(config.capture.high.actions) : [];
    const flow: CaptureFlow = {
      id: randomBytes(24).toString('base64url'),
      interactionUid: input.interactionUid,
      clientId: input.clientId,
      citizenId: citizen?.status === 'active' ? citizen.id : null,
      purpose: 'sign_in',
      acr: input.acr,
      actions,
      state: 'open',
      attemptsUsed: 0,
      submissions: 0,
      version: 0,
      expiresAt: now + config.capture.ttlSeconds * 1000,
      createdAt: now,
      updatedAt: now,
    };
    await insertFlow(db, flow);
    await audit({
      type: 'capture.started', outcome: 'info', interactionUid: flow.interactionUid, clientId: flow.clientId ?? undefined,
      citizenId: flow.citizenId, details: { captureId: flow.id, acr: flow.acr, actions, knownCitizen: Boolean(flow.citizenId) },
    });
    const { minFrames, maxFrames } = frameLimits(flow.acr);
    return { captureId: flow.id, acr: flow.acr, actions, minFrames, maxFrames, expiresAt: new Date(flow.expiresAt).toISOString() };
  }

  async function template(citizenId: string | null, analyses: ImageAnalysis[]): Promise<Float32Array | undefined> {
    const modelId = embeddingModelId(analyses[0].models);
    // An unknown ID costs the same lookup as a known one, so timing does not tell them apart.
    return loadTemplate(db, sealer, citizenId ?? randomUUID(), modelId);
  }

  /** Evaluates one submission of frames (capture order) and moves the flow on. */
  async function submit(input: { interactionUid: string; captureId: string; frames: Uint8Array[]; timestamps?: number[] }): Promise<SubmitResult> {
    const loaded = await loadFlow(db, input.captureId, input.interactionUid);
    assertOpen(loaded, clock());
    const { minFrames, maxFrames } = frameLimits(loaded.acr);
    if (input.frames.length > maxFrames) throw new AppError('too_many_frames', undefined, { maxFrames });
    if (input.frames.length < minFrames) throw new AppError('too_few_frames', undefined, { minFrames });
    const flow = await claimFlow(db, loaded, clock());
    let analyses: ImageAnalysis[];
    try {
      analyses = await Promise.all(input.frames.map((bytes) => analyzer.analyze(bytes, { grade: 'capture' })));
    } catch (err) {
      // Bad input still counts as a submission, so a client cannot probe without limit.
      await saveFlow(db, flow, applyEvent(flow, { type: 'retry' }, clock(), limits), { error: isAppError(err) ? err.code : 'internal_error' });
      throw err;
    }
    // Frames without a face never reach the match: no template is read for them.
    const embedded = analyses.every((a) => a.face?.embedding);
    const decision = decide(analyses, { flow, template: embedded ? await template(flow.citizenId, analyses) : undefined, config });
    const event: CaptureEvent = { type: decision.outcome };
    const next = applyEvent(flow, event, clock(), limits);
    const status = next.state === 'verified' ? 'verified' : decision.outcome === 'retry' && next.state === 'open' ? 'retry' : 'rejected';
    await saveFlow(db, flow, next, { outcome: decision.outcome, code: decision.code, checks: decision.checks });
    await audit({
      type: 'capture.decided', outcome: status === 'verified' ? 'success' : 'failure', code: decision.code,
      interactionUid: flow.interactionUid, clientId: flow.clientId ?? undefined, citizenId: flow.citizenId,
      details: {
        captureId: flow.id, acr: flow.acr, status, frames: analyses.length, state: next.state,
        clientSpanMs: input.timestamps ? input.timestamps.at(-1)! - input.timestamps[0] : undefined,
        checks: decision.checks, models: analyses[0].models,
      },
    });
    deps.observe?.({ level: levelOf(flow.acr), status, code: decision.code }, analyses);
    // Outwardly, every failed attempt reads the same: not_verified. The audit keeps the reason.
    const retryCodes = decision.checks.at(-1)?.codes ?? (decision.code ? [decision.code] : []);
    const codes = decision.outcome === 'retry' ? retryCodes.slice(0, 3) : decision.outcome === 'failed' ? ['not_verified' as const] : [];
    return { status, feedback: codes.map(feedbackOf), attemptsLeft: attemptsLeft(next, limits), flow: next };
  }

  /** Cheap preview for live guidance: detection, landmarks and quality only. */
  async function preview(frame: Uint8Array): Promise<{ ok: boolean; feedback: Feedback[] }> {
    const a = await analyzer.analyze(frame, { grade: 'capture', embed: false, liveness: false });
    return { ok: a.quality.ok, feedback: a.quality.codes.slice(0, 3).map(feedbackOf) };
  }

  return { start, submit, preview };
}

export type CaptureService = ReturnType<typeof createCaptureService>;

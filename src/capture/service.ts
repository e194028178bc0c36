// The sign-in capture: starts a flow for a claimed national ID, evaluates submitted frames on
// the worker pool, applies the decision and the risk rule to the flow and audits both. Attempt
// limits, replayed frames and injection signals are checked before the face engine runs. The
// same outward answer whether or not the ID exists. Imports biometrics, registry, risk, audit; no koa.
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import type { Config } from '../../config/schema.ts';
import type { Audit, AuditEvent } from '../audit/log.ts';
import type { ImageAnalysis } from '../biometrics/engine.ts';
import type { FaceAnalyzer } from '../biometrics/pool.ts';
import type { Db } from '../db/knex.ts';
import { hasOpenReport } from '../account/reports.ts';
import { acrOf, levelOf, type Acr } from '../oidc/acr.ts';
import { findCitizenByNationalId, normalizeTypedNationalId } from '../registry/citizens.ts';
import { embeddingModelId, loadTemplate } from '../registry/templates.ts';
import { decideRisk, type RiskDecision, type RiskInput } from '../risk/decide-risk.ts';
import { deviceNovelty, rememberDevice } from '../risk/devices.ts';
import type { RiskKeys } from '../risk/keys.ts';
import { lockError, type AttemptLimits, type Lock, type Settlement } from '../risk/limits.ts';
import { digestsOf, recordFrames, settleFrames } from '../risk/replay.ts';
import { metadataFlags, timingFlags, type RiskFlag } from '../risk/signals.ts';
import { AppError, errorCatalogue, isAppError, isOutage, type ErrorCode } from '../shared/errors.ts';
import type { Sealer } from '../shared/sealed.ts';
import type { CheckResult } from './checks.ts';
import { decide } from './decide.ts';
import { sameSize } from './presence.ts';
import { applyEvent, assertOpen, attemptsLeft, currentState, type CaptureEvent, type CaptureFlow, type ChallengeAction } from './flow.ts';
import { claimFlow, countFlows, insertFlow, loadFlow, saveFlow } from './store.ts';

export type Feedback = { code: ErrorCode; message: string };
export type StartResult = { captureId: string; acr: Acr; actions: ChallengeAction[]; minFrames: number; maxFrames: number; expiresAt: string };
export type SubmitResult = {
  status: 'verified' | 'retry' | 'rejected'; feedback: Feedback[]; attemptsLeft: number; flow: CaptureFlow;
  /** Set when the risk rule asks for the active challenge before verifying (feedback challenge_required). */
  actions?: ChallengeAction[];
  /** The frame counts the next submission needs, with `actions`. */
  minFrames?: number;
  maxFrames?: number;
};
/** Who is asking: the client address and user agent of the request (for limits, risk and audit). */
export type Requester = { ip?: string; userAgent?: string };
export type SubmitInput = {
  interactionUid: string; captureId: string; frames: Uint8Array[];
  /** The client's capture times (untrusted: a risk signal only). */
  timestamps?: number[];
  /** A streamed capture: the server's arrival time (ms) of each frame. */
  arrivals?: number[];
  /** A streamed capture: the server's time (ms) it sent each action's prompt. */
  prompts?: number[];
  /** A streamed capture: the frames' analyses, started as they arrived. */
  analyses?: Array<Promise<ImageAnalysis>>;
} & Requester;

/** Hooks for metrics: risk decisions, lockouts, replay and injection signals, submission latency. */
export type RiskObserver = {
  risk(d: { stage: 'start' | 'submit'; decision: RiskDecision }): void;
  lockout(lock: Lock): void;
  signal(flag: RiskFlag): void;
  latency(seconds: number, status: string): void;
};

export type CaptureDeps = {
  db: Db; analyzer: FaceAnalyzer; sealer: Sealer; config: Readonly<Config>; audit: Audit;
  limits: AttemptLimits; keys: RiskKeys;
  observe?: (decision: { level: string; status: string; code?: string }, analyses: ImageAnalysis[]) => void;
  observeRisk?: RiskObserver;
  /** Purposes whose match reference is not the registry template (onboarding: the document portrait). */
  references?: Partial<Record<CaptureFlow['purpose'], CaptureReference>>;
  clock?: () => number;
};

/**
 * The match reference of a purpose: the embedding to match and its own calibrated threshold
 * (undefined: nothing to match, a failed match), and what to do with each decision once it is
 * saved and audited (the frames' analyses included: an onboarding enrolls the live face).
 */
export type CaptureReference = {
  reference(flow: CaptureFlow, modelId: string): Promise<{ template: Float32Array; threshold: number } | undefined>;
  decided?(flow: CaptureFlow, outcome: { status: SubmitResult['status']; code?: ErrorCode; checks?: CheckResult[]; analyses: ImageAnalysis[] }): Promise<void>;
};

const allActions: ChallengeAction[] = ['blink', 'turn_left', 'turn_right'];
/** Substantial's small movement: a turn (a blink can be painted onto a photo; a turn's parallax cannot). */
const turns: ChallengeAction[] = ['turn_left', 'turn_right'];
const feedbackOf = (code: ErrorCode): Feedback => ({ code, message: errorCatalogue[code].message });


function pickActions(n: number, from: readonly ChallengeAction[] = allActions): ChallengeAction[] {
  const pool = [...from];
  return Array.from({ length: Math.min(n, pool.length) }, () => pool.splice(randomInt(pool.length), 1)[0]);
}

/** score − threshold of the liveness and match checks that produced a score. */
function marginsOf(checks: CheckResult[]): RiskInput['margins'] {
  const margin = (name: CheckResult['name']) => {
    const c = checks.find((x) => x.name === name);
    return c?.score !== undefined && c.threshold !== undefined ? c.score - c.threshold : undefined;
  };
  return { match: margin('match'), liveness: margin('liveness') };
}

/** What a submission's outcome does to the ID's failure budget. */
function settlementOf(status: 'verified' | 'retry' | 'failed', code: ErrorCode | undefined): Settlement {
  if (status === 'verified') return 'success';
  if (status === 'failed' || code === 'challenge_failed') return 'failure';
  return code === 'challenge_required' ? 'none' : 'retry';
}

export function createCaptureService(deps: CaptureDeps) {
  const { db, analyzer, sealer, config, audit, limits, keys } = deps;
  const clock = deps.clock ?? Date.now;
  const rules = config.risk.rules;
  const flowLimits = { maxAttempts: config.capture.maxAttempts, maxSubmissions: config.capture.maxSubmissions };
  // A flow with the challenge (high, or stepped up) takes high's frame counts: the actions need frames.
  const frameLimits = (flow: Pick<CaptureFlow, 'acr' | 'actions'>) => config.capture[flow.actions.length ? 'high' : levelOf(flow.acr)];
  const frameCounts = (flow: CaptureFlow) => ({ minFrames: frameLimits(flow).minFrames, maxFrames: frameLimits(flow).maxFrames });
  const deviceKeys = (r: Requester) => ({ network: keys.network(r.ip ?? 'unknown'), agent: keys.agent(r.userAgent ?? '') });
  /** The source network the attempt limits count an ID's failures on (IPv4 /24, IPv6 /64; an HMAC). */
  const netKeyOf = (r: Requester) => keys.network(r.ip ?? 'unknown');
  /** The risk rule's counts: past the per-network limit from anywhere, every network gets the challenge. */
  const failureCounts = (idFailures: number, ipFailures: number) => ({ idFailures, ipFailures, pastNetworkLimit: idFailures >= config.risk.lockout.maxFailures });
  const deviceSince = () => clock() - config.risk.deviceMemoryDays * 86_400_000;
  const who = (r: Requester): Pick<AuditEvent, 'ip' | 'userAgent'> => ({ ip: r.ip, userAgent: r.userAgent?.slice(0, 512) });
  /** The audit fields of an event about this flow, asked for by this requester. */
  const aboutFlow = (flow: CaptureFlow, r: Requester) =>
    ({ interactionUid: flow.interactionUid, clientId: flow.clientId ?? undefined, citizenId: flow.citizenId, ...who(r) });

  async function refuseLocked(lock: Lock, e: Omit<AuditEvent, 'type' | 'outcome' | 'code'>, stage: 'start' | 'submit'): Promise<never> {
    await audit({ ...e, type: 'capture.refused', outcome: 'failure', code: lock.scope === 'ip' ? 'rate_limited' : 'locked', details: { ...e.details, stage, lock: { scope: lock.scope, reason: lock.reason, retryAt: new Date(lock.retryAt).toISOString() } } });
    deps.observeRisk?.risk({ stage, decision: { action: 'deny', reasons: ['locked'] } });
    throw lockError(lock);
  }

  /**
   * Starts a capture for `nationalId` at `acr`, bound to the interaction (or, for a proof of life,
   * to the proof request: `interactionUid` is then its id).
   */
  async function start(input: { interactionUid: string; clientId: string | null; nationalId: unknown; acr: Acr; purpose?: CaptureFlow['purpose'] } & Requester): Promise<StartResult> {
    const nationalId = normalizeTypedNationalId(input.nationalId);
    const base = { interactionUid: input.interactionUid, clientId: input.clientId ?? undefined, ...who(input) };
    // Each capture brings fresh attempts: without a cap, one sign-in could try without end.
    if (await countFlows(db, input.interactionUid) >= config.capture.maxCapturesPerInteraction) {
      await audit({ ...base, type: 'capture.refused', outcome: 'failure', code: 'too_many_captures' });
      throw new AppError('too_many_captures');
    }
    // Known or not, the ID is counted under its HMAC by the same calls.
    const idKey = keys.id(nationalId);
    const ipKey = keys.ip(input.ip ?? 'unknown');
    const counted = limits.countStart(ipKey);
    try {
      return await startCounted(input, nationalId, { idKey, ipKey, base, counted });
    } catch (err) {
      // A start an outage stopped (the database or Redis down) gave the citizen nothing: it does
      // not count against her network's starts. A bug's 500 still counts (it cannot be probed free).
      if (isOutage(err) && await counted.then((lock) => !lock, () => false)) await limits.uncountStart(ipKey).catch(() => {});
      throw err;
    }
  }

  async function startCounted(
    input: Parameters<typeof start>[0], nationalId: string,
    { idKey, ipKey, base, counted }: { idKey: string; ipKey: string; base: Omit<AuditEvent, 'type' | 'outcome'>; counted: Promise<Lock | undefined> },
  ): Promise<StartResult> {
    const [startLock, status, citizen] = await Promise.all([
      counted, limits.status(idKey, ipKey, netKeyOf(input)), findCitizenByNationalId(db, nationalId),
    ]);
    if (startLock) await refuseLocked(startLock, base, 'start');
    const citizenId = citizen?.status === 'active' ? citizen.id : null;
    // "This wasn't me" (src/account/reports.ts): while she has an open report, every capture is at high.
    if (citizenId && levelOf(input.acr) !== 'high' && await hasOpenReport(db, citizenId)) input = { ...input, acr: acrOf('high') };
    const high = levelOf(input.acr) === 'high';
    const counts = { lock: status.lock, ...failureCounts(status.idFailures, status.ipFailures), flags: [], challenged: high };
    // A lock is refused before anything else is read.
    const locked = decideRisk({ now: clock(), ...counts }, rules);
    if (locked.action === 'deny') await refuseLocked(status.lock!, { ...base, citizenId, details: { risk: locked } }, 'start');
    const novelty = await deviceNovelty(db, citizenId, deviceKeys(input), deviceSince());
    const now = clock();
    const risk = decideRisk({ now, ...counts, novelty }, rules);
    deps.observeRisk?.risk({ stage: 'start', decision: risk });
    const actions = high || risk.action === 'step_up' ? pickActions(config.capture.high.actions) : pickActions(config.capture.substantial.actions, turns);
    const flow: CaptureFlow = {
      id: randomBytes(24).toString('base64url'),
      interactionUid: input.interactionUid,
      clientId: input.clientId,
      citizenId,
      idKey,
      purpose: input.purpose ?? 'sign_in',
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
      ...base, type: 'capture.started', outcome: 'info', citizenId: flow.citizenId,
      details: { captureId: flow.id, purpose: flow.purpose, acr: flow.acr, actions, knownCitizen: Boolean(flow.citizenId), risk },
    });
    const { minFrames, maxFrames } = frameLimits(flow);
    return { captureId: flow.id, acr: flow.acr, actions, minFrames, maxFrames, expiresAt: new Date(flow.expiresAt).toISOString() };
  }

  async function template(citizenId: string | null, analyses: ImageAnalysis[]): Promise<Float32Array | undefined> {
    const modelId = embeddingModelId(analyses[0].models);
    // An unknown ID costs the same lookup as a known one, so timing does not tell them apart.
    return loadTemplate(db, sealer, citizenId ?? randomUUID(), modelId);
  }

  /**
   * Opens a streamed capture (stream.ts): the flow must be open and neither its ID nor the IP
   * locked. Returns the actions its prompts will reveal, one at a time. A flow already verified
   * whose capture has not expired answers `verified` instead: its verdict never reached the page
   * (the connection or the instance went away after the decision, or finishing the sign-in met an
   * outage), and the citizen's "Try again" finishes the same sign-in rather than a dead end.
   */
  async function open(
    input: { interactionUid: string; captureId: string } & Requester,
  ): Promise<{ flow: CaptureFlow; minFrames: number; verified?: SubmitResult }> {
    const flow = await loadFlow(db, input.captureId, input.interactionUid);
    const resumable = isResumable(flow);
    if (!resumable) assertOpen(flow, clock());
    const status = await limits.status(flow.idKey ?? keys.id(''), keys.ip(input.ip ?? 'unknown'), netKeyOf(input));
    const base = aboutFlow(flow, input);
    if (status.lock) await refuseLocked(status.lock, { ...base, details: { captureId: flow.id } }, 'submit');
    if (resumable) return { flow, minFrames: 0, verified: await resume(flow, input) };
    return { flow, minFrames: frameLimits(flow).minFrames };
  }

  /** Verified and not past its expiry: a new stream is answered that verdict (open, submit). */
  function isResumable(flow: CaptureFlow): boolean {
    return flow.state === 'verified' && clock() < flow.expiresAt;
  }

  /** The verdict already decided, again (audited; nothing is decided or counted). */
  async function resume(flow: CaptureFlow, input: Requester): Promise<SubmitResult> {
    await audit({ ...aboutFlow(flow, input), type: 'capture.resumed', outcome: 'info', details: { captureId: flow.id, acr: flow.acr } });
    return { status: 'verified', feedback: [], attemptsLeft: 0, flow };
  }

  /**
   * Evaluates one submission of frames (capture order) and moves the flow on. A streamed capture
   * (stream.ts) also brings the server's arrival time of each frame, the time each action was
   * prompted, and the frames' analyses it started as they arrived; its frame limit is the stream's.
   */
  async function submit(input: SubmitInput): Promise<SubmitResult> {
    const began = performance.now();
    const loaded = await loadFlow(db, input.captureId, input.interactionUid);
    // A stream opened again after its first lost the socket, while the first's decision was still
    // running (on another instance): that decision made, the verdict is its.
    if (input.arrivals && isResumable(loaded)) return resume(loaded, input);
    assertOpen(loaded, clock());
    const { minFrames } = frameLimits(loaded);
    const maxFrames = input.arrivals ? config.capture.stream.maxFrames : frameLimits(loaded).maxFrames;
    if (input.frames.length > maxFrames) throw new AppError('too_many_frames', undefined, { maxFrames });
    if (input.frames.length < minFrames) throw new AppError('too_few_frames', undefined, { minFrames });
    const base = aboutFlow(loaded, input);
    // A flow from before the risk migration has no key: it is counted under the empty ID's.
    const idKey = loaded.idKey ?? keys.id('');
    const ipKey = keys.ip(input.ip ?? 'unknown');
    // A locked ID or IP is refused here, before any image is decoded.
    const netKey = netKeyOf(input);
    const status = await limits.status(idKey, ipKey, netKey);
    if (status.lock) await refuseLocked(status.lock, { ...base, details: { captureId: loaded.id } }, 'submit');
    const reservation = await limits.reserve(idKey, ipKey, netKey);
    let settlement: Settlement = 'none';
    try {
      const result = await evaluate(loaded, input, failureCounts(reservation.failures, status.ipFailures), base);
      settlement = result.settlement;
      return result.answer;
    } catch (err) {
      // Bad input (not an image…) still counts, as a retry: bounded, but no lockout for a bad camera.
      settlement = isAppError(err) && err.status < 500 && err.code !== 'capture_busy' ? 'retry' : 'none';
      throw err;
    } finally {
      const lock = await limits.settle(reservation, settlement);
      if (lock) {
        deps.observeRisk?.lockout(lock);
        // scope: `id_network` (the ID from this network) or `id` (the ID everywhere); lockouts of that scope.
        const lockouts = await limits.lockouts(idKey, lock.scope === 'id_network' ? netKey : undefined);
        await audit({ ...base, type: 'capture.locked', outcome: 'failure', code: 'locked', details: { captureId: loaded.id, scope: lock.scope, retryAt: new Date(lock.retryAt).toISOString(), lockouts } });
      }
      deps.observeRisk?.latency((performance.now() - began) / 1000, settlement);
    }
  }

  async function evaluate(
    loaded: CaptureFlow, input: SubmitInput,
    counts: Pick<RiskInput, 'idFailures' | 'ipFailures' | 'pastNetworkLimit'>, base: Omit<AuditEvent, 'type' | 'outcome'>,
  ): Promise<{ answer: SubmitResult; settlement: Settlement }> {
    const flow = await claimFlow(db, loaded, clock());
    const now = clock();
    // Replay and injection signals first: cheap, and a replay never reaches the face engine.
    const digests = digestsOf(input.frames);
    // Recorded for this capture and submission (the flow version just claimed), not answered yet:
    // if this instance dies before the answer, the same frames may come again in this capture.
    const by = { owner: flow.id, submission: flow.version };
    const replay = await recordFrames(db, digests, now, config.risk.replay.windowSeconds * 1000, by);
    // The outcome and the frames answered, in one transaction: an evaluated frame is a replay from then on, here too.
    const saveAnswered = (next: CaptureFlow, result: unknown) => db.transaction(async (trx) => {
      await saveFlow(trx, flow, next, result);
      await settleFrames(trx, digests, by, clock());
    });
    const timing = timingFlags({ timestamps: input.timestamps, sessionStart: flow.createdAt, sessionEnd: flow.expiresAt, now }, config.risk.signals);
    const metadata = await metadataFlags(input.frames, config.risk.signals);
    const flags: RiskFlag[] = [
      ...(replay.replayed ? ['replayed_frame' as const] : []), ...(replay.duplicates ? ['duplicate_frame' as const] : []),
      ...timing.flags, ...metadata.flags,
    ];
    for (const f of flags) deps.observeRisk?.signal(f);
    const novelty = await deviceNovelty(db, flow.citizenId, deviceKeys(input), deviceSince());
    const riskInput: RiskInput = { now, ...counts, novelty, flags, challenged: flow.actions.length >= config.capture.high.actions };
    const signals = { flags, replay, timing: timing.details, software: metadata.software.length ? metadata.software : undefined, novelty };

    const finish = async (outcome: 'verified' | 'retry' | 'failed', code: ErrorCode | undefined, risk: RiskDecision, extra: { checks?: CheckResult[]; analyses?: ImageAnalysis[]; actions?: ChallengeAction[] }) => {
      const event: CaptureEvent = { type: outcome };
      const next = { ...applyEvent(flow, event, clock(), flowLimits), ...(extra.actions ? { actions: extra.actions } : {}) };
      const status = next.state === 'verified' ? 'verified' : outcome === 'retry' && next.state === 'open' ? 'retry' : 'rejected';
      await saveAnswered(next, { outcome, code, checks: extra.checks, risk });
      if (status === 'verified' && flow.citizenId) await rememberDevice(db, flow.citizenId, deviceKeys(input), clock());
      await audit({
        ...base, type: 'capture.decided', outcome: status === 'verified' ? 'success' : 'failure', code,
        details: {
          captureId: flow.id, acr: flow.acr, status, frames: input.frames.length, state: next.state,
          clientSpanMs: input.timestamps ? input.timestamps.at(-1)! - input.timestamps[0] : undefined,
          checks: extra.checks, models: extra.analyses?.[0]?.models, risk, signals, ...(extra.actions ? { actions: extra.actions } : {}),
        },
      });
      deps.observeRisk?.risk({ stage: 'submit', decision: risk });
      deps.observe?.({ level: levelOf(flow.acr), status, code }, extra.analyses ?? []);
      await deps.references?.[flow.purpose]?.decided?.(next, { status, code, checks: extra.checks, analyses: extra.analyses ?? [] });
      // Outwardly a failed attempt reads not_live (presence or liveness) or not_verified (no match,
      // unknown ID, denied): never which check or score. The audit keeps the reason.
      const retryCodes = extra.checks?.at(-1)?.codes ?? (code ? [code] : []);
      // An onboarding's citizen has shown a document matching the record: its portrait's mismatch is named.
      const portrait = flow.purpose === 'onboarding' && extra.checks?.at(-1)?.name === 'match';
      const failed: ErrorCode = code === 'not_live' ? 'not_live' : portrait ? 'portrait_mismatch' : 'not_verified';
      const codes = outcome === 'retry' ? retryCodes.slice(0, 3) : outcome === 'failed' ? [failed] : [];
      const answer: SubmitResult = { status, feedback: codes.map(feedbackOf), attemptsLeft: attemptsLeft(next, flowLimits), flow: next, ...(extra.actions ? { actions: extra.actions, ...frameCounts(next) } : {}) };
      return { answer, settlement: settlementOf(outcome, code) };
    };

    const early = decideRisk(riskInput, rules);
    if (early.action === 'deny') return finish('failed', flags.includes('replayed_frame') ? 'replayed_frame' : 'not_verified', early, {});

    let analyses: ImageAnalysis[];
    try {
      analyses = await Promise.all(input.analyses ?? input.frames.map((bytes) => analyzer.analyze(bytes, { grade: 'capture' })));
    } catch (err) {
      // Bad input still counts as a submission, so a client cannot probe without limit.
      // Frames refused as such (not an image…) got their answer; an engine failure is none, so
      // the same frames may come again in this capture.
      const next = applyEvent(flow, { type: 'retry' }, clock(), flowLimits);
      const result = { error: isAppError(err) ? err.code : 'internal_error' };
      await (isAppError(err) && err.status < 500 ? saveAnswered(next, result) : saveFlow(db, flow, next, result));
      throw err;
    }
    // One capture, one camera: frames of different sizes were not taken by it in one go.
    if (!sameSize(analyses)) {
      await saveAnswered(applyEvent(flow, { type: 'retry' }, clock(), flowLimits), { error: 'frames_inconsistent' });
      throw new AppError('frames_inconsistent');
    }
    // Frames without a face never reach the match: no template is read for them.
    const embedded = analyses.every((a) => a.face?.embedding);
    const hooks = deps.references?.[flow.purpose];
    const reference = !embedded ? undefined
      : hooks ? await hooks.reference(flow, embeddingModelId(analyses[0].models)) : { template: await template(flow.citizenId, analyses), threshold: undefined };
    const decision = decide(analyses, {
      flow, template: reference?.template, matchThreshold: reference?.threshold, config, timestamps: input.timestamps, digests,
      arrivals: input.arrivals, prompts: input.prompts,
    });
    const extra = { checks: decision.checks, analyses };
    // A face check that did not pass is the decision: margins (a thin match) would record a step-up
    // that never happens, so the risk kept with it is the one read before the face engine ran.
    if (decision.outcome !== 'verified') return finish(decision.outcome, decision.code, early, extra);
    const risk = decideRisk({ ...riskInput, margins: marginsOf(decision.checks) }, rules);
    if (risk.action === 'deny') return finish('failed', 'not_verified', risk, extra);
    // The face passed, but not convincingly enough for the signals around it: the challenge first.
    if (risk.action === 'step_up') return finish('retry', 'challenge_required', risk, { ...extra, actions: pickActions(config.capture.high.actions) });
    return finish('verified', undefined, risk, extra);
  }

  /**
   * A streamed capture left before its verdict after an action was prompted: one submission of
   * the flow is spent (so the prompts cannot be probed without limit), and the audit says so.
   */
  async function abandon(input: { interactionUid: string; captureId: string; prompted: number } & Requester): Promise<void> {
    const loaded = await loadFlow(db, input.captureId, input.interactionUid);
    if (currentState(loaded, clock()) !== 'open') return;
    const flow = await claimFlow(db, loaded, clock());
    await saveFlow(db, flow, applyEvent(flow, { type: 'retry' }, clock(), flowLimits), { abandoned: true });
    await audit({
      ...aboutFlow(flow, input), type: 'capture.abandoned', outcome: 'failure', details: { captureId: flow.id, prompted: input.prompted },
    });
  }

  /** Cheap preview for live guidance: detection, landmarks and quality only. */
  async function preview(frame: Uint8Array): Promise<{ ok: boolean; feedback: Feedback[] }> {
    const a = await analyzer.analyze(frame, { grade: 'capture', embed: false, liveness: false });
    return { ok: a.quality.ok, feedback: a.quality.codes.slice(0, 3).map(feedbackOf) };
  }

  return { start, open, submit, abandon, preview };
}

export type CaptureService = ReturnType<typeof createCaptureService>;

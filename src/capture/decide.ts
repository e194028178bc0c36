// The decision over one submission: the checks in order, stopping at the first that does not
// pass. Quality and challenge problems ask for a retry; everything else is a failed attempt. Pure.
// Presence is checked at every level: fresh and distinct frames, one continuous scene, a face that
// does not move like a flat picture (presence.ts); with actions (high, a step-up, substantial's
// turn) the actions must really happen, in order (challenge.ts). Then one person throughout,
// passive liveness over the frames that passed the quality gate, and the match on the neutral
// frames' best.
import type { ImageAnalysis } from '../biometrics/engine.ts';
import type { ErrorCode } from '../shared/errors.ts';
import { checkChallenge, stillFrames } from './challenge.ts';
import { checkLiveness, checkMatch, checkQuality, checkSamePerson, type CheckContext, type CheckResult, type Frames } from './checks.ts';
import { checkFresh } from './fresh.ts';
import { checkMotion, checkScene } from './presence.ts';

export type Decision = { outcome: 'verified' | 'retry' | 'failed'; code?: ErrorCode; checks: CheckResult[] };

/** Codes an action frame may carry: the action itself (turned, eyes shut) and its motion blur. */
const actionCodes = new Set<ErrorCode>(['face_turned', 'eyes_closed', 'blurry']);

export function decide(analyses: ImageAnalysis[], ctx: CheckContext): Decision {
  const { actions } = ctx.flow;
  const settings = ctx.config.capture.challenge;
  const tolerated = actions.length ? actionCodes : new Set<ErrorCode>();
  const quality = checkQuality(analyses.map((a) => ({ ...a, quality: { ...a.quality, codes: a.quality.codes.filter((c) => !tolerated.has(c)) } })));
  if (quality.outcome !== 'pass') return { outcome: 'retry', code: quality.code, checks: [quality] };
  const frames = analyses as Frames;
  const neutral = analyses.map((a) => a.quality.ok);
  const still = actions.length ? stillFrames(frames, neutral, settings) : frames;
  const steps: Array<() => CheckResult> = [() => checkFresh(frames, ctx), () => checkScene(frames, ctx), () => checkMotion(frames, ctx)];
  if (actions.length) steps.push(() => checkChallenge(frames, neutral, actions, ctx.arrivals, settings, ctx.prompts));
  steps.push(
    () => checkSamePerson(frames, ctx),
    () => checkLiveness(frames.filter((_, i) => neutral[i]), ctx),
    () => checkMatch(still, ctx),
  );
  const checks: CheckResult[] = [quality];
  for (const step of steps) {
    const result = step();
    checks.push(result);
    if (result.outcome === 'retry') return { outcome: 'retry', code: result.code, checks };
    if (result.outcome !== 'pass') return { outcome: 'failed', code: result.code, checks };
  }
  return { outcome: 'verified', checks };
}

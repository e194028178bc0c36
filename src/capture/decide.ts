// The decision over one submission: the checks in order, stopping at the first that does not
// pass. Quality and challenge problems ask for a retry; everything else is a failed attempt. Pure.
// With a challenge (high, or a step-up), frames that perform an action may be turned or have
// closed eyes: the frames must be fresh and distinct, the actions seen in order and in time, the
// same person throughout, passive liveness must hold over the frames, and the match uses the
// neutral frames' best.
import type { ImageAnalysis } from '../biometrics/engine.ts';
import type { ErrorCode } from '../shared/errors.ts';
import { checkChallenge, stillFrames } from './challenge.ts';
import { checkLiveness, checkMatch, checkQuality, checkSamePerson, type CheckContext, type CheckResult, type Frames } from './checks.ts';
import { checkFresh } from './fresh.ts';

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
  const steps: Array<() => CheckResult> = actions.length
    ? [() => checkFresh(frames, ctx), () => checkChallenge(frames, neutral, actions, ctx.timestamps, settings)]
    : [];
  steps.push(() => checkSamePerson(frames, ctx), () => checkLiveness(frames, ctx), () => checkMatch(still, ctx));
  const checks: CheckResult[] = [quality];
  for (const step of steps) {
    const result = step();
    checks.push(result);
    if (result.outcome === 'retry') return { outcome: 'retry', code: result.code, checks };
    if (result.outcome !== 'pass') return { outcome: 'failed', code: result.code, checks };
  }
  return { outcome: 'verified', checks };
}

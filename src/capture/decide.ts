// The decision over one submission: the checks in order, stopping at the first that does not
// pass. Quality and challenge problems ask for a retry; everything else is a failed attempt. Pure.
// At high, frames that perform an action may be turned or have closed eyes; the match and passive
// liveness use the neutral frames, and all frames must show the same person.
import type { ImageAnalysis } from '../biometrics/engine.ts';
import type { ErrorCode } from '../shared/errors.ts';
import { checkChallenge, stillFrames } from './challenge.ts';
import { checkLiveness, checkMatch, checkQuality, checkSamePerson, type CheckContext, type CheckResult, type Frames } from './checks.ts';

export type Decision = { outcome: 'verified' | 'retry' | 'failed'; code?: ErrorCode; checks: CheckResult[] };

/** Codes an action frame may carry: the action itself (turned, eyes shut) and its motion blur. */
const actionCodes = new Set<ErrorCode>(['face_turned', 'eyes_closed', 'blurry']);

export function decide(analyses: ImageAnalysis[], ctx: CheckContext): Decision {
  const { actions } = ctx.flow;
  const tolerated = actions.length ? actionCodes : new Set<ErrorCode>();
  const quality = checkQuality(analyses.map((a) => ({ ...a, quality: { ...a.quality, codes: a.quality.codes.filter((c) => !tolerated.has(c)) } })));
  if (quality.outcome !== 'pass') return { outcome: 'retry', code: quality.code, checks: [quality] };
  const frames = analyses as Frames;
  const neutral = analyses.map((a) => a.quality.ok);
  const checks: CheckResult[] = [quality];
  const steps: Array<() => CheckResult> = [];
  if (actions.length) steps.push(() => checkChallenge(frames, neutral, actions));
  const still = actions.length ? stillFrames(frames, neutral) : frames;
  if (still.length === 0) return { outcome: 'retry', code: 'challenge_failed', checks: [...checks, { name: 'challenge', outcome: 'retry', code: 'challenge_failed' }] };
  steps.push(() => checkSamePerson(frames, ctx), () => checkLiveness(still, ctx), () => checkMatch(still, ctx));
  for (const step of steps) {
    const result = step();
    checks.push(result);
    if (result.outcome === 'retry') return { outcome: 'retry', code: result.code, checks };
    if (result.outcome !== 'pass') return { outcome: 'failed', code: result.code, checks };
  }
  return { outcome: 'verified', checks };
}

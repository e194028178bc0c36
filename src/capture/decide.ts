// The decision over one submission: the checks in order, stopping at the first that does not
// pass. Quality problems ask for a retry; everything else is a failed attempt. Pure.
import type { ImageAnalysis } from '../biometrics/engine.ts';
import type { ErrorCode } from '../shared/errors.ts';
import { checkLiveness, checkMatch, checkQuality, checkSamePerson, type CheckContext, type CheckResult, type Frames } from './checks.ts';

export type Decision = { outcome: 'verified' | 'retry' | 'failed'; code?: ErrorCode; checks: CheckResult[] };

const steps = [checkSamePerson, checkLiveness, checkMatch];

/** Runs the checks over a submission's analyses (in capture order). */
export function decide(analyses: ImageAnalysis[], ctx: CheckContext): Decision {
  const quality = checkQuality(analyses);
  if (quality.outcome !== 'pass') return { outcome: 'retry', code: quality.code, checks: [quality] };
  const frames = analyses as Frames;
  const checks: CheckResult[] = [quality];
  for (const step of steps) {
    const result = step(frames, ctx);
    checks.push(result);
    if (result.outcome !== 'pass') return { outcome: 'failed', code: result.code, checks };
  }
  return { outcome: 'verified', checks };
}

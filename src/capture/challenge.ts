// The active liveness challenge at LoA high: the server's random actions (blink, turn left, turn
// right) must be seen in order, each as a change from the citizen's own neutral frames. Pure.
//
// Head turns are measured on the landmarks: the nose tip's horizontal offset from the eye midpoint,
// in inter-eye distances. A photo held up and tilted keeps that ratio; a head turning changes it
// (ISO/IEC 30107-3 challenge-response). Frames are as the camera delivers them (not mirrored):
// the citizen's left is the picture's right.
import type { ChallengeAction } from './flow.ts';
import type { CheckResult, Frames } from './checks.ts';

type Frame = Frames[number];

/** Smallest change of the nose offset (inter-eye units) from the neutral frames that counts as a turn. */
export const minTurnShift = 0.15;
/** Both eyes below this open-probability count as closed; above `openEyes` as open. */
export const closedEyes = 0.3;
export const openEyes = 0.5;

const mean = (f: Frame, ix: number[]) => ({
  x: ix.reduce((s, i) => s + f.face.landmarks[i].x, 0) / ix.length,
  y: ix.reduce((s, i) => s + f.face.landmarks[i].y, 0) / ix.length,
});

/** Nose-tip offset from the eye midpoint in inter-eye distances: > 0 when the nose points to the picture's right. */
export function noseOffset(f: Frame): number {
  const a = mean(f, [36, 37, 38, 39, 40, 41]);
  const b = mean(f, [42, 43, 44, 45, 46, 47]);
  const d = Math.hypot(a.x - b.x, a.y - b.y) || 1;
  return (f.face.landmarks[30].x - (a.x + b.x) / 2) / d;
}

/**
 * The citizen's neutral pose: the nose offset of the first frame that passed the full quality gate
 * (the page asks her to look straight at the camera before the first action). Undefined if none.
 */
export function baselineOffset(frames: Frames, neutral: boolean[]): number | undefined {
  const first = neutral.indexOf(true);
  return first < 0 ? undefined : noseOffset(frames[first]);
}

/** Frames that passed the quality gate in the neutral pose: the ones matched and checked for liveness. */
export function stillFrames(frames: Frames, neutral: boolean[]): Frames {
  const baseline = baselineOffset(frames, neutral);
  return frames.filter((f, i) => neutral[i] && baseline !== undefined && Math.abs(noseOffset(f) - baseline) < minTurnShift);
}

function performs(action: ChallengeAction, f: Frame, baseline: number): boolean {
  const shift = noseOffset(f) - baseline;
  switch (action) {
    case 'turn_left': return shift >= minTurnShift;
    case 'turn_right': return shift <= -minTurnShift;
    case 'blink': return Math.max(...f.face.eyesOpen) < closedEyes;
  }
}

/**
 * The actions must appear in order after the first neutral frame (a blink must follow open eyes).
 * `neutral` marks the frames that passed the full quality gate.
 */
export function checkChallenge(frames: Frames, neutral: boolean[], actions: ChallengeAction[]): CheckResult {
  const first = neutral.indexOf(true);
  const baseline = baselineOffset(frames, neutral);
  if (baseline === undefined) return { name: 'challenge', outcome: 'retry', code: 'challenge_failed', score: 0, threshold: actions.length };
  let at = first;
  let done = 0;
  for (const action of actions) {
    let found = -1;
    for (let i = at + 1; i < frames.length; i++) {
      if (action === 'blink' && !frames.slice(at, i).some((f) => Math.max(...f.face.eyesOpen) >= openEyes)) continue;
      if (performs(action, frames[i], baseline)) { found = i; break; }
    }
    if (found < 0) break;
    at = found;
    done++;
  }
  const ok = done === actions.length;
  return { name: 'challenge', outcome: ok ? 'pass' : 'retry', code: ok ? undefined : 'challenge_failed', score: done, threshold: actions.length };
}

// The active liveness challenge (LoA high, and a risk step-up at substantial): the server's random
// actions (blink, turn left, turn right) must be seen in order, each within its time window, each
// as a change from the citizen's own neutral frame. Pure: frames, timestamps and config in.
//
// A head turn must show on two independent measures at once: the pose model's yaw, and the nose
// tip's horizontal offset from the eye midpoint in inter-eye distances. A flat photo turned in the
// hand changes the apparent yaw but keeps that landmark ratio (an affine squeeze scales both), so
// it fails (ISO/IEC 30107-3 challenge-response). Frames are as the camera delivers them (not
// mirrored): the citizen's left is the picture's right, where her nose moves when she turns left.
import type { Config } from '../../config/schema.ts';
import type { ChallengeAction } from './flow.ts';
import type { CheckResult, Frames } from './checks.ts';

type Frame = Frames[number];
export type ChallengeSettings = Config['capture']['challenge'];

/** One action as the checker saw it: where it was found and what was measured there. */
export type ActionMeasure = {
  action: ChallengeAction; frame: number | null; afterMs: number | null;
  yawChangeDeg: number | null; noseShift: number | null; eyesOpen: number | null;
};

const mean = (f: Frame, ix: number[]) => ({
  x: ix.reduce((s, i) => s + f.face.landmarks[i].x, 0) / ix.length,
  y: ix.reduce((s, i) => s + f.face.landmarks[i].y, 0) / ix.length,
});

/** Distance between the eye centres, in pixels (the face's own scale). */
export function interEye(f: Frame): number {
  const a = mean(f, [36, 37, 38, 39, 40, 41]);
  const b = mean(f, [42, 43, 44, 45, 46, 47]);
  return Math.hypot(a.x - b.x, a.y - b.y) || 1;
}

/** Nose-tip offset from the eye midpoint in inter-eye distances: > 0 when the nose points to the picture's right. */
export function noseOffset(f: Frame): number {
  const a = mean(f, [36, 37, 38, 39, 40, 41]);
  const b = mean(f, [42, 43, 44, 45, 46, 47]);
  return (f.face.landmarks[30].x - (a.x + b.x) / 2) / interEye(f);
}

/** The more open eye's open-probability (fr_eye): a blink closes both. */
const eyes = (f: Frame) => Math.max(...f.face.eyesOpen);

/**
 * The index of the citizen's neutral frame: the first that passed the full quality gate (the page
 * asks her to look straight at the camera before the first action). -1 if none.
 */
export const neutralIndex = (neutral: boolean[]): number => neutral.indexOf(true);

/** Frames that passed the quality gate in about the neutral pose: the ones matched and checked for liveness. */
export function stillFrames(frames: Frames, neutral: boolean[], s: ChallengeSettings): Frames {
  const first = neutralIndex(neutral);
  if (first < 0) return [];
  const base = frames[first];
  return frames.filter((f, i) => neutral[i]
    && Math.abs(noseOffset(f) - noseOffset(base)) < s.minNoseShift
    && Math.abs(f.face.pose.yaw - base.face.pose.yaw) < s.minYawChangeDeg);
}

/**
 * Whether `f` performs `action` relative to the neutral frame `base`. Pose yaw > 0 means the head
 * turned to the picture's left (the citizen's right), where the nose offset goes negative.
 */
export function performs(action: ChallengeAction, f: Frame, base: Frame, s: ChallengeSettings): boolean {
  const yaw = f.face.pose.yaw - base.face.pose.yaw;
  const nose = noseOffset(f) - noseOffset(base);
  switch (action) {
    case 'turn_left': return yaw <= -s.minYawChangeDeg && nose >= s.minNoseShift;
    case 'turn_right': return yaw >= s.minYawChangeDeg && nose <= -s.minNoseShift;
    case 'blink': return eyes(f) < s.eyesClosedBelow;
  }
}

function measure(action: ChallengeAction, frames: Frames, i: number | null, base: Frame, since: number | null, times: number[] | undefined): ActionMeasure {
  if (i === null) return { action, frame: null, afterMs: null, yawChangeDeg: null, noseShift: null, eyesOpen: null };
  const f = frames[i];
  const round = (x: number, k = 1000) => Math.round(x * k) / k;
  return {
    action, frame: i, afterMs: since === null || !times ? null : times[i] - since,
    yawChangeDeg: round(f.face.pose.yaw - base.face.pose.yaw, 10), noseShift: round(noseOffset(f) - noseOffset(base)), eyesOpen: round(eyes(f)),
  };
}

/** Which turn a frame shows relative to the neutral frame, if any. */
const turnOf = (f: Frame, base: Frame, s: ChallengeSettings): ChallengeAction | null =>
  performs('turn_left', f, base, s) ? 'turn_left' : performs('turn_right', f, base, s) ? 'turn_right' : null;

/**
 * A turn that really happens sweeps through intermediate angles: between the neutral step and the
 * turn's peak (the largest yaw change before the head comes back below the action's threshold), or
 * on the way back, at least one frame at `sweepLow`..`sweepHigh` of the peak's yaw change and at
 * least half the turn threshold away from neutral (the neutral pose's own jitter is not a sweep).
 * Frames picked for their pose (photos, a recording re-ordered to the actions) jump from neutral
 * to turned.
 */
function sweeps(frames: Frames, from: number, found: number, base: Frame, direction: 1 | -1, s: ChallengeSettings): string | null {
  const yaw = (i: number) => direction * (frames[i].face.pose.yaw - base.face.pose.yaw);
  let end = found;
  while (end + 1 < frames.length && yaw(end + 1) >= s.minYawChangeDeg) end++;
  let peak = found;
  for (let i = found; i <= end; i++) if (yaw(i) > yaw(peak)) peak = i;
  // The way back: frames after the turn until the head is near the neutral pose again.
  let back = end;
  while (back + 1 < frames.length && yaw(back + 1) < yaw(back) && yaw(back) > s.sweepLow * yaw(peak)) back++;
  const full = yaw(peak);
  // Clearly on the way: past the neutral pose's own jitter (half the turn threshold) and short of the peak.
  const between = (i: number) => yaw(i) >= Math.max(s.sweepLow * full, s.minYawChangeDeg / 2) && yaw(i) <= s.sweepHigh * full;
  for (let i = from + 1; i <= back; i++) if (between(i)) return null;
  return 'turn_without_sweep';
}

/**
 * The actions must appear in order after the neutral frame; a turn must sweep (see sweeps()), a
 * blink must follow open eyes and reopen within `blinkMaxFrames` frames, and no turn that was not
 * asked for may happen (a recording that does every action in a loop fails). With `times` (the
 * server's arrival times; never the client's), each action must also come within `actionWindowMs`
 * of the previous step. With `prompts` too (the server's time it sent each action's prompt, in a
 * streamed capture), an action counts only in frames that arrived after its prompt and within
 * `actionWindowMs` of it; the neutral frame must come before the first prompt, and an action shown
 * before its prompt fails (`action_before_prompt`): knowing the actions in advance gains nothing.
 * `neutral` marks the frames that passed the full quality gate.
 */
export function checkChallenge(
  frames: Frames, neutral: boolean[], actions: ChallengeAction[], times: number[] | undefined, s: ChallengeSettings, prompts?: number[],
): CheckResult {
  const result = (done: number, reason: string | undefined, measured: ActionMeasure[]): CheckResult => ({
    name: 'challenge', outcome: reason ? 'retry' : 'pass', code: reason ? 'challenge_failed' : undefined, reason,
    score: done, threshold: actions.length, measured: { actions: measured },
  });
  const first = neutralIndex(neutral);
  if (first < 0) return result(0, 'no_neutral_frame', []);
  const timed = times && times.length === frames.length ? times : undefined;
  const prompted = timed && prompts && prompts.length === actions.length ? prompts : undefined;
  if (prompted && timed![first] >= prompted[0]) return result(0, 'no_neutral_frame', []);
  const base = frames[first];
  const measured: ActionMeasure[] = [];
  let at = first;
  for (const [k, action] of actions.entries()) {
    let found: number | null = null;
    let reason: string | null = null;
    // The step starts at the previous action's frame, or at this action's prompt when it was prompted.
    const since = prompted ? prompted[k] : timed?.[at];
    for (let i = at + 1; i < frames.length; i++) {
      const turn = turnOf(frames[i], base, s);
      const previous = measured.at(-1)?.action;
      // A turn other than this one, and not the head still coming back from the previous action: not asked for.
      if (turn && turn !== action && turn !== previous) {
        reason = 'unrequested_action';
        break;
      }
      if (prompted && timed![i] <= prompted[k]) {
        // Before the prompt: the head may still be coming back from the previous action, nothing
        // more. A blink then is a natural one: it does not count, and it is no fault.
        if (action !== 'blink' && action !== previous && performs(action, frames[i], base, s)) { reason = 'action_before_prompt'; break; }
        continue;
      }
      if (action === 'blink' && !frames.slice(at, i).some((f) => eyes(f) >= s.eyesOpenAbove)) continue;
      if (!performs(action, frames[i], base, s)) continue;
      if (since !== undefined && timed![i] - since > s.actionWindowMs) { reason = 'action_too_late'; break; }
      found = i;
      break;
    }
    measured.push(measure(action, frames, found, base, since ?? null, timed));
    if (found === null) return result(measured.length - 1, reason ?? 'action_not_seen', measured);
    if (action === 'blink') {
      const reopened = frames.slice(found + 1, found + 1 + s.blinkMaxFrames).some((f) => eyes(f) >= s.eyesOpenAbove);
      if (!reopened) return result(measured.length - 1, 'blink_not_reopened', measured);
    } else {
      const why = sweeps(frames, at, found, base, action === 'turn_right' ? 1 : -1, s);
      if (why) return result(measured.length - 1, why, measured);
    }
    at = found;
  }
  // After the last action: no turn that was not asked for.
  const last = actions.at(-1);
  for (let i = at + 1; i < frames.length; i++) {
    const turn = turnOf(frames[i], base, s);
    if (turn && turn !== last) return result(actions.length, 'unrequested_action', measured);
  }
  return result(actions.length, undefined, measured);
}

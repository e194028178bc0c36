// The checks a capture's frames go through, each a small pure function over the frames' analyses
// returning { name, outcome, code, score, threshold }. Composed in order by decide().
// Imports the biometrics matcher and types only (no I/O).
import type { Config } from '../../config/schema.ts';
import type { ImageAnalysis } from '../biometrics/engine.ts';
import { cosineSimilarity } from '../biometrics/matcher.ts';
import type { ErrorCode } from '../shared/errors.ts';
import { levelOf } from '../oidc/acr.ts';
import type { CaptureFlow } from './flow.ts';
import { adaptiveThreshold, bestFrame, poseDeviation } from './threshold.ts';

export type CheckOutcome = 'pass' | 'retry' | 'fail';
export interface CheckResult {
  name: 'quality' | 'fresh' | 'scene' | 'motion' | 'same_person' | 'liveness' | 'challenge' | 'match';
  outcome: CheckOutcome;
  code?: ErrorCode;
  /** The precise reason behind the code, for the audit trail only (never shown). */
  reason?: string;
  /** What the check measured, for the audit trail (numbers only, never images or names). */
  measured?: Record<string, unknown>;
  /** Every quality code seen, most frequent first (quality check only). */
  codes?: ErrorCode[];
  score?: number;
  threshold?: number;
}

export type Frames = Array<ImageAnalysis & { face: NonNullable<ImageAnalysis['face']> }>;
export type CheckContext = {
  flow: CaptureFlow; template?: Float32Array; config: Readonly<Config>;
  /** The client's capture times (ms), one per frame, when sent: a consistency signal only (risk), never a pass. */
  timestamps?: number[];
  /** The server's arrival time (ms) of each frame, when the frames were streamed: what the challenge's windows use. */
  arrivals?: number[];
  /** The server's time (ms) it sent each action's prompt, in a streamed capture: an action counts only after its prompt. */
  prompts?: number[];
  /** sha256 (hex) of each frame's bytes as received, in frame order. */
  digests?: string[];
  /** A reference other than the registry's (a document portrait): its own calibrated threshold, not moved by pose. */
  matchThreshold?: number;
};

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Mean of the frames' unit embeddings, renormalised: one probe from several frames. */
export function fuseEmbeddings(frames: Frames): Float32Array {
  const out = new Float32Array(frames[0].face.embedding!.length);
  for (const f of frames) f.face.embedding!.forEach((v, i) => { out[i] += v; });
  const norm = Math.hypot(...out) || 1;
  return out.map((v) => v / norm);
}

/** Every frame must pass the capture-grade quality gate (ISO/IEC 29794-5 style measures). */
export function checkQuality(analyses: ImageAnalysis[]): CheckResult {
  const counts = new Map<ErrorCode, number>();
  for (const a of analyses) for (const c of a.quality.codes) counts.set(c, (counts.get(c) ?? 0) + 1);
  if (counts.size === 0) return { name: 'quality', outcome: 'pass' };
  const codes = [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([c]) => c);
  return { name: 'quality', outcome: 'retry', code: codes[0], codes };
}

/**
 * All frames show one person: each frame against the fused probe of the *other* frames (a frame
 * must not vouch for itself). This binds the challenge's turned and blinking frames to the face
 * that is matched, so a photo of the citizen cannot lend its face to an attacker's movements.
 */
export function checkSamePerson(frames: Frames, { config }: CheckContext): CheckResult {
  if (frames.length < 2) return { name: 'same_person', outcome: 'pass' };
  const threshold = config.capture.samePersonThreshold;
  const scores = frames.map((f, i) => cosineSimilarity(f.face.embedding!, fuseEmbeddings(frames.filter((_, j) => j !== i))));
  const score = Math.min(...scores);
  const measured = { scores: scores.map((x) => Math.round(x * 1000) / 1000) };
  if (score >= threshold) return { name: 'same_person', outcome: 'pass', score, threshold, measured };
  return { name: 'same_person', outcome: 'fail', code: 'no_match', score, threshold, measured };
}

/**
 * Passive liveness over the frames: the median score must reach the threshold and enough frames
 * must pass on their own (one lucky frame does not make a replay live; ISO/IEC 30107-3 §12). In a
 * challenge, also at least `minLiveFrames` frames.
 */
export function checkLiveness(frames: Frames, { config, flow }: CheckContext): CheckResult {
  const threshold = config.biometrics.liveness.threshold;
  const scores = frames.map((f) => f.face.liveness ?? 0);
  const score = median(scores);
  const live = scores.filter((s) => s >= threshold).length;
  const minLive = flow.actions.length ? Math.min(config.capture.challenge.minLiveFrames, frames.length) : 1;
  const ok = score >= threshold && live / scores.length >= config.capture.minLiveFraction && live >= minLive;
  return {
    name: 'liveness', outcome: ok ? 'pass' : 'fail', code: ok ? undefined : 'not_live', score, threshold,
    measured: { frames: scores.length, live, scores: scores.map((x) => Math.round(x * 1000) / 1000) },
  };
}

/**
 * 1:1 match of the best-quality frame (the most frontal) against the citizen's template, at the
 * level's threshold moved by that frame's pose (threshold.ts). One frame, as the thresholds were
 * calibrated on single-image pairs.
 */
export function checkMatch(frames: Frames, { flow, template, config, matchThreshold }: CheckContext): CheckResult {
  const base = matchThreshold ?? config.biometrics.match[levelOf(flow.acr)];
  const probe = bestFrame(frames);
  const threshold = matchThreshold ?? adaptiveThreshold(base, probe, config.biometrics.match.adaptive);
  const measured = { baseThreshold: base, poseDeg: Math.round(poseDeviation(probe) * 10) / 10, frame: frames.indexOf(probe) };
  if (!template) return { name: 'match', outcome: 'fail', code: 'no_match', threshold, measured };
  const score = cosineSimilarity(probe.face.embedding!, template);
  return { name: 'match', outcome: score >= threshold ? 'pass' : 'fail', code: score >= threshold ? undefined : 'no_match', score, threshold, measured };
}

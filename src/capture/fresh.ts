// Fresh, distinct frames for the active challenge: a still picture played as a camera, or a loop,
// repeats frames. A live face never holds its landmarks to a pixel across seconds, while the same
// image re-encoded or rescaled moves them by at most 0.0054 inter-eye distances, while consecutive
// frames of the shared selfie video, 66 ms apart, move at least 0.023 (docs/calibration.md). Pure.
import { cosineSimilarity } from '../biometrics/matcher.ts';
import { interEye } from './challenge.ts';
import type { CheckContext, CheckResult, Frames } from './checks.ts';

type Frame = Frames[number];

/** Embedding similarity above which two frames may be one image re-encoded (re-encodes seen: 0.978-0.999). */
const sameImageSimilarity = 0.97;

/** Mean displacement of the 68 landmarks between two frames, in inter-eye distances of the first. */
export function landmarkMotion(a: Frame, b: Frame): number {
  const sum = a.face.landmarks.reduce((s, p, i) => s + Math.hypot(p.x - b.face.landmarks[i].x, p.y - b.face.landmarks[i].y), 0);
  return sum / a.face.landmarks.length / interEye(a);
}

/**
 * Fails when two frames are the same bytes, or the same picture (landmarks within `repeatMotion`
 * and embeddings alike), or when the face never moves `minMotion` across the submission.
 */
export function checkFresh(frames: Frames, { config, digests }: CheckContext): CheckResult {
  const { minMotion, repeatMotion } = config.capture.challenge;
  const fail = (reason: string, score?: number): CheckResult => ({ name: 'fresh', outcome: 'fail', code: 'not_live', reason, score, threshold: minMotion });
  if (digests && new Set(digests).size < digests.length) return fail('duplicate_frames');
  let most = 0;
  for (let i = 0; i < frames.length; i++) {
    for (let j = i + 1; j < frames.length; j++) {
      const motion = landmarkMotion(frames[i], frames[j]);
      most = Math.max(most, motion);
      if (motion < repeatMotion && cosineSimilarity(frames[i].face.embedding!, frames[j].face.embedding!) > sameImageSimilarity) return fail('repeated_frames', motion);
    }
  }
  return most < minMotion ? fail('static_input', most) : { name: 'fresh', outcome: 'pass', score: most, threshold: minMotion };
}

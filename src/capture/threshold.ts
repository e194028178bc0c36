// The adaptive match threshold: the level's calibrated threshold moved by the probe frame's pose,
// inside bounds read off the impostor pairs of the shared data (docs/calibration.md). Pure.
import type { Config } from '../../config/schema.ts';
import type { Frames } from './checks.ts';

type Frame = Frames[number];
export type AdaptiveSettings = Config['biometrics']['match']['adaptive'];

/** How far the head is from facing the camera: |yaw| + |pitch| in degrees. */
export const poseDeviation = (f: Frame): number => Math.abs(f.face.pose.yaw) + Math.abs(f.face.pose.pitch);

/**
 * The threshold for one probe frame: `base - relief` up to `frontalDeg`, rising linearly to
 * `base + raise` at `offPoseDeg` and beyond. Impostor scores spread wider off pose (normal-tail
 * FMR 1e-4 estimate 0.29 for pairs within 20 degrees, 0.45 beyond), so a frontal probe may pass a
 * little lower and a turned one must score higher.
 */
export function adaptiveThreshold(base: number, f: Frame, s: AdaptiveSettings): number {
  if (!s.enabled) return base;
  const span = Math.max(s.offPoseDeg - s.frontalDeg, 1e-9);
  const t = Math.min(1, Math.max(0, (poseDeviation(f) - s.frontalDeg) / span));
  return Math.round((base - s.relief + t * (s.relief + s.raise)) * 1e4) / 1e4;
}

/** The probe: the frame facing the camera most squarely (the registry photo is frontal). */
export function bestFrame(frames: Frames): Frame {
  return frames.reduce((best, f) => (poseDeviation(f) < poseDeviation(best) ? f : best));
}

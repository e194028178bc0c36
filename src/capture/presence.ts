// Presence over the frames of one capture, at every level: the frames must show one continuous
// scene (the background around the face barely changes from one frame to the next) and a face
// that does not move like a flat picture (a homography fitted to the 68 landmarks between two
// frames leaves a residual above the landmark model's own noise). Each check is pure and returns
// its measures for the audit trail; thresholds and the data behind them: docs/calibration.md.
import { SCENE_GRID } from '../biometrics/signatures.ts';
import { interEye } from './challenge.ts';
import type { CheckContext, CheckResult, Frames } from './checks.ts';
import { planarResidual } from './planar.ts';

type Frame = Frames[number];
const round = (x: number, k = 10_000) => Math.round(x * k) / k;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * How far the frames are from one flat picture: for every pair of frames, the RMS residual of the
 * best homography between their landmarks, in inter-eye distances; the median over the pairs
 * (one landmark glitch does not make a photo 3-D).
 */
export function nonPlanarMotion(frames: Frames): { median: number; max: number; pairs: number } {
  const residuals: number[] = [];
  for (let i = 0; i < frames.length; i++) {
    for (let j = i + 1; j < frames.length; j++) {
      residuals.push(planarResidual(frames[i].face.landmarks, frames[j].face.landmarks) / interEye(frames[i]));
    }
  }
  return { median: residuals.length ? median(residuals) : 0, max: residuals.length ? Math.max(...residuals) : 0, pairs: residuals.length };
}

/** Grid cells (of SCENE_GRID x SCENE_GRID) well away from the face: its box grown by `grow` on each side. */
function backgroundCells(f: Frame, grow: number): Set<number> {
  const G = SCENE_GRID, { width: W, height: H } = f.image, b = f.face.box;
  const w = b.x2 - b.x1, h = b.y2 - b.y1;
  const x1 = b.x1 - grow * w, x2 = b.x2 + grow * w, y1 = b.y1 - grow * h, y2 = b.y2 + grow * h;
  const cells = new Set<number>();
  for (let gy = 0; gy < G; gy++) {
    for (let gx = 0; gx < G; gx++) {
      const cx1 = (gx * W) / G, cx2 = ((gx + 1) * W) / G, cy1 = (gy * H) / G, cy2 = ((gy + 1) * H) / G;
      if (cx2 <= x1 || cx1 >= x2 || cy2 <= y1 || cy1 >= y2) cells.add(gy * G + gx);
    }
  }
  return cells;
}

/**
 * The change of the background between two frames, in gray levels: the mean over the cells that
 * are background in both and the colour channels of |a - b| after matching each channel's mean
 * (an auto-exposure step is not a new scene), each cell compared with the best of its 3 x 3
 * neighbourhood in the other frame (a hand-held camera shakes). NaN when under `minCells` cells
 * are background in both.
 */
export function sceneChange(a: Frame, b: Frame, grow: number, minCells: number): { change: number; cells: number } {
  const G = SCENE_GRID, ga = a.face.scene!.grid, gb = b.face.scene!.grid;
  const inA = backgroundCells(a, grow), inB = backgroundCells(b, grow);
  const cells = [...inA].filter((k) => inB.has(k));
  if (cells.length < minCells) return { change: NaN, cells: cells.length };
  const means = (g: number[]) => [0, 1, 2].map((c) => cells.reduce((s, k) => s + g[3 * k + c], 0) / cells.length);
  const ma = means(ga), mb = means(gb);
  let sum = 0;
  for (const k of cells) {
    const gx = k % G, gy = (k / G) | 0;
    let best = Infinity;
    for (let dy = -1; dy <= 1; dy++) {
      for (let dx = -1; dx <= 1; dx++) {
        const x = gx + dx, y = gy + dy;
        if (x < 0 || y < 0 || x >= G || y >= G) continue;
        const j = y * G + x;
        let d = 0;
        for (let c = 0; c < 3; c++) d += Math.abs(ga[3 * k + c] - ma[c] - (gb[3 * j + c] - mb[c]));
        best = Math.min(best, d / 3);
      }
    }
    sum += best;
  }
  return { change: sum / cells.length, cells: cells.length };
}

/**
 * One continuous scene: every two consecutive frames' backgrounds within `maxSceneChange`.
 * Frames cut from different photos, or from different moments of a recording, are refused. A
 * face so close that too little background shows is a quality retry (face_too_close).
 */
export function checkScene(frames: Frames, { config }: CheckContext): CheckResult {
  const { maxSceneChange, backgroundMargin, minBackgroundCells } = config.capture.presence;
  const changes: number[] = [];
  for (let i = 1; i < frames.length; i++) {
    const { change, cells } = sceneChange(frames[i - 1], frames[i], backgroundMargin, minBackgroundCells);
    if (Number.isNaN(change)) {
      return {
        name: 'scene', outcome: 'retry', code: 'face_too_close', reason: 'too_little_background',
        measured: { pair: i, cells }, codes: ['face_too_close'],
      };
    }
    changes.push(change);
  }
  const score = changes.length ? Math.max(...changes) : 0;
  const measured = { changes: changes.map((c) => round(c, 100)) };
  return score <= maxSceneChange
    ? { name: 'scene', outcome: 'pass', score, threshold: maxSceneChange, measured }
    : { name: 'scene', outcome: 'fail', code: 'not_live', reason: 'scene_changed', score, threshold: maxSceneChange, measured };
}

/**
 * Natural motion: the landmarks across the capture must leave the planar fit by more than
 * `minNonPlanar` (median over frame pairs, inter-eye distances). A photo shifted, turned, tilted
 * or warped, in front of the camera or digitally, stays below it.
 */
export function checkMotion(frames: Frames, { config }: CheckContext): CheckResult {
  const { minNonPlanar } = config.capture.presence;
  const m = nonPlanarMotion(frames);
  const measured = { median: round(m.median), max: round(m.max), pairs: m.pairs };
  return m.median >= minNonPlanar
    ? { name: 'motion', outcome: 'pass', score: m.median, threshold: minNonPlanar, measured }
    : { name: 'motion', outcome: 'fail', code: 'not_live', reason: 'planar_motion', score: m.median, threshold: minNonPlanar, measured };
}

/** Frames of one capture come from one camera: all the same size (else frames_inconsistent, bad input). */
export const sameSize = (frames: readonly { image: { width: number; height: number } }[]): boolean =>
  frames.every((f) => f.image.width === frames[0].image.width && f.image.height === frames[0].image.height);

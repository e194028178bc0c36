// 68-point landmarks (iBUG 300-W order) from a gray crop of the detector box, and the points
// derived from them: the five alignment points, eye centres and eye boxes.
import type ort from 'onnxruntime-node';
import type { Box, Point } from './geometry.ts';
import { runModel } from './models.ts';
import { crop, scale, toGray, type RgbImage } from './pixels.ts';

const SIZE = 64;

/** Landmarks from the box itself; where it extends past the picture, the crop is padded with gray as the detector saw it. */
export async function detectLandmarks(session: ort.InferenceSession, img: RgbImage, box: Box): Promise<Point[]> {
  const input = scale(toGray(crop(img, box, SIZE, SIZE, 127)), 1 / 256);
  const { output } = await runModel(session, input, [1, 1, SIZE, SIZE]);
  const w = box.x2 - box.x1, h = box.y2 - box.y1;
  const points: Point[] = [];
  for (let k = 0; k < 68; k++) points.push({ x: box.x1 + output[2 * k] * w, y: box.y1 + output[2 * k + 1] * h });
  return points;
}

const mean = (pts: readonly Point[], idx: readonly number[]): Point => ({
  x: idx.reduce((s, i) => s + pts[i].x, 0) / idx.length,
  y: idx.reduce((s, i) => s + pts[i].y, 0) / idx.length,
});

/** Eye centres in the picture: [the subject's right eye (image left), the subject's left eye]. */
export function eyeCentres(pts: readonly Point[]): [Point, Point] {
  return [mean(pts, [36, 37, 39, 40]), mean(pts, [42, 43, 45, 46])];
}

/** The five points of the ArcFace alignment: eyes, nose tip, mouth corners. */
export function fivePoints(pts: readonly Point[]): Point[] {
  const [re, le] = eyeCentres(pts);
  return [re, le, pts[30], mean(pts, [48, 60]), mean(pts, [54, 64])];
}

/** Square boxes around each eye, 1.6 x the eye's corner-to-corner width. */
export function eyeBoxes(pts: readonly Point[]): [Box, Box] {
  const around = (corner1: number, corner2: number, lids: number[]): Box => {
    const c = mean(pts, lids);
    const half = (Math.hypot(pts[corner2].x - pts[corner1].x, pts[corner2].y - pts[corner1].y) * 1.6) / 2;
    return { x1: c.x - half, y1: c.y - half, x2: c.x + half, y2: c.y + half };
  };
  return [around(36, 39, [37, 38, 40, 41]), around(42, 45, [43, 44, 46, 47])];
}

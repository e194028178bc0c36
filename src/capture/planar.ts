// Planar motion models fitted to landmark correspondences: how far two frames' 68 landmarks are
// from being one flat picture seen twice. A photo moved, tilted or warped in front of a camera (or
// digitally) maps its landmarks by one homography, up to the landmark model's noise; a live head
// is 3-D and non-rigid, so its landmarks leave a residual. Pure numerics, no model code.
import type { Point } from '../biometrics/geometry.ts';

/** Solves the n x n system M x = v in place (Gaussian elimination with partial pivoting); null when singular. */
function solve(M: number[][], v: number[]): number[] | null {
  const n = v.length;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[p][c])) p = r;
    if (Math.abs(M[p][c]) < 1e-12) return null;
    [M[c], M[p]] = [M[p], M[c]];
    [v[c], v[p]] = [v[p], v[c]];
    for (let r = c + 1; r < n; r++) {
      const k = M[r][c] / M[c][c];
      if (k === 0) continue;
      for (let j = c; j < n; j++) M[r][j] -= k * M[c][j];
      v[r] -= k * v[c];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = v[r];
    for (let j = r + 1; j < n; j++) s -= M[r][j] * x[j];
    x[r] = s / M[r][r];
  }
  return x;
}

/** Centre and scale the points (Hartley normalisation): mean 0, mean distance sqrt(2). */
function normaliser(pts: readonly Point[]): { norm: (p: Point) => Point; scale: number } {
  const cx = pts.reduce((s, p) => s + p.x, 0) / pts.length;
  const cy = pts.reduce((s, p) => s + p.y, 0) / pts.length;
  const d = pts.reduce((s, p) => s + Math.hypot(p.x - cx, p.y - cy), 0) / pts.length || 1;
  const k = Math.SQRT2 / d;
  return { norm: (p) => ({ x: (p.x - cx) * k, y: (p.y - cy) * k }), scale: k };
}

export type PlanarModel = 'affine' | 'homography';

/**
 * Root-mean-square distance (in the units of `dst`) between `dst` and `src` mapped by the best
 * `model` fitted by least squares. The homography is the linear fit with h33 = 1 on normalised
 * coordinates (near-identity motions between frames keep it well conditioned).
 */
export function planarResidual(src: readonly Point[], dst: readonly Point[], model: PlanarModel = 'homography'): number {
  if (src.length !== dst.length || src.length < 5) throw new RangeError('need at least five point pairs');
  const a = normaliser(src), b = normaliser(dst);
  const s = src.map(a.norm), d = dst.map(b.norm);
  const n = model === 'affine' ? 6 : 8;
  const M = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  const v = new Array<number>(n).fill(0);
  const add = (row: number[], rhs: number) => {
    for (let i = 0; i < n; i++) {
      if (row[i] === 0) continue;
      v[i] += row[i] * rhs;
      for (let j = 0; j < n; j++) M[i][j] += row[i] * row[j];
    }
  };
  for (let i = 0; i < s.length; i++) {
    const { x, y } = s[i], { x: u, y: w } = d[i];
    if (model === 'affine') {
      add([x, y, 1, 0, 0, 0], u);
      add([0, 0, 0, x, y, 1], w);
    } else {
      add([x, y, 1, 0, 0, 0, -u * x, -u * y], u);
      add([0, 0, 0, x, y, 1, -w * x, -w * y], w);
    }
  }
  const h = solve(M, v);
  if (!h) return Infinity;
  let sq = 0;
  for (let i = 0; i < s.length; i++) {
    const { x, y } = s[i];
    const z = model === 'affine' ? 1 : h[6] * x + h[7] * y + 1;
    const px = (h[0] * x + h[1] * y + h[2]) / z;
    const py = (h[3] * x + h[4] * y + h[5]) / z;
    sq += (px - d[i].x) ** 2 + (py - d[i].y) ** 2;
  }
  return Math.sqrt(sq / s.length) / b.scale;
}

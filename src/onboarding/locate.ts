// Finding the machine-readable zone (ICAO 9303: two or three lines of OCR-B along the bottom of the
// data page) in a photo or scan of a document, at any skew.
//
// 1. The picture is brought to a working size and its dark print picked out by a black-hat
//    transform (dark details smaller than a few strokes on a lighter ground), thresholded (Otsu).
// 2. The skew of the print is the angle whose horizontal projection profile is sharpest (text
//    lines give tall narrow peaks); searched over +-45 degrees, then refined.
// 3. On the deskewed print, characters are joined into text lines by a horizontal closing; a
//    line is long and thin. Lines stuck together are split at the valleys of their row profile.
// 4. The MRZ is a stack of 2 or 3 lines of the same length, left-aligned, evenly spaced, the
//    same height: every such stack is a candidate, the lowest and longest first. Each line comes
//    back as an oriented rectangle in the picture's coordinates (its own slope refined), ready to
//    be cut out at the size the OCR wants.
// Nothing here knows the OCR: the reader tries the candidates in turn until one reads with valid
// check digits.
import type { Affine } from '../biometrics/geometry.ts';
import { blackhat, components, dilate, erode, otsu, resizeFrom, warp, type Gray } from './gray.ts';

/** A text line as an oriented rectangle in source pixels: centre, direction (radians), size. */
export interface LineBox { cx: number; cy: number; angle: number; length: number; height: number }

export interface MrzCandidate {
  lines: LineBox[];
  /** Skew of the print in degrees (positive: the lines descend to the right). */
  skewDeg: number;
  score: number;
}

/** The long side of the picture while looking for the zone. */
const WORK_SIDE = 960;

interface Line { x1: number; x2: number; y1: number; y2: number; cy: number; slope: number }

/** Dark print on a lighter ground, as a 0/1 mask. */
function printMask(img: Gray, kw: number, kh: number): Uint8Array {
  const bh = blackhat(img, kw, kh);
  let max = 0;
  for (const v of bh.data) if (v > max) max = v;
  const t = Math.max(otsu(bh.data, max), 18);
  const mask = new Uint8Array(bh.data.length);
  for (let i = 0; i < mask.length; i++) mask[i] = bh.data[i] > t ? 1 : 0;
  return mask;
}

/** Sharpness (sum of squared bin counts) of the row profile of the mask's pixels rotated by -angle. */
function profileSharpness(xs: Float32Array, ys: Float32Array, angle: number, bins: Float64Array, offset: number): number {
  const s = Math.sin(angle), c = Math.cos(angle);
  bins.fill(0);
  for (let i = 0; i < xs.length; i++) {
    const b = Math.round(-xs[i] * s + ys[i] * c + offset);
    if (b >= 0 && b < bins.length) bins[b]++;
  }
  let sum = 0;
  for (const v of bins) sum += v * v;
  return sum;
}

/** The skew angle (radians) of the print: the one whose row profile is sharpest. */
export function estimateSkew(mask: Uint8Array, W: number, H: number, maxDeg = 45): number {
  const xs: number[] = [], ys: number[] = [];
  // A sample of the print's pixels is enough for the profile (and bounds the work).
  let count = 0;
  for (const v of mask) count += v;
  const stride = Math.max(1, Math.floor(count / 60_000));
  let seen = 0;
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i]) continue;
    if (seen++ % stride) continue;
    xs.push((i % W) - W / 2); ys.push(Math.floor(i / W) - H / 2);
  }
  if (xs.length < 50) return 0;
  const fx = Float32Array.from(xs), fy = Float32Array.from(ys);
  const diag = Math.ceil(Math.hypot(W, H));
  const bins = new Float64Array(diag + 2);
  const score = (deg: number) => profileSharpness(fx, fy, (deg * Math.PI) / 180, bins, diag / 2 + 1);
  let best = 0, bestScore = -1;
  for (let deg = -maxDeg; deg <= maxDeg; deg += 1) {
    const s = score(deg);
    if (s > bestScore) { bestScore = s; best = deg; }
  }
  for (let step = 0.5; step >= 0.05; step /= 2) {
    const centre = best;
    for (const deg of [centre - step, centre + step]) {
      const s = score(deg);
      if (s > bestScore) { bestScore = s; best = deg; }
    }
  }
  return (best * Math.PI) / 180;
}

/** The affine map that rotates `img` by -angle about its centre onto a canvas that holds all of it. */
function deskewMap(W: number, H: number, angle: number) {
  const c = Math.cos(angle), s = Math.sin(angle);
  const outW = Math.ceil(Math.abs(W * c) + Math.abs(H * s));
  const outH = Math.ceil(Math.abs(W * s) + Math.abs(H * c));
  // output (u,v) -> source: rotate by +angle about the centres.
  const ux = outW / 2, vy = outH / 2, sx = W / 2, sy = H / 2;
  const map: Affine = [c, -s, sx - c * ux + s * vy, s, c, sy - s * ux - c * vy];
  return { outW, outH, map };
}

/** Splits a line component at the valleys of its row profile (two lines touching). */
function splitRows(mask: Uint8Array, W: number, x1: number, x2: number, y1: number, y2: number): Array<[number, number]> {
  const rows = y2 - y1;
  const prof = new Float64Array(rows);
  for (let y = y1; y < y2; y++) {
    let n = 0;
    for (let x = x1; x < x2; x++) n += mask[y * W + x];
    prof[y - y1] = n / (x2 - x1);
  }
  const peak = Math.max(...prof);
  const low = peak * 0.12;
  const bands: Array<[number, number]> = [];
  let start = -1;
  for (let r = 0; r <= rows; r++) {
    const on = r < rows && prof[r] > low;
    if (on && start < 0) start = r;
    if (!on && start >= 0) { bands.push([y1 + start, y1 + r]); start = -1; }
  }
  return bands.length ? bands : [[y1, y2]];
}

/** Long thin text lines of the (deskewed) mask. */
export function findLines(mask: Uint8Array, W: number, H: number, side: number): Line[] {
  const closeW = Math.max(7, Math.round(side * 0.02));
  const g: Gray = { data: Float32Array.from(mask), width: W, height: H };
  const joined = erode(dilate(g, closeW, 1), closeW, 1);
  const jm = new Uint8Array(W * H);
  for (let i = 0; i < jm.length; i++) jm[i] = joined.data[i] > 0.5 ? 1 : 0;
  const minLength = side * 0.16;
  const pieces: Line[] = [];
  for (const comp of components(jm, W, H, 20)) {
    const w = comp.x2 - comp.x1;
    if (w < minLength) continue;
    for (const [y1, y2] of splitRows(jm, W, comp.x1, comp.x2, comp.y1, comp.y2)) {
      const h = y2 - y1;
      if (h < 3) continue;
      // The band's own extent, slope (least squares of y on x) and centre, from its print pixels.
      let x1 = W, x2 = -1, n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0, syy = 0;
      for (let y = y1; y < y2; y++) {
        for (let x = comp.x1; x < comp.x2; x++) {
          if (!mask[y * W + x]) continue;
          n++; sx += x; sy += y; sxx += x * x; sxy += x * y; syy += y * y;
          if (x < x1) x1 = x; if (x > x2) x2 = x;
        }
      }
      if (n < 20) continue;
      const mx = sx / n, my = sy / n;
      const vx = sxx / n - mx * mx, vy = syy / n - my * my, cxy = sxy / n - mx * my;
      let slope = vx > 0 ? cxy / vx : 0;
      if (Math.abs(slope) > 0.05) slope = 0;
      // The print's height across the fitted line: the spread of the residuals, as if uniform.
      const height = Math.min(h, Math.sqrt(12 * Math.max(0, vy - slope * cxy)) * 1.05);
      const cy = my + slope * ((x1 + x2 + 1) / 2 - mx);
      pieces.push({ x1, x2: x2 + 1, y1: cy - height / 2, y2: cy + height / 2, cy, slope });
    }
  }
  return dropDuplicates(joinPieces(pieces).filter((l) => l.x2 - l.x1 >= minLength && (l.x2 - l.x1) / (l.y2 - l.y1) >= 7)).sort((a, b) => a.cy - b.cy);
}

/**
 * One line found twice (a skewed line's band split by the row profile into overlapping bands
 * of the same characters): of lines that overlap over most of their length and lie closer than
 * half a character height, the taller one stays.
 */
function dropDuplicates(lines: Line[]): Line[] {
  const byHeight = [...lines].sort((a, b) => (b.y2 - b.y1) - (a.y2 - a.y1));
  const kept: Line[] = [];
  for (const l of byHeight) {
    const h = l.y2 - l.y1;
    const dup = kept.some((k) => {
      const overlap = Math.min(k.x2, l.x2) - Math.max(k.x1, l.x1);
      return overlap > 0.5 * Math.min(k.x2 - k.x1, l.x2 - l.x1) && Math.abs(k.cy - l.cy) < 0.5 * Math.max(h, k.y2 - k.y1);
    });
    if (!dup) kept.push(l);
  }
  return kept;
}

/**
 * Joins pieces of one line that a wider gap (faint fillers, a fold, glare) cut apart: pieces on
 * the same row, less than three character heights apart.
 */
function joinPieces(pieces: Line[]): Line[] {
  const todo = pieces.filter((p) => p.x2 - p.x1 >= 2 * (p.y2 - p.y1)).sort((a, b) => a.x1 - b.x1);
  const out: Line[] = [];
  for (const p of todo) {
    const h = p.y2 - p.y1;
    const prev = out.find((q) => {
      const overlap = Math.min(q.y2, p.y2) - Math.max(q.y1, p.y1);
      return overlap > 0.6 * Math.min(h, q.y2 - q.y1) && p.x1 - q.x2 < 3 * Math.max(h, q.y2 - q.y1) && p.x1 >= q.x2 - h
        && Math.max(h, q.y2 - q.y1) / Math.min(h, q.y2 - q.y1) < 1.6;
    });
    if (!prev) { out.push({ ...p }); continue; }
    const lp = p.x2 - p.x1, lq = prev.x2 - prev.x1;
    const cy = (prev.cy * lq + p.cy * lp) / (lp + lq);
    const height = (prev.y2 - prev.y1) * lq / (lp + lq) + h * lp / (lp + lq);
    prev.slope = (prev.slope * lq + p.slope * lp) / (lp + lq);
    prev.x2 = Math.max(prev.x2, p.x2);
    prev.cy = cy; prev.y1 = cy - height / 2; prev.y2 = cy + height / 2;
  }
  return out;
}

/** How well lines a and b (b below a) look like consecutive MRZ lines, 0 when not at all. */
function pairFit(a: Line, b: Line): number {
  const la = a.x2 - a.x1, lb = b.x2 - b.x1;
  const ha = a.y2 - a.y1, hb = b.y2 - b.y1;
  const h = (ha + hb) / 2;
  const gap = b.cy - a.cy;
  const len = Math.max(la, lb);
  if (Math.min(la, lb) / len < 0.8) return 0; // same length (fillers run to the end of every line)
  if (Math.abs(a.x1 - b.x1) > 0.08 * len) return 0; // left-aligned
  if (Math.max(ha, hb) / Math.min(ha, hb) > 1.8) return 0; // same character height
  if (gap < 1.05 * h || gap > 3.2 * h) return 0; // the next line, not one further down
  return (Math.min(la, lb) / len) * (1 - Math.abs(a.x1 - b.x1) / len);
}

/**
 * The candidate zones of a picture, best first. `levels` is the picture's pyramid (level 0 the
 * picture itself); rectangles come back in its pixel coordinates.
 */
export function locateMrz(levels: readonly Gray[], options: { maxCandidates?: number } = {}): MrzCandidate[] {
  const src = levels[0];
  const k = WORK_SIDE / Math.max(src.width, src.height);
  const W = Math.max(1, Math.round(src.width * k)), H = Math.max(1, Math.round(src.height * k));
  const work = resizeFrom(levels, W, H);
  const kw = Math.round(WORK_SIDE * 0.022), kh = Math.round(WORK_SIDE * 0.012);
  const skew = estimateSkew(printMask(work, kw, kh), W, H);
  const { outW, outH, map } = deskewMap(W, H, skew);
  const straight = Math.abs(skew) < 1e-3 ? work : warp(work, outW, outH, map, 255);
  const mask = printMask(straight, kw, kh);
  const lines = findLines(mask, straight.width, straight.height, WORK_SIDE);

  // Each line's next line down (the nearest below it that overlaps it), when the two fit as
  // consecutive MRZ lines; chains of such lines, cut into windows of at most three.
  const next = lines.map((a, i) => {
    const b = lines.find((l, j) => j > i && l.cy > a.cy && l.x1 < a.x2 && l.x2 > a.x1);
    return b && pairFit(a, b) > 0 ? b : undefined;
  });
  const hasPrev = new Set(next.filter(Boolean));
  const out: MrzCandidate[] = [];
  lines.forEach((first) => {
    if (hasPrev.has(first)) return;
    const chain = [first];
    for (let l = next[lines.indexOf(first)]; l; l = next[lines.indexOf(l)]) chain.push(l);
    if (chain.length < 2) return;
    for (let i = 0; i === 0 || i + 3 <= chain.length; i++) {
      const group = chain.slice(i, i + 3);
      let fit = 1;
      for (let j = 0; j + 1 < group.length; j++) fit *= pairFit(group[j], group[j + 1]);
      const length = Math.max(...group.map((l) => l.x2 - l.x1));
      const bottom = group.at(-1)!.y2 / straight.height;
      out.push({ lines: group.map((l) => toSource(l, map, k, skew)), skewDeg: (skew * 180) / Math.PI, score: fit * (length / straight.width) * (0.5 + bottom) });
    }
  });
  return out.sort((a, b) => b.score - a.score).slice(0, options.maxCandidates ?? 6);
}

/**
 * The same zone with its skew measured again on the zone alone (within +-4 degrees): the
 * picture's skew is the print's as a whole, and a document photographed at an angle, bent or
 * in perspective has lines at another. The lines turn about the zone's centre.
 */
export function refineSkew(levels: readonly Gray[], cand: MrzCandidate): MrzCandidate {
  const h = cand.lines.reduce((s, l) => s + l.height, 0) / cand.lines.length;
  const angle = cand.lines.reduce((s, l) => s + l.angle, 0) / cand.lines.length;
  const cx = cand.lines.reduce((s, l) => s + l.cx, 0) / cand.lines.length;
  const cy = cand.lines.reduce((s, l) => s + l.cy, 0) / cand.lines.length;
  const c = Math.cos(angle), s = Math.sin(angle);
  // Offsets of the lines' centres across the zone's direction give its height.
  const across = cand.lines.map((l) => -(l.cx - cx) * s + (l.cy - cy) * c);
  const length = Math.max(...cand.lines.map((l) => l.length));
  const zone: LineBox = { cx, cy, angle, length, height: Math.max(...across) - Math.min(...across) + h };
  const textHeight = 24;
  const crop = cutLine(levels, zone, (textHeight * zone.height) / h, 0.3, 0.5);
  const mask = printMask(crop, Math.round(textHeight * 1.1), Math.round(textHeight * 0.5));
  const residual = estimateSkew(mask, crop.width, crop.height, 4);
  if (Math.abs(residual) < 1e-3) return cand;
  const rc = Math.cos(residual), rs = Math.sin(residual);
  return {
    ...cand,
    skewDeg: cand.skewDeg + (residual * 180) / Math.PI,
    lines: cand.lines.map((l) => {
      const dx = l.cx - cx, dy = l.cy - cy;
      return { ...l, cx: cx + rc * dx - rs * dy, cy: cy + rs * dx + rc * dy, angle: l.angle + residual };
    }),
  };
}

/** A line of the deskewed working image as an oriented rectangle of the source picture. */
function toSource(l: Line, map: Affine, k: number, skew: number): LineBox {
  const u = (l.x1 + l.x2) / 2, v = l.cy;
  const x = map[0] * u + map[1] * v + map[2], y = map[3] * u + map[4] * v + map[5];
  return {
    cx: (x + 0.5) / k - 0.5,
    cy: (y + 0.5) / k - 0.5,
    angle: skew + Math.atan(l.slope),
    length: (l.x2 - l.x1) / k,
    height: (l.y2 - l.y1) / k,
  };
}

/**
 * Cuts a line out of the picture, straightened, scaled so the line's print is `textHeight` pixels
 * high, with a margin of `pad` line heights above and below it and `padX` at its ends.
 */
export function cutLine(levels: readonly Gray[], line: LineBox, textHeight: number, pad = 0.45, padX = 1): Gray {
  const scale = textHeight / line.height; // output pixels per source pixel
  let level = 0;
  while (level + 1 < levels.length && scale * 2 ** (level + 1) <= 1.2) level++;
  const src = levels[level];
  const f = 2 ** -level; // level pixels per source pixel
  const outH = Math.round(textHeight * (1 + 2 * pad));
  const outW = Math.round((line.length + 2 * padX * line.height) * scale);
  const c = Math.cos(line.angle), s = Math.sin(line.angle);
  const step = 1 / scale; // source pixels per output pixel
  // Output pixel (u,v) -> source: the line's centre plus the rotated offset from the output's
  // centre; then into the level's coordinates (pixel centres at integers on every level).
  const u0 = (outW - 1) / 2, v0 = (outH - 1) / 2, o = (1 - f) / 2;
  const m: Affine = [
    f * step * c, -f * step * s, f * (line.cx - step * (c * u0 - s * v0)) - o,
    f * step * s, f * step * c, f * (line.cy - step * (s * u0 + c * v0)) - o,
  ];
  return warp(src, outW, outH, m, 255);
}

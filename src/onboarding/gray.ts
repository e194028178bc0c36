// Gray-level image work for reading documents: resampling through an affine map (deskewed crops),
// a 2x pyramid, separable min/max filters (morphology), the black-hat transform, Otsu's threshold
// and connected components. Plain typed-array loops, as in src/biometrics/pixels.ts.
import type { Affine } from '../biometrics/geometry.ts';
import type { RgbImage } from '../biometrics/pixels.ts';

/** A gray image, 0..255 (float), rows top to bottom. */
export interface Gray { data: Float32Array; width: number; height: number }

export function grayOf(img: RgbImage): Gray {
  const n = img.width * img.height;
  const out = new Float32Array(n);
  const { data } = img;
  for (let i = 0, j = 0; i < n; i++, j += 3) out[i] = 0.299 * data[j] + 0.587 * data[j + 1] + 0.114 * data[j + 2];
  return { data: out, width: img.width, height: img.height };
}

/** Samples an outW x outH image; `map` takes output pixel centres to source coordinates; outside: `fill`. */
export function warp(src: Gray, outW: number, outH: number, map: Affine, fill = 255): Gray {
  const { data, width: W, height: H } = src;
  const out = new Float32Array(outW * outH);
  const [a, b, c, d, e, f] = map;
  const maxX = W - 1, maxY = H - 1;
  let o = 0;
  for (let v = 0; v < outH; v++) {
    for (let u = 0; u < outW; u++, o++) {
      const x = a * u + b * v + c;
      const y = d * u + e * v + f;
      if (x < -0.5 || y < -0.5 || x > maxX + 0.5 || y > maxY + 0.5) { out[o] = fill; continue; }
      const cx = x < 0 ? 0 : x > maxX ? maxX : x;
      const cy = y < 0 ? 0 : y > maxY ? maxY : y;
      const x0 = cx | 0, y0 = cy | 0;
      const fx = cx - x0, fy = cy - y0;
      const i = y0 * W + x0;
      const dx = x0 < maxX ? 1 : 0, dy = y0 < maxY ? W : 0;
      const top = data[i] + (data[i + dx] - data[i]) * fx;
      const bottom = data[i + dy] + (data[i + dy + dx] - data[i + dy]) * fx;
      out[o] = top + (bottom - top) * fy;
    }
  }
  return { data: out, width: outW, height: outH };
}

/** Halves an image (2x2 means): the next level of a pyramid, for sampling without aliasing. */
export function halve(src: Gray): Gray {
  const w = Math.max(1, src.width >> 1), h = Math.max(1, src.height >> 1);
  const out = new Float32Array(w * h);
  const W = src.width, d = src.data;
  for (let y = 0; y < h; y++) {
    const r0 = 2 * y * W, r1 = Math.min(2 * y + 1, src.height - 1) * W;
    for (let x = 0; x < w; x++) {
      const x0 = 2 * x, x1 = Math.min(2 * x + 1, W - 1);
      out[y * w + x] = (d[r0 + x0] + d[r0 + x1] + d[r1 + x0] + d[r1 + x1]) / 4;
    }
  }
  return { data: out, width: w, height: h };
}

/** An image pyramid: level k is 2^-k of the original size, down to `minSide`. */
export function pyramid(src: Gray, minSide = 64): Gray[] {
  const levels = [src];
  while (Math.min(levels.at(-1)!.width, levels.at(-1)!.height) >= 2 * minSide) levels.push(halve(levels.at(-1)!));
  return levels;
}

/**
 * Resizes to outW x outH: from the pyramid level just above the target (so a shrink never skips
 * pixels), then bilinear.
 */
export function resizeFrom(levels: readonly Gray[], outW: number, outH: number): Gray {
  const k = outW / levels[0].width;
  let level = 0;
  while (level + 1 < levels.length && k * 2 ** (level + 1) <= 1) level++;
  const src = levels[level];
  const sx = src.width / outW, sy = src.height / outH;
  return warp(src, outW, outH, [sx, 0, (0.5 * sx) - 0.5, 0, sy, (0.5 * sy) - 0.5], 255);
}

/**
 * Running min (or max) over a centred window of `size` pixels along rows (`horizontal`) or
 * columns, in O(n) per pixel whatever the window (van Herk / Gil-Werman); edges are clamped.
 * Columns are processed a whole row at a time (memory order).
 */
function runningExtreme(src: Gray, size: number, horizontal: boolean, max: boolean): Gray {
  const { width: W, height: H, data } = src;
  const out = new Float32Array(W * H);
  if (size <= 1) { out.set(data); return { data: out, width: W, height: H }; }
  const n = horizontal ? W : H, lines = horizontal ? H : W;
  const half = size >> 1;
  const len = n + size - 1;
  if (horizontal) {
    const line = new Float32Array(len), g = new Float32Array(len), h = new Float32Array(len);
    for (let l = 0; l < lines; l++) {
      const base = l * W;
      for (let i = 0; i < len; i++) line[i] = data[base + Math.min(n - 1, Math.max(0, i - half))];
      for (let i = 0; i < len; i++) {
        const v = line[i];
        g[i] = i % size === 0 ? v : max ? (g[i - 1] > v ? g[i - 1] : v) : (g[i - 1] < v ? g[i - 1] : v);
      }
      for (let i = len - 1; i >= 0; i--) {
        const v = line[i];
        h[i] = (i + 1) % size === 0 || i === len - 1 ? v : max ? (h[i + 1] > v ? h[i + 1] : v) : (h[i + 1] < v ? h[i + 1] : v);
      }
      for (let i = 0; i < n; i++) {
        const a = h[i], b = g[i + size - 1];
        out[base + i] = max ? (a > b ? a : b) : (a < b ? a : b);
      }
    }
    return { data: out, width: W, height: H };
  }
  // Vertical: the same recurrences on whole rows.
  const row = (i: number) => Math.min(n - 1, Math.max(0, i - half)) * W;
  const g = new Float32Array(len * W), h = new Float32Array(len * W);
  for (let i = 0; i < len; i++) {
    const r = row(i), o = i * W;
    if (i % size === 0) { for (let x = 0; x < W; x++) g[o + x] = data[r + x]; continue; }
    const p = o - W;
    for (let x = 0; x < W; x++) {
      const v = data[r + x], q = g[p + x];
      g[o + x] = max ? (q > v ? q : v) : (q < v ? q : v);
    }
  }
  for (let i = len - 1; i >= 0; i--) {
    const r = row(i), o = i * W;
    if ((i + 1) % size === 0 || i === len - 1) { for (let x = 0; x < W; x++) h[o + x] = data[r + x]; continue; }
    const p = o + W;
    for (let x = 0; x < W; x++) {
      const v = data[r + x], q = h[p + x];
      h[o + x] = max ? (q > v ? q : v) : (q < v ? q : v);
    }
  }
  for (let y = 0; y < H; y++) {
    const a0 = y * W, b0 = (y + size - 1) * W, o = y * W;
    for (let x = 0; x < W; x++) {
      const a = h[a0 + x], b = g[b0 + x];
      out[o + x] = max ? (a > b ? a : b) : (a < b ? a : b);
    }
  }
  return { data: out, width: W, height: H };
}

export const erode = (src: Gray, kw: number, kh: number): Gray => runningExtreme(runningExtreme(src, kw, true, false), kh, false, false);
export const dilate = (src: Gray, kw: number, kh: number): Gray => runningExtreme(runningExtreme(src, kw, true, true), kh, false, true);

/** Black-hat (closing minus the image): dark details smaller than kw x kh on a lighter background. */
export function blackhat(src: Gray, kw: number, kh: number): Gray {
  const closed = erode(dilate(src, kw, kh), kw, kh);
  const out = closed.data;
  for (let i = 0; i < out.length; i++) out[i] -= src.data[i];
  return closed;
}

/** |d/dx| by the Sobel operator. */
export function sobelX(src: Gray): Gray {
  const { width: W, height: H, data } = src;
  const out = new Float32Array(W * H);
  for (let y = 1; y < H - 1; y++) {
    for (let x = 1; x < W - 1; x++) {
      const i = y * W + x;
      const v = (data[i - W + 1] + 2 * data[i + 1] + data[i + W + 1]) - (data[i - W - 1] + 2 * data[i - 1] + data[i + W - 1]);
      out[i] = v < 0 ? -v : v;
    }
  }
  return { data: out, width: W, height: H };
}

/** Otsu's threshold of values in 0..max (256 bins). */
export function otsu(values: Float32Array, max = 255): number {
  const hist = new Float64Array(256);
  const k = 255 / Math.max(1e-6, max);
  for (const v of values) hist[Math.min(255, Math.max(0, (v * k) | 0))]++;
  const total = values.length;
  let sum = 0;
  for (let i = 0; i < 256; i++) sum += i * hist[i];
  let wB = 0, sumB = 0, best = 0, threshold = 0;
  for (let t = 0; t < 256; t++) {
    wB += hist[t];
    if (wB === 0) continue;
    const wF = total - wB;
    if (wF === 0) break;
    sumB += t * hist[t];
    const mB = sumB / wB, mF = (sum - sumB) / wF;
    const between = wB * wF * (mB - mF) ** 2;
    if (between > best) { best = between; threshold = t; }
  }
  return (threshold + 0.5) / k;
}

export interface Component {
  x1: number; y1: number; x2: number; y2: number;
  area: number;
  /** Centroid and second central moments of the component's pixels. */
  cx: number; cy: number; mxx: number; myy: number; mxy: number;
}

/** 8-connected components of a 0/1 mask, with their boxes and moments. */
export function components(mask: Uint8Array, W: number, H: number, minArea = 1): Component[] {
  const labels = new Int32Array(W * H).fill(-1);
  const stack = new Int32Array(W * H);
  const out: Component[] = [];
  for (let start = 0; start < mask.length; start++) {
    if (!mask[start] || labels[start] >= 0) continue;
    let top = 0;
    stack[top++] = start;
    labels[start] = out.length;
    let x1 = W, y1 = H, x2 = -1, y2 = -1, area = 0, sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
    while (top > 0) {
      const i = stack[--top];
      const x = i % W, y = (i - x) / W;
      area++; sx += x; sy += y; sxx += x * x; syy += y * y; sxy += x * y;
      if (x < x1) x1 = x; if (x > x2) x2 = x; if (y < y1) y1 = y; if (y > y2) y2 = y;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= H) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= W) continue;
          const j = yy * W + xx;
          if (mask[j] && labels[j] < 0) { labels[j] = out.length; stack[top++] = j; }
        }
      }
    }
    const cx = sx / area, cy = sy / area;
    out.push({ x1, y1, x2: x2 + 1, y2: y2 + 1, area, cx, cy, mxx: sxx / area - cx * cx, myy: syy / area - cy * cy, mxy: sxy / area - cx * cy });
  }
  return out.filter((c) => c.area >= minArea);
}

/** The image turned clockwise by a multiple of 90 degrees. */
export function rotateQuarter(src: Gray, quarters: number): Gray {
  const q = ((quarters % 4) + 4) % 4;
  if (q === 0) return src;
  const { width: W, height: H, data } = src;
  const outW = q === 2 ? W : H, outH = q === 2 ? H : W;
  const out = new Float32Array(W * H);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const [u, v] = q === 1 ? [H - 1 - y, x] : q === 2 ? [W - 1 - x, H - 1 - y] : [y, W - 1 - x];
      out[v * outW + u] = data[y * W + x];
    }
  }
  return { data: out, width: outW, height: outH };
}

/** Contrast stretched so the 2nd and 98th percentiles of the image become 0 and 255. */
export function stretch(src: Gray): Gray {
  const hist = new Uint32Array(256);
  for (const v of src.data) hist[Math.max(0, Math.min(255, v | 0))]++;
  const n = src.data.length;
  let lo = 0, hi = 255, acc = 0;
  for (let i = 0; i < 256; i++) { acc += hist[i]; if (acc >= n * 0.02) { lo = i; break; } }
  acc = 0;
  for (let i = 255; i >= 0; i--) { acc += hist[i]; if (acc >= n * 0.02) { hi = i; break; } }
  const k = 255 / Math.max(1, hi - lo);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.max(0, Math.min(255, (src.data[i] - lo) * k));
  return { data: out, width: src.width, height: src.height };
}

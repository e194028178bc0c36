// Pixel work on decoded RGB images: bilinear resampling through an affine map (crops, letterbox,
// alignment) and conversion to model tensors. Plain typed-array loops; no allocation per pixel.
import type { Affine, Box } from './geometry.ts';

/** An 8-bit RGB image, rows top to bottom, pixels interleaved R,G,B. */
export interface RgbImage { data: Uint8Array; width: number; height: number }

/**
 * The order of the colour planes a model takes: 'rgb', or 'bgr' for models trained on OpenCV's
 * default (blue plane first). `mean` and `std` are always given for R, G, B.
 */
export type ChannelOrder = 'rgb' | 'bgr';

/** Offsets of the R, G and B planes in a planar tensor of n pixels per plane. */
const planes = (order: ChannelOrder, n: number): [number, number, number] => (order === 'bgr' ? [2 * n, n, 0] : [0, n, 2 * n]);

/**
 * Samples an outW x outH RGB image; `map` takes output pixel centres to source coordinates.
 * Outside the source: `fill` (a gray level) or, when fill is null, the nearest edge pixel.
 */
export function resample(src: RgbImage, outW: number, outH: number, map: Affine, fill: number | null = null): RgbImage {
  const { data, width: W, height: H } = src;
  const out = new Uint8Array(outW * outH * 3);
  const [a, b, c, d, e, f] = map;
  const maxX = W - 1, maxY = H - 1;
  let o = 0;
  for (let v = 0; v < outH; v++) {
    for (let u = 0; u < outW; u++, o += 3) {
      let x = a * u + b * v + c;
      let y = d * u + e * v + f;
      if (fill !== null && (x < -0.5 || y < -0.5 || x > maxX + 0.5 || y > maxY + 0.5)) {
        out[o] = fill; out[o + 1] = fill; out[o + 2] = fill;
        continue;
      }
      x = x < 0 ? 0 : x > maxX ? maxX : x;
      y = y < 0 ? 0 : y > maxY ? maxY : y;
      const x0 = x | 0, y0 = y | 0;
      const fx = x - x0, fy = y - y0;
      const i00 = (y0 * W + x0) * 3;
      const dx = x0 < maxX ? 3 : 0, dy = y0 < maxY ? W * 3 : 0;
      for (let ch = 0; ch < 3; ch++) {
        const i = i00 + ch;
        const top = data[i] + (data[i + dx] - data[i]) * fx;
        const bottom = data[i + dy] + (data[i + dy + dx] - data[i + dy]) * fx;
        out[o + ch] = top + (bottom - top) * fy + 0.5;
      }
    }
  }
  return { data: out, width: outW, height: outH };
}

/**
 * Axis-aligned bilinear crop straight into planar float tensor data (C,H,W), normalised as
 * (v - mean[c]) / std[c]: the model inputs never exist as an 8-bit intermediate.
 * `map` must have no rotation (map[1] === map[3] === 0); outside the source: `fill` or the edge.
 */
export function sampleToChw(
  src: RgbImage, outW: number, outH: number, map: Affine, mean: readonly number[], std: readonly number[], fill: number | null = null,
  order: ChannelOrder = 'rgb',
): Float32Array {
  if (map[1] !== 0 || map[3] !== 0) return toChw(resample(src, outW, outH, map, fill), mean, std, order);
  const { data, width: W, height: H } = src;
  const n = outW * outH;
  const out = new Float32Array(3 * n);
  const [pr, pg, pb] = planes(order, n);
  const [a, , c, , e, f] = map;
  const m0 = mean[0], m1 = mean[1], m2 = mean[2], s0 = 1 / std[0], s1 = 1 / std[1], s2 = 1 / std[2];
  const f0 = fill === null ? 0 : (fill - m0) * s0, f1 = fill === null ? 0 : (fill - m1) * s1, f2 = fill === null ? 0 : (fill - m2) * s2;
  const col0 = new Int32Array(outW), col1 = new Int32Array(outW), colF = new Float64Array(outW), colIn = new Uint8Array(outW);
  for (let u = 0; u < outW; u++) {
    const x = a * u + c;
    colIn[u] = fill === null || (x >= -0.5 && x <= W - 0.5) ? 1 : 0;
    const xc = x < 0 ? 0 : x > W - 1 ? W - 1 : x;
    const x0 = xc | 0;
    col0[u] = x0 * 3; col1[u] = (x0 < W - 1 ? x0 + 1 : x0) * 3; colF[u] = xc - x0;
  }
  for (let v = 0, o = 0; v < outH; v++) {
    const y = e * v + f;
    const rowIn = fill === null || (y >= -0.5 && y <= H - 0.5);
    const yc = y < 0 ? 0 : y > H - 1 ? H - 1 : y;
    const y0 = yc | 0, fy = yc - y0;
    const row0 = y0 * W * 3, row1 = (y0 < H - 1 ? y0 + 1 : y0) * W * 3;
    for (let u = 0; u < outW; u++, o++) {
      if (!rowIn || colIn[u] === 0) { out[pr + o] = f0; out[pg + o] = f1; out[pb + o] = f2; continue; }
      const fx = colF[u];
      const w00 = (1 - fx) * (1 - fy), w01 = fx * (1 - fy), w10 = (1 - fx) * fy, w11 = fx * fy;
      const i00 = row0 + col0[u], i01 = row0 + col1[u], i10 = row1 + col0[u], i11 = row1 + col1[u];
      out[pr + o] = (data[i00] * w00 + data[i01] * w01 + data[i10] * w10 + data[i11] * w11 - m0) * s0;
      out[pg + o] = (data[i00 + 1] * w00 + data[i01 + 1] * w01 + data[i10 + 1] * w10 + data[i11 + 1] * w11 - m1) * s1;
      out[pb + o] = (data[i00 + 2] * w00 + data[i01 + 2] * w01 + data[i10 + 2] * w10 + data[i11 + 2] * w11 - m2) * s2;
    }
  }
  return out;
}

/** The map from an outW x outH output onto the source rectangle `r` (pixel-centre aligned). */
export function cropMap(r: Box, outW: number, outH: number): Affine {
  const sx = (r.x2 - r.x1) / outW, sy = (r.y2 - r.y1) / outH;
  return [sx, 0, r.x1 + 0.5 * sx - 0.5, 0, sy, r.y1 + 0.5 * sy - 0.5];
}

/** The rectangle `r` resampled to outW x outH; beyond the picture: `fill`, or the edge when null. */
export function crop(src: RgbImage, r: Box, outW: number, outH: number, fill: number | null = null): RgbImage {
  return resample(src, outW, outH, cropMap(r, outW, outH), fill);
}

/** A rectangle of the given size around a centre, shifted (not shrunk) to lie inside the image. */
export function rectInside(cx: number, cy: number, w: number, h: number, width: number, height: number): Box {
  w = Math.min(w, width - 1); h = Math.min(h, height - 1);
  let x1 = cx - w / 2, y1 = cy - h / 2;
  x1 = Math.min(Math.max(0, x1), width - 1 - w);
  y1 = Math.min(Math.max(0, y1), height - 1 - h);
  return { x1, y1, x2: x1 + w, y2: y1 + h };
}

/** Planar float tensor data (C,H,W) from RGB: (v - mean[c]) / std[c], planes in `order`. */
export function toChw(img: RgbImage, mean: readonly number[], std: readonly number[], order: ChannelOrder = 'rgb'): Float32Array {
  const n = img.width * img.height;
  const out = new Float32Array(3 * n);
  const [pr, pg, pb] = planes(order, n);
  const { data } = img;
  const m0 = mean[0], m1 = mean[1], m2 = mean[2], s0 = 1 / std[0], s1 = 1 / std[1], s2 = 1 / std[2];
  for (let i = 0, j = 0; i < n; i++, j += 3) {
    out[pr + i] = (data[j] - m0) * s0;
    out[pg + i] = (data[j + 1] - m1) * s1;
    out[pb + i] = (data[j + 2] - m2) * s2;
  }
  return out;
}

/** Luminance (ITU-R BT.601) of each pixel, 0..255. */
export function toGray(img: RgbImage): Float32Array {
  const n = img.width * img.height;
  const out = new Float32Array(n);
  const { data } = img;
  for (let i = 0, j = 0; i < n; i++, j += 3) out[i] = 0.299 * data[j] + 0.587 * data[j + 1] + 0.114 * data[j + 2];
  return out;
}

export function scale(values: Float32Array, factor: number): Float32Array {
  for (let i = 0; i < values.length; i++) values[i] *= factor;
  return values;
}

/**
 * The picture reduced to a cols x rows grid of block means, R,G,B interleaved, rounded to 0..255:
 * a small signature of the whole scene (background, clothes, light) that sensor noise and JPEG
 * re-encoding barely change. One pass over the pixels.
 */
export function blockMeans(img: RgbImage, cols: number, rows: number): number[] {
  const { data, width: W, height: H } = img;
  // Integer sums (exact): each cell's columns are a contiguous run, summed in one tight loop per row.
  const sums = new Float64Array(cols * rows * 3);
  const counts = new Float64Array(cols * rows);
  const colStart = new Int32Array(cols + 1);
  for (let x = 0, c = 0; x <= W; x++) {
    const cell = x === W ? cols : Math.min(cols - 1, Math.floor((x * cols) / W));
    while (c < cell) colStart[++c] = x;
  }
  colStart[cols] = W;
  for (let y = 0; y < H; y++) {
    const rowBase = Math.min(rows - 1, Math.floor((y * rows) / H)) * cols;
    const rowOff = y * W * 3;
    for (let c = 0; c < cols; c++) {
      let r = 0, g = 0, b = 0;
      for (let i = rowOff + colStart[c] * 3, end = rowOff + colStart[c + 1] * 3; i < end; i += 3) {
        r += data[i]; g += data[i + 1]; b += data[i + 2];
      }
      const cell = rowBase + c;
      sums[cell * 3] += r; sums[cell * 3 + 1] += g; sums[cell * 3 + 2] += b;
      counts[cell] += colStart[c + 1] - colStart[c];
    }
  }
  return Array.from(sums, (v, k) => Math.round(v / Math.max(1, counts[(k / 3) | 0])));
}

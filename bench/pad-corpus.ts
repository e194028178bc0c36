// The presentation-attack corpus of `npm run bench:pad`, made at run time from ../shared/data with
// sharp: bona fide sequences (windows of the selfie video, per-run sensor noise) and one generator
// per attack species (ISO/IEC 30107-3 terms). Each sequence is its frames in capture order with the
// gaps between them; randomness comes from a seeded generator, so a run can be repeated.
import sharp from 'sharp';

export type Rng = () => number;
/** mulberry32: small, seeded, good enough for test data. */
export function rng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const gauss = (r: Rng) => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());

type Raw = { data: Buffer; width: number; height: number };
const raw = async (bytes: Buffer): Promise<Raw> => {
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
};
const encode = (img: Raw, quality: number) => sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } }).jpeg({ quality }).toBuffer();

/** Sensor noise (gaussian, sigma in gray levels) and a camera's JPEG: what every frame goes through. */
export async function sensor(bytes: Buffer, r: Rng, sigma = 3, quality = 80 + Math.floor(r() * 12)): Promise<Buffer> {
  const img = await raw(bytes);
  const out = Buffer.alloc(img.data.length);
  for (let i = 0; i < img.data.length; i++) out[i] = Math.max(0, Math.min(255, img.data[i] + sigma * gauss(r)));
  return encode({ ...img, data: out }, quality);
}

/** The picture seen through a homography h (3x3, row-major, output -> source), edges repeated. */
export async function warp(bytes: Buffer, h: number[]): Promise<Buffer> {
  const img = await raw(bytes);
  const { width: W, height: H, data } = img;
  const out = Buffer.alloc(data.length);
  for (let y = 0, o = 0; y < H; y++) {
    for (let x = 0; x < W; x++, o += 3) {
      const z = h[6] * x + h[7] * y + h[8];
      const sx = Math.min(W - 1, Math.max(0, (h[0] * x + h[1] * y + h[2]) / z));
      const sy = Math.min(H - 1, Math.max(0, (h[3] * x + h[4] * y + h[5]) / z));
      const x0 = sx | 0, y0 = sy | 0, fx = sx - x0, fy = sy - y0;
      const x1 = Math.min(W - 1, x0 + 1), y1 = Math.min(H - 1, y0 + 1);
      for (let c = 0; c < 3; c++) {
        const a = data[(y0 * W + x0) * 3 + c], b = data[(y0 * W + x1) * 3 + c];
        const d = data[(y1 * W + x0) * 3 + c], e = data[(y1 * W + x1) * 3 + c];
        out[o + c] = (a + (b - a) * fx) * (1 - fy) + (d + (e - d) * fx) * fy + 0.5;
      }
    }
  }
  return encode({ ...img, data: out }, 92);
}

/** A homography about the picture's centre: shift (px), rotation (deg), scale, shear and perspective terms. */
export function motion(W: number, H: number, m: { dx?: number; dy?: number; rot?: number; scale?: number; shear?: number; px?: number; py?: number }): number[] {
  const cx = W / 2, cy = H / 2, t = ((m.rot ?? 0) * Math.PI) / 180, k = m.scale ?? 1, sh = m.shear ?? 0;
  const a = k * Math.cos(t), b = -k * Math.sin(t) + sh, c = k * Math.sin(t), d = k * Math.cos(t);
  const p = (m.px ?? 0) / W, q = (m.py ?? 0) / H;
  // x' = A (x - c) + c + shift, then the perspective row acting on centred coordinates.
  return [a, b, cx - a * cx - b * cy + (m.dx ?? 0), c, d, cy - c * cx - d * cy + (m.dy ?? 0), p, q, 1 - p * cx - q * cy];
}

export const dims = async (bytes: Buffer) => { const m = await sharp(bytes).metadata(); return { W: m.width!, H: m.height! }; };

/** Brightness and contrast jitter (an auto-exposure camera in front of a photo). */
export const exposure = (bytes: Buffer, r: Rng) => sharp(bytes).linear(0.85 + 0.3 * r(), -10 + 20 * r()).jpeg({ quality: 90 }).toBuffer();

/** A print: reduced gamut, paper texture (fine noise), a halftone-like dot pattern and a slight blur. */
export async function print(bytes: Buffer, r: Rng): Promise<Buffer> {
  const img = await raw(await sharp(bytes).modulate({ saturation: 0.75 }).linear(0.8, 30).toBuffer());
  const { width: W, data } = img;
  const period = 3 + Math.floor(r() * 2);
  const out = Buffer.alloc(data.length);
  for (let i = 0, p = 0; i < data.length; i += 3, p++) {
    const x = p % W, y = (p / W) | 0;
    const dot = (Math.cos((2 * Math.PI * x) / period) * Math.cos((2 * Math.PI * y) / period)) * 10;
    const paper = 4 * gauss(r);
    for (let c = 0; c < 3; c++) out[i + c] = Math.max(0, Math.min(255, data[i + c] + dot + paper));
  }
  return sharp(await encode({ ...img, data: out }, 92)).blur(0.8).jpeg({ quality: 90 }).toBuffer();
}

/** A screen replay: moiré (beat of the pixel grid), gamma, a dark bezel and a glare spot. */
export async function screen(bytes: Buffer, r: Rng): Promise<Buffer> {
  const img = await raw(await sharp(bytes).linear(0.9, 8).toBuffer());
  const { width: W, height: H, data } = img;
  const f = 0.9 + 0.2 * r(), angle = r() * Math.PI, gx = W * (0.2 + 0.6 * r()), gy = H * (0.2 + 0.5 * r());
  const bezel = Math.round(Math.min(W, H) * (0.03 + 0.03 * r()));
  const out = Buffer.alloc(data.length);
  for (let i = 0, p = 0; i < data.length; i += 3, p++) {
    const x = p % W, y = (p / W) | 0;
    if (x < bezel || y < bezel || x >= W - bezel || y >= H - bezel) { out[i] = out[i + 1] = out[i + 2] = 12; continue; }
    const moire = 6 * Math.sin(f * (x * Math.cos(angle) + y * Math.sin(angle)));
    const glare = 70 * Math.exp(-((x - gx) ** 2 + (y - gy) ** 2) / (2 * (0.08 * W) ** 2));
    for (let c = 0; c < 3; c++) out[i + c] = Math.max(0, Math.min(255, data[i + c] * 0.9 + moire + glare + (c === 2 ? 8 : 0)));
  }
  return encode({ ...img, data: out }, 88);
}

/** A mirror image (a turn to one side made from a photo turned to the other). */
export const mirror = (bytes: Buffer) => sharp(bytes).flop().jpeg({ quality: 92 }).toBuffer();

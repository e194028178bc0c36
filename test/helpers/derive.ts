// Derived test images: a shared photo darkened, over-exposed, blurred, rotated, cropped, shaded
// or with the eyes painted shut, each made with sharp at test time.
import sharp, { type Sharp } from 'sharp';
import type { Point } from '../../src/biometrics/geometry.ts';

export const jpeg = (img: Sharp) => img.jpeg({ quality: 92 }).toBuffer();

export const darken = (src: Buffer) => jpeg(sharp(src).linear(0.25, 0));
export const overExpose = (src: Buffer) => jpeg(sharp(src).linear(1.8, 60));
export const blur = (src: Buffer, sigma: number) => jpeg(sharp(src).blur(sigma));
export const rotate = (src: Buffer, degrees: number) => jpeg(sharp(src).rotate(degrees, { background: '#808080' }));
export const downscale = (src: Buffer, factor: number) => sharp(src).metadata().then((m) => jpeg(sharp(src).resize(Math.round(m.width! / factor))));

/** Keeps the part of the picture right of x (cuts the left side away). */
export const cropFromLeft = (src: Buffer, x: number) => sharp(src).metadata()
  .then((m) => jpeg(sharp(src).extract({ left: Math.round(x), top: 0, width: m.width! - Math.round(x), height: m.height! })));

/** Shades everything left of x by `alpha` (a light from the right). */
export async function shadeLeft(src: Buffer, x: number, alpha: number) {
  const { height } = await sharp(src).metadata();
  const shade = await sharp({ create: { width: Math.round(x), height: height!, channels: 4, background: { r: 0, g: 0, b: 0, alpha } } }).png().toBuffer();
  return jpeg(sharp(src).composite([{ input: shade, left: 0, top: 0 }]));
}

/** Paints closed eyelids (skin with a lash line) over both eyes, placed from 68 landmarks. */
export async function closeEyes(src: Buffer, lm: readonly Point[]) {
  const { data, info } = await sharp(src).raw().toBuffer({ resolveWithObject: true });
  const cheek = { x: Math.round((lm[2].x + lm[31].x) / 2), y: Math.round(lm[2].y) };
  const i = (cheek.y * info.width + cheek.x) * info.channels;
  const skin = `rgb(${data[i]},${data[i + 1]},${data[i + 2]})`;
  const lids = await Promise.all([[36, 39], [42, 45]].map(async ([a, c]) => {
    const w = lm[c].x - lm[a].x;
    const cy = lm.slice(a, a + 6).reduce((sum, p) => sum + p.y, 0) / 6;
    // The lid covers the whole eye opening and its corners; the brow above stays visible.
    const r = { left: Math.round(lm[a].x - w * 0.35), top: Math.round(cy - w * 0.35), width: Math.round(w * 1.7), height: Math.round(w * 0.75) };
    const svg = `<svg width="${r.width}" height="${r.height}"><rect width="100%" height="100%" fill="${skin}"/>`
      + `<path d="M ${r.width * 0.15} ${r.height * 0.5} Q ${r.width / 2} ${r.height * 0.65} ${r.width * 0.85} ${r.height * 0.5}" stroke="rgb(60,40,35)" stroke-width="${Math.max(2, r.height / 10)}" fill="none"/></svg>`;
    return { input: await sharp(Buffer.from(svg)).blur(1.5).png().toBuffer(), left: r.left, top: r.top };
  }));
  return jpeg(sharp(src).composite(lids));
}

let shots = 0;
/**
 * The same JPEG with a numbered comment segment after its SOI marker: the pixels stay, the bytes
 * are new (the gateway refuses bytes it has seen before as a replay). Anything else is returned as is.
 */
export function freshBytes(jpegBytes: Buffer): Buffer {
  if (jpegBytes[0] !== 0xff || jpegBytes[1] !== 0xd8) return jpegBytes;
  const text = Buffer.from(`shot ${++shots} ${process.pid}`);
  return Buffer.concat([jpegBytes.subarray(0, 2), Buffer.from([0xff, 0xfe, 0, text.length + 2]), text, jpegBytes.subarray(2)]);
}

const encoded = new Map<Buffer, Promise<Buffer>>();
/** A photo as a camera delivers it: re-encoded without metadata, and bytes never sent before. */
export async function cameraShot(photo: Buffer): Promise<Buffer> {
  const jpegBytes = encoded.get(photo) ?? encoded.set(photo, sharp(photo).jpeg({ quality: 95 }).toBuffer()).get(photo)!;
  return freshBytes(await jpegBytes);
}

// Fake-camera files for the browser tests: Chromium plays a `.mjpeg` (concatenated baseline JPEG
// frames) as its webcam at 30 fps, looping. Frames get a real sensor's faint noise. Temp dir only.
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';

/** The fake camera's frame size (the shared selfie video's: 640×480) and Chromium's MJPEG rate. */
export const camera = { width: 640, height: 480, fps: 30 } as const;

/** A temp folder for one test file's camera files; `remove()` deletes it. */
export function cameraDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'facegate-camera-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** An image fitted whole into the camera frame (black bars, never cropped), as raw RGB. */
async function rawFrame(image: Uint8Array): Promise<Buffer> {
  return sharp(image).rotate()
    .resize({ width: camera.width, height: camera.height, fit: 'contain', background: { r: 0, g: 0, b: 0 } })
    .flatten({ background: { r: 0, g: 0, b: 0 } }).removeAlpha().raw().toBuffer();
}

/**
 * Faint sensor noise, seeded by the frame's number: ±3 on about 1 % of the samples. A real camera
 * never delivers the same pixels twice; without it a looped file would give byte-identical
 * snapshots, which the gateway's replay defence rightly refuses.
 */
function withNoise(raw: Buffer, seed: number): Buffer {
  const out = Buffer.from(raw);
  let x = (seed * 2654435761) >>> 0 || 1;
  const next = () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x; };
  for (let n = Math.floor(out.length / 100); n > 0; n--) {
    const i = next() % out.length;
    out[i] = Math.max(0, Math.min(255, out[i] + (next() % 7) - 3));
  }
  return out;
}

const encode = (raw: Buffer) => sharp(raw, { raw: { width: camera.width, height: camera.height, channels: 3 } })
  .jpeg({ quality: 90, progressive: false, chromaSubsampling: '4:2:0', mozjpeg: false }).toBuffer();

/**
 * Writes `<dir>/<name>.mjpeg` from `frames` (any images) played in order and looped, each shown
 * `hold` camera frames (2 plays a 15 fps video at its own speed), for `seconds` before Chromium
 * starts the file again. `noise: false` repeats each source frame byte for byte. Returns the path.
 */
export async function framesAsCamera(dir: string, name: string, frames: readonly Uint8Array[], options: { seconds?: number; hold?: number; noise?: boolean } = {}): Promise<string> {
  const { seconds = 60, hold = 1, noise = true } = options;
  const raws = await Promise.all(frames.map(rawFrame));
  const plain = noise ? [] : await Promise.all(raws.map(encode));
  const total = Math.max(1, Math.round(seconds * camera.fps));
  const path = join(dir, `${name}.mjpeg`);
  const out = createWriteStream(path);
  const batch = 16;
  for (let start = 0; start < total; start += batch) {
    const indices = Array.from({ length: Math.min(batch, total - start) }, (_, k) => start + k);
    const jpegs = await Promise.all(indices.map((i) => {
      const source = Math.floor(i / hold) % frames.length;
      return noise ? encode(withNoise(raws[source], i + 1)) : Promise.resolve(plain[source]);
    }));
    for (const jpeg of jpegs) if (!out.write(jpeg)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return path;
}

/** A still photo held up to the camera: the same picture in every frame (with sensor noise unless `noise: false`). */
export function stillAsCamera(dir: string, name: string, image: Uint8Array, options: { seconds?: number; noise?: boolean } = {}): Promise<string> {
  return framesAsCamera(dir, name, [image], options);
}

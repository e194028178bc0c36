// The presentation-attack corpus of `npm run bench:pad`, made at run time from ../shared/data with
// sharp: bona fide sequences (windows of the selfie video, per-run sensor noise) and one generator
// per attack species (ISO/IEC 30107-3 terms). Each sequence is its frames in capture order with the
// gaps between them; randomness comes from a seeded generator, so a run can be repeated.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Config } from '../config/schema.ts';
import type { FaceEngine } from '../src/biometrics/engine.ts';
import { splitMjpeg } from '../src/biometrics/mjpeg.ts';
import { noseOffset } from '../src/capture/challenge.ts';
import type { Frames } from '../src/capture/checks.ts';
import type { ChallengeAction } from '../src/capture/flow.ts';
import { closeEyes } from '../test/helpers/derive.ts';

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

/** Unit gaussian samples, made once per process: frames take a random window of them (cheap per frame). */
let noisePool: Float32Array | undefined;
const poolSize = 1 << 22;
function noise(): Float32Array {
  if (!noisePool) {
    noisePool = new Float32Array(poolSize);
    const g = rng(0x5eed);
    for (let i = 0; i < poolSize; i++) noisePool[i] = gauss(g);
  }
  return noisePool;
}

/** Sensor noise (gaussian, sigma in gray levels) and a camera's JPEG: what every frame goes through. */
export async function sensor(bytes: Buffer, r: Rng, sigma = 3, quality = 80 + Math.floor(r() * 12)): Promise<Buffer> {
  // Every draw before the first await: concurrent calls resume in the order sharp finishes, and
  // a draw after it would make a seeded corpus differ from run to run.
  const start = Math.floor(r() * poolSize);
  const img = await raw(bytes);
  const pool = noise();
  const n = img.data.length;
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) {
    const v = img.data[i] + sigma * pool[(start + i) % poolSize];
    out[i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
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
export async function print(bytes: Buffer, seeded: Rng): Promise<Buffer> {
  const r = rng(Math.floor(seeded() * 2 ** 32)); // its own draws, fixed before the first await
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
export async function screen(bytes: Buffer, seeded: Rng): Promise<Buffer> {
  const r = rng(Math.floor(seeded() * 2 ** 32)); // its own draws, fixed before the first await
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

/**
 * The citizen of the shared selfie video, as a camera that follows instructions: its 44 frames
 * (15 fps) classified once with the engine (the most frontal frame that passes quality is the
 * neutral pose; the frames that show each turn; frames near neutral whose eyelids, painted shut,
 * the eye model reads as closed: the video has no blink). `perform(actions)` makes what a
 * cooperative citizen's camera delivers: two neutral frames, then each action as filmed (a turn's
 * frames from near-neutral through its peak and back, one in 2 or 3 frames: 133-200 ms apart; a
 * blink as open, shut, open), never the same video frame twice, each with its own sensor noise.
 */
export async function selfieCitizen(engine: Pick<FaceEngine, 'analyze'>, dataDir: string, s: Config['capture']['challenge']) {
  const video = splitMjpeg(readFileSync(join(dataDir, 'video', 'lin_manuel_miranda_selfie.mjpeg'))).map((f) => Buffer.from(f));
  const classified = (await Promise.all(video.map((b) => engine.analyze(b, { grade: 'capture' })))) as Frames;
  const base = classified.reduce((best, a, i) => (a.quality.ok && Math.abs(a.face.pose.yaw) < Math.abs(classified[best].face.pose.yaw) ? i : best), 0);
  const yawOf = (i: number) => classified[i].face.pose.yaw - classified[base].face.pose.yaw;
  const noseOf = (i: number) => noseOffset(classified[i]) - noseOffset(classified[base]);
  const shows = (i: number, a: ChallengeAction) => (a === 'turn_left' ? yawOf(i) <= -s.minYawChangeDeg && noseOf(i) >= s.minNoseShift : yawOf(i) >= s.minYawChangeDeg && noseOf(i) <= -s.minNoseShift);
  const turnPath = (a: 'turn_left' | 'turn_right'): number[] => {
    const dir = a === 'turn_right' ? 1 : -1;
    const shown = video.map((_, i) => i).filter((i) => shows(i, a));
    const peak = shown.reduce((p, i) => (dir * yawOf(i) > dir * yawOf(p) ? i : p), shown[0]);
    const near = (i: number) => Math.abs(yawOf(i)) < s.minYawChangeDeg / 2;
    let from = peak, to = peak;
    while (from > 0 && !near(from)) from--;
    while (to < video.length - 1 && !near(to)) to++;
    return video.map((_, i) => i).slice(from, to + 1);
  };
  const paths = { turn_left: turnPath('turn_left'), turn_right: turnPath('turn_right') };
  // Painted after the sensor noise (a lid is smooth skin): kept where eight noisy trials all read
  // shut, with a margin. Found on first use (a capture without a blink never needs them).
  let blinkableFound: Promise<number[]> | undefined;
  const findBlinkable = async () => {
    const probe = rng(1);
    const found: number[] = [];
    for (let i = 1; i + 1 < video.length; i++) {
      if (!classified[i].quality.ok || Math.abs(yawOf(i)) >= s.minYawChangeDeg * 0.75 || Math.abs(noseOf(i)) >= s.minNoseShift * 0.75) continue;
      let shut = true;
      for (let t = 0; t < 8 && shut; t++) {
        const a = await engine.analyze(await closeEyes(await sensor(video[i], probe), classified[i].face.landmarks));
        shut = !!a.face && Math.max(...a.face.eyesOpen) < s.eyesClosedBelow / 2;
      }
      if (shut) found.push(i);
    }
    return found;
  };
  const blinkable = () => (blinkableFound ??= findBlinkable());
  /**
   * Frame i with its eyelids painted shut. A real blink is unmistakable; the painted stand-in is
   * not always, under noise: it is redrawn with new noise (at most 6 times) until the eye model
   * reads it shut, so the corpus measures the checks, not the painting.
   */
  const blinks = {
    get: async (i: number, r: Rng) => {
      let frame = await closeEyes(await sensor(video[i], r), classified[i].face.landmarks);
      for (let t = 0; t < 5; t++) {
        const a = await engine.analyze(frame);
        if (a.face && Math.max(...a.face.eyesOpen) < s.eyesClosedBelow / 2) break;
        frame = await closeEyes(await sensor(video[i], r), classified[i].face.landmarks);
      }
      return frame;
    },
  };
  const every = (xs: number[], step: number, phase: number) => xs.filter((_, k) => (k + phase) % step === 0);

  /**
   * At most `maxFrames` in all, as the page sends: each turn's path thinned evenly to its share
   * (never closer than `step` video frames, 133-200 ms).
   */
  async function perform(actions: readonly ChallengeAction[], r: Rng, maxFrames = 16): Promise<Buffer[]> {
    const step = 2 + Math.floor(r() * 2);
    const share = Math.max(3, Math.floor((maxFrames - 2) / Math.max(1, actions.length)));
    // The blink's frame is chosen first (few frames take painted lids reliably), then two calm
    // frames to look straight with.
    const shutAt = actions.includes('blink') ? await (async () => { const c = await blinkable(); return c[Math.floor(r() * c.length)]; })() : -1;
    const calm = (i: number) => Math.abs(yawOf(i)) < s.minYawChangeDeg / 2 && Math.abs(noseOf(i)) < s.minNoseShift / 2;
    const straight = [base, ...video.map((_, i) => i).filter((i) => i !== base && calm(i)).sort((x, y) => Math.abs(x - base) - Math.abs(y - base))]
      .filter((i) => i !== shutAt).slice(0, 2);
    const used = new Set<number>([...straight, shutAt]);
    const frames: Array<number | { blink: number }> = [...straight];
    for (const a of actions) {
      if (a === 'blink') {
        const k = shutAt;
        // Then open again: the nearest frame not used yet that shows no turn (a camera never repeats
        // a frame); open eyes before it come from the frames already taken.
        const turned = (i: number) => shows(i, 'turn_left') || shows(i, 'turn_right');
        const after = video.map((_, i) => i).filter((i) => !used.has(i) && !turned(i)).sort((x, y) => Math.abs(x - k) - Math.abs(y - k))[0];
        used.add(after);
        frames.push({ blink: k }, after);
      } else {
        const free = paths[a].filter((i) => !used.has(i));
        const stride = Math.max(step, Math.ceil(free.length / share));
        const path = every(free, stride, Math.floor(r() * stride));
        // Turned slowly, as the page asks: the way to the peak shows at least one frame between
        // neutral and turned (thinning may have skipped them all): the one nearest half the peak.
        const dir = a === 'turn_right' ? 1 : -1;
        const peak = Math.max(...path.map((i) => dir * yawOf(i)));
        // Well inside the checker's band (its neutral frame and the pose model's noise move it by a degree or two).
        const between = (i: number) => dir * yawOf(i) >= Math.max(s.sweepLow * peak, s.minYawChangeDeg / 2) + 1.5 && dir * yawOf(i) <= s.sweepHigh * peak - 1.5;
        if (!path.some(between)) {
          const mid = free.filter(between).sort((x, y) => Math.abs(dir * yawOf(x) - peak / 2) - Math.abs(dir * yawOf(y) - peak / 2))[0];
          if (mid !== undefined) path.splice(path.findIndex((i) => i > mid) < 0 ? path.length : path.findIndex((i) => i > mid), 0, mid);
        }
        path.forEach((i) => used.add(i));
        frames.push(...path);
      }
    }
    return Promise.all(frames.map((f) => (typeof f === 'number' ? sensor(video[f], r) : blinks.get(f.blink, r))));
  }
  /** Without actions: `n` frames of the video as filmed, 133-200 ms apart. */
  async function window(n: number, r: Rng): Promise<Buffer[]> {
    const step = 2 + Math.floor(r() * 2);
    const start = Math.floor(r() * Math.max(1, video.length - n * step));
    return Promise.all(Array.from({ length: n }, (_, k) => sensor(video[Math.min(video.length - 1, start + k * step)], r)));
  }
  /**
   * A camera in front of the citizen as she follows instructions, one frame per call of next():
   * looking straight (the calm frames in video order, there and back), or, after follow(action),
   * that action as filmed (a turn's path through its peak and back, every other video frame; a
   * blink: a painted shut frame), then straight again. Every frame has its own sensor noise and a
   * little camera shake (a shift of up to 2 px, a scale within 1 %), as a hand-held phone gives.
   */
  let shutFrame: Promise<Buffer> | undefined;
  /**
   * The camera's sensor noise (sigma, gray levels): a decent phone in fair light. The liveness
   * model is sensitive to noise: at 3 (the bench:pad corpus) about 1 genuine frame in 4 reads not
   * live, at 2 about 1 in 8 (docs/calibration.md).
   */
  const CAMERA_NOISE = 2;
  function camera(r: Rng) {
    const calmFrames = video.map((_, i) => i).filter((i) => Math.abs(yawOf(i)) < s.minYawChangeDeg / 2 && Math.abs(noseOf(i)) < s.minNoseShift / 2);
    const queue: Array<number | 'blink'> = [];
    let at = calmFrames.indexOf(base);
    let dir = 1;
    const straight = () => {
      if (calmFrames.length > 1 && (at + dir < 0 || at + dir >= calmFrames.length)) dir = -dir;
      at = Math.max(0, Math.min(calmFrames.length - 1, at + dir));
      return calmFrames[at];
    };
    // The painted blink, checked with the engine once per process (slow on a busy machine), then
    // given this camera's own faint noise (new bytes; the lids stay shut: see blinkable()).
    const shut = async () => sensor(await (shutFrame ??= blinkable().then((c) => blinks.get(c[0], rng(2)))), r, 1.5);
    // Camera shake: zoomed in 4 % and cropped back to size, each showing of one video frame at
    // another offset on a 3 px grid (63 of them), so a frame shown twice is never one picture repeated.
    const shown = new Map<number, number>();
    const shake = async (i: number) => {
      const n = shown.get(i) ?? 0;
      shown.set(i, n + 1);
      const { W, H } = await dims(video[i]);
      const w = Math.round(W * 1.04), h = Math.round(H * 1.04);
      const across = Math.floor((w - W) / 3), down = Math.floor((h - H) / 3);
      const left = 3 * (n % across), top = 3 * (Math.floor(n / across) % down);
      return sharp(video[i]).resize(w, h).extract({ left, top, width: W, height: H }).jpeg({ quality: 95 }).toBuffer();
    };
    return {
      follow: async (action: ChallengeAction) => {
        queue.length = 0;
        if (action === 'blink') queue.push('blink');
        else queue.push(...every(paths[action], 2, 0));
      },
      next: async (): Promise<Buffer> => {
        const f = queue.shift() ?? straight();
        return f === 'blink' ? shut() : sensor(await shake(f), r, CAMERA_NOISE);
      },
    };
  }
  return { video, classified, base, yawOf, noseOf, shows, paths, blinkable, blinks, perform, window, camera };
}

// The citizen's camera for load benchmarks, and the face engine's raw-inference floor on the same
// frames. The camera: the shared selfie video's frames (the person enrolled from
// faces/lin_manuel_miranda/lin_manuel_miranda_1.png), in windows whose every frame passes capture
// quality, each frame through bench/pad-corpus.ts sensor() with its own noise (as bench/oidc.ts).
// The floor: the engine in this process with its model sessions tapped, as bench/engine.ts does:
// each frame's model calls recorded with their real input tensors, then replayed alone and timed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type ort from 'onnxruntime-node';
import sharp from 'sharp';
import type { BiometricsConfig } from '../../config/schema.ts';
import { createFaceEngine, type FaceEngine, type ImageAnalysis } from '../../src/biometrics/engine.ts';
import { splitMjpeg } from '../../src/biometrics/mjpeg.ts';
import { loadModels, modelNames, type ModelName, type ModelSet } from '../../src/biometrics/models.ts';
import { rng, sensor } from '../pad-corpus.ts';

export const VIDEO = 'video/lin_manuel_miranda_selfie.mjpeg';
export const ENROLLED = 'faces/lin_manuel_miranda/lin_manuel_miranda_1.png';

type Feeds = Record<string, ort.Tensor>;

/** The engine in this process, its sessions behind a tap that records each call's inputs while `recording`. */
export async function openTappedEngine(config: BiometricsConfig) {
  // One libvips thread, as in a pool worker.
  sharp.concurrency(1);
  const raw = await loadModels(config.modelsDir);
  const { tap, models } = tapModels(raw);
  const engine: FaceEngine = createFaceEngine(config, models);
  return { engine, tap, raw };
}

/**
 * The engine's models behind a tap that records every model call's input tensors (while
 * `recording` is on), so the floor can replay exactly the calls and inputs of each image.
 */
export function tapModels(models: ModelSet) {
  const tap = { recording: false, calls: [] as { name: ModelName; feeds: Feeds }[] };
  const sessions = Object.fromEntries(modelNames.map((name) => {
    const session = models.sessions[name];
    const wrapped = {
      inputNames: session.inputNames,
      outputNames: session.outputNames,
      run: (feeds: Feeds) => {
        if (tap.recording) tap.calls.push({ name, feeds });
        return session.run(feeds);
      },
    };
    return [name, wrapped as unknown as ort.InferenceSession];
  })) as ModelSet['sessions'];
  return { tap, models: { ...models, sessions } };
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] ?? NaN;

/**
 * The raw ONNX floor per frame on `frames`: each frame analysed once at capture grade with the
 * calls recorded, then `rounds` rounds alternating the whole engine and the replay of the calls
 * alone (so both see the same machine noise). Returns the medians (ms) over frames × rounds.
 */
export async function measureFloor(t: Awaited<ReturnType<typeof openTappedEngine>>, frames: Uint8Array[], rounds = 3) {
  const callsOf: { name: ModelName; feeds: Feeds }[][] = [];
  for (const f of frames) {
    t.tap.recording = true;
    t.tap.calls = [];
    await t.engine.analyze(f, { grade: 'capture' });
    t.tap.recording = false;
    callsOf.push(t.tap.calls);
  }
  const floors: number[] = [];
  const engine: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const f of frames) engine.push((await t.engine.analyze(f, { grade: 'capture' })).timings.total);
    for (const calls of callsOf) {
      let total = 0;
      for (const { name, feeds } of calls) {
        const t0 = performance.now();
        await t.raw.sessions[name].run(feeds);
        total += performance.now() - t0;
      }
      floors.push(total);
    }
  }
  return { floorMs: median(floors), engineMs: median(engine), callsPerFrame: callsOf.reduce((n, c) => n + c.length, 0) / Math.max(1, callsOf.length), samples: floors.length };
}

/** A unique JPEG comment segment (COM) after SOI: the same pixels, new bytes (the replay store hashes bytes). */
export function withComment(jpeg: Uint8Array, text: string): Buffer {
  const payload = Buffer.from(text, 'latin1');
  const head = Buffer.from([0xff, 0xfe, (payload.length + 2) >> 8, (payload.length + 2) & 0xff]);
  return Buffer.concat([jpeg.subarray(0, 2), head, payload, jpeg.subarray(2)]);
}

export type CameraOptions = { dataDir: string; seed: number; sigma?: number; framesPerCapture?: number; videoStep?: number };

/**
 * The video as the citizen's camera: `analyze` (the engine above) picks the windows of
 * framesPerCapture frames videoStep apart that all pass capture quality; captures(n) makes n
 * frame sets, each from a random window, each frame with its own sensor noise (seeded, so a run
 * can be repeated; never the same bytes twice).
 */
export async function videoCamera(analyze: (bytes: Uint8Array) => Promise<ImageAnalysis>, o: CameraOptions) {
  const perCapture = o.framesPerCapture ?? 8;
  const step = o.videoStep ?? 2;
  const sigma = o.sigma ?? 2;
  const video = splitMjpeg(readFileSync(join(o.dataDir, VIDEO))).map((f) => Buffer.from(f));
  const span = (perCapture - 1) * step + 1;
  if (video.length < span) throw new Error(`${VIDEO}: ${video.length} frames, fewer than ${span}`);
  const analysed: ImageAnalysis[] = [];
  for (const f of video) analysed.push(await analyze(f));
  const passes = analysed.map((a) => a.quality.ok && !!a.face);
  const windowAt = (from: number) => Array.from({ length: perCapture }, (_, k) => from + k * step);
  const starts = video.map((_, i) => i).filter((i) => i + span <= video.length && windowAt(i).every((k) => passes[k]));
  if (!starts.length) throw new Error(`${VIDEO}: no ${perCapture} frames ${step} apart all pass capture quality`);
  let made = 0;
  const one = async () => {
    const r = rng(o.seed * 1_000_003 + made++);
    const from = starts[Math.floor(r() * starts.length)];
    const set: Buffer[] = [];
    for (const k of windowAt(from)) set.push(await sensor(video[k], r, sigma));
    return set;
  };
  return {
    video, analysed, windows: starts.length, passQuality: passes.filter(Boolean).length,
    size: `${analysed[0].image.width}x${analysed[0].image.height}`, perCapture, step, sigma,
    /** `n` captures' frames, 4 made at a time. */
    async captures(n: number): Promise<Buffer[][]> {
      const out: Buffer[][] = [];
      for (let i = 0; i < n; i += 4) out.push(...(await Promise.all(Array.from({ length: Math.min(4, n - i) }, () => one()))));
      return out;
    },
  };
}

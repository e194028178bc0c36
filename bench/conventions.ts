// `npm run eval:conventions`: each three-channel model run in both colour plane orders on the
// shared data, with the measure that tells them apart (docs/calibration.md, "Model inputs"):
//   detect   - the face score on every single-face photo and video frame (higher: the order it knows)
//   feature  - genuine against impostor similarity on the photos and the video frames (the gap)
//   liveness - passive liveness on genuine photos and video frames (all live)
//   pose     - yaw of a picture and of its mirror image must cancel; yaw must follow the nose shift
// Last stdout line: JSON.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadConfig } from '../config/load.ts';
import { createFaceEngine, type ImageAnalysis } from '../src/biometrics/engine.ts';
import { cosineSimilarity } from '../src/biometrics/matcher.ts';
import { splitMjpeg } from '../src/biometrics/mjpeg.ts';
import { loadModels, type ModelName } from '../src/biometrics/models.ts';
import type { ChannelOrder } from '../src/biometrics/pixels.ts';
import { noseOffset } from '../src/capture/challenge.ts';
import type { Frames } from '../src/capture/checks.ts';

const dataDir = process.env.FACEGATE_TEST_DATA ?? join(import.meta.dirname, '..', '..', 'shared', 'data');
const config = loadConfig();
const models = await loadModels(config.biometrics.modelsDir);
const orders: ChannelOrder[] = ['rgb', 'bgr'];
const colour: ModelName[] = ['detect', 'feature', 'liveness', 'pose'];

/** An engine whose model `name` takes `order` (the others as the manifest says). */
const engineWith = (name: ModelName, order: ChannelOrder) => createFaceEngine(config.biometrics, {
  ...models, manifest: { ...models.manifest, models: { ...models.manifest.models, [name]: { ...models.manifest.models[name], channels: order } } },
});

const photos: Array<{ id: string; bytes: Buffer }> = [];
for (const id of readdirSync(join(dataDir, 'faces')).filter((d) => d !== '_group')) {
  for (const file of readdirSync(join(dataDir, 'faces', id))) photos.push({ id, bytes: readFileSync(join(dataDir, 'faces', id, file)) });
}
const video = splitMjpeg(readFileSync(join(dataDir, 'video', 'lin_manuel_miranda_selfie.mjpeg'))).map((f) => Buffer.from(f));
const mirrored = await Promise.all(video.map((b) => sharp(b).flop().jpeg({ quality: 95 }).toBuffer()));
const round = (x: number, k = 1000) => Math.round(x * k) / k;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const stats = (xs: number[]) => ({ n: xs.length, min: round(Math.min(...xs)), median: round([...xs].sort((a, b) => a - b)[xs.length >> 1]), max: round(Math.max(...xs)) });
function correlation(xs: number[], ys: number[]) {
  const mx = mean(xs), my = mean(ys);
  const cov = mean(xs.map((x, i) => (x - mx) * (ys[i] - my)));
  return cov / Math.sqrt(mean(xs.map((x) => (x - mx) ** 2)) * mean(ys.map((y) => (y - my) ** 2)));
}

const report: Record<string, Record<ChannelOrder, unknown>> = {};
for (const name of colour) {
  report[name] = {} as Record<ChannelOrder, unknown>;
  for (const order of orders) {
    const engine = engineWith(name, order);
    const run = async (bytes: Buffer) => (await engine.analyze(bytes, { grade: 'capture' })) as ImageAnalysis;
    const still = await Promise.all(photos.map(async (p) => ({ id: p.id, a: await run(p.bytes) })));
    const frames = await Promise.all(video.map(run));
    const withFace = still.filter((s) => s.a.face?.embedding);
    if (name === 'detect') {
      report[name][order] = { photos: stats(still.map((s) => s.a.faces[0]?.score ?? 0)), video: stats(frames.map((f) => f.faces[0]?.score ?? 0)), missed: still.filter((s) => !s.a.face).length + frames.filter((f) => !f.face).length };
    } else if (name === 'feature') {
      const genuine: number[] = [], impostor: number[] = [];
      for (let i = 0; i < withFace.length; i++) {
        for (let j = i + 1; j < withFace.length; j++) (withFace[i].id === withFace[j].id ? genuine : impostor).push(cosineSimilarity(withFace[i].a.face!.embedding!, withFace[j].a.face!.embedding!));
      }
      const reference = withFace.find((s) => s.id === 'lin_manuel_miranda')!.a.face!.embedding!;
      const videoGenuine = frames.filter((f) => f.face).map((f) => cosineSimilarity(f.face!.embedding!, reference));
      const videoImpostor = frames.filter((f) => f.face).flatMap((f) => withFace.filter((s) => s.id !== 'lin_manuel_miranda').map((s) => cosineSimilarity(f.face!.embedding!, s.a.face!.embedding!)));
      report[name][order] = {
        photos: { genuine: stats(genuine), impostor: stats(impostor), gap: round(Math.min(...genuine) - Math.max(...impostor)) },
        video: { genuine: stats(videoGenuine), impostor: stats(videoImpostor), gap: round(Math.min(...videoGenuine) - Math.max(...videoImpostor)) },
      };
    } else if (name === 'liveness') {
      report[name][order] = { photos: stats(withFace.map((s) => s.a.face!.liveness!)), video: stats(frames.filter((f) => f.face).map((f) => f.face!.liveness!)) };
    } else {
      const flipped = await Promise.all(mirrored.map(run));
      const pairs = frames.map((f, i) => [f, flipped[i]] as const).filter(([f, g]) => f.face && g.face);
      const ok = frames.filter((f) => f.face) as Frames;
      report[name][order] = {
        mirrorYawSumDeg: round(mean(pairs.map(([f, g]) => Math.abs(f.face!.pose.yaw + g.face!.pose.yaw))), 100),
        yawVsNoseCorrelation: round(correlation(ok.map((f) => f.face.pose.yaw), ok.map((f) => noseOffset(f)))),
        yawRangeDeg: [round(Math.min(...ok.map((f) => f.face.pose.yaw)), 10), round(Math.max(...ok.map((f) => f.face.pose.yaw)), 10)],
      };
    }
    process.stderr.write(`${name} ${order}: ${JSON.stringify(report[name][order])}\n`);
  }
}
process.stdout.write(`${JSON.stringify({ conventions: report, manifest: Object.fromEntries(colour.map((n) => [n, models.manifest.models[n].channels ?? 'rgb'])) })}\n`);
process.exit(0);

// Each three-channel model's input convention (models/manifest.json `channels`), pinned on real
// data against the other plane order: the embedding separates genuine from impostor frames of
// the selfie video only in BGR; passive liveness calls every genuine photo and video frame live
// only in BGR; the detector and the pose model answer alike either way (kept RGB, as the
// reference code feeds them). `npm run eval:conventions` prints the figures.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from '@jest/globals';
import { createFaceEngine, type FaceEngine, type ImageAnalysis } from '../../../src/biometrics/engine.ts';
import { cosineSimilarity } from '../../../src/biometrics/matcher.ts';
import { splitMjpeg } from '../../../src/biometrics/mjpeg.ts';
import type { ModelName } from '../../../src/biometrics/models.ts';
import type { ChannelOrder } from '../../../src/biometrics/pixels.ts';
import { dataDir, describeWithData } from '../../helpers/data.ts';
import { config, getEngine } from '../../helpers/engine.ts';

const other = (o: ChannelOrder): ChannelOrder => (o === 'rgb' ? 'bgr' : 'rgb');

describeWithData('model input conventions', () => {
  let engine: FaceEngine;
  let video: Buffer[];
  let photos: Array<{ id: string; bytes: Buffer }>;
  const swapped = (name: ModelName): FaceEngine => {
    const m = engine.models;
    const entry = m.manifest.models[name];
    return createFaceEngine(config.biometrics, { ...m, manifest: { ...m.manifest, models: { ...m.manifest.models, [name]: { ...entry, channels: other(entry.channels ?? 'rgb') } } } });
  };
  const analyzeAll = (e: FaceEngine, list: Buffer[]) => Promise.all(list.map((b) => e.analyze(b, { grade: 'capture' }) as Promise<ImageAnalysis>));

  beforeAll(async () => {
    engine = await getEngine();
    video = splitMjpeg(readFileSync(join(dataDir, 'video', 'lin_manuel_miranda_selfie.mjpeg'))).map((f) => Buffer.from(f));
    photos = readdirSync(join(dataDir, 'faces')).filter((d) => d !== '_group')
      .flatMap((id) => readdirSync(join(dataDir, 'faces', id)).map((file) => ({ id, bytes: readFileSync(join(dataDir, 'faces', id, file)) })));
  }, 60_000);

  it('the manifest says BGR for the embedding and liveness models, RGB for the detector and pose', () => {
    const channels = Object.fromEntries(Object.entries(engine.models.manifest.models).map(([k, v]) => [k, v.channels]));
    expect(channels).toMatchObject({ feature: 'bgr', liveness: 'bgr', detect: 'rgb', pose: 'rgb' });
    expect(engine.models.ids.feature).toMatch(/\+bgr$/);
  });

  /** Lowest genuine minus highest impostor: video frames against her registry photo and against the other identities' photos. */
  async function videoGap(e: FaceEngine) {
    const stills = (await analyzeAll(e, photos.map((p) => p.bytes))).map((a, i) => ({ id: photos[i].id, a })).filter((s) => s.a.face?.embedding);
    const reference = stills.find((s) => s.id === 'lin_manuel_miranda')!.a.face!.embedding!;
    const frames = (await analyzeAll(e, video)).filter((f) => f.face?.embedding);
    const genuine = frames.map((f) => cosineSimilarity(f.face!.embedding!, reference));
    const impostor = frames.flatMap((f) => stills.filter((s) => s.id !== 'lin_manuel_miranda').map((s) => cosineSimilarity(f.face!.embedding!, s.a.face!.embedding!)));
    return Math.min(...genuine) - Math.max(...impostor);
  }

  it('embedding: genuine video frames clear every impostor in the manifest order, and not in the other', async () => {
    const [ours, theirs] = [await videoGap(engine), await videoGap(swapped('feature'))];
    expect(ours).toBeGreaterThan(0.1); // measured 0.179 (BGR)
    expect(theirs).toBeLessThan(0); // measured -0.025 (RGB)
  }, 120_000);

  it('liveness: every genuine photo and video frame is live in the manifest order; the other order calls some of them attacks', async () => {
    const scores = async (e: FaceEngine) => (await analyzeAll(e, [...video, ...photos.map((p) => p.bytes)])).filter((a) => a.face).map((a) => a.face!.liveness!);
    const ours = await scores(engine);
    const theirs = await scores(swapped('liveness'));
    expect(Math.min(...ours)).toBeGreaterThan(0.9); // measured 0.96
    expect(Math.min(...theirs)).toBeLessThan(config.biometrics.liveness.threshold); // measured 0.007
  }, 120_000);

  it('detector and pose: either order gives the same answer, so the reference code\'s RGB stays', async () => {
    const sample = video.filter((_, i) => i % 4 === 0);
    const [a, b] = [await analyzeAll(engine, sample), await analyzeAll(swapped('detect'), sample)];
    a.forEach((x, i) => expect(Math.abs(x.faces[0].score - b[i].faces[0].score)).toBeLessThan(0.01));
    const c = await analyzeAll(swapped('pose'), sample);
    a.forEach((x, i) => expect(Math.abs(x.face!.pose.yaw - c[i].face!.pose.yaw)).toBeLessThan(3));
  }, 120_000);
});

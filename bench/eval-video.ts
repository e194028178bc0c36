// `npm run eval:video`: what each capture check says about the shared selfie video (frames passing
// quality, passive liveness, the match at each level, fixed and adaptive; frames that show each
// head turn from the most frontal frame), and the impostor scores by pose behind the adaptive
// threshold (docs/calibration.md). Last stdout line: JSON.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../config/load.ts';
import { openFaceEngine, type ImageAnalysis } from '../src/biometrics/engine.ts';
import { cosineSimilarity, levels } from '../src/biometrics/matcher.ts';
import { splitMjpeg } from '../src/biometrics/mjpeg.ts';
import { noseOffset } from '../src/capture/challenge.ts';
import type { Frames } from '../src/capture/checks.ts';
import { adaptiveThreshold, poseDeviation } from '../src/capture/threshold.ts';

type Frame = Frames[number];
const dataDir = process.env.FACEGATE_TEST_DATA ?? join(import.meta.dirname, '..', '..', 'shared', 'data');
const config = loadConfig();
const engine = await openFaceEngine(config.biometrics);
const analyze = async (bytes: Uint8Array) => (await engine.analyze(bytes, { grade: 'capture' })) as ImageAnalysis;

const registry = await engine.analyze(readFileSync(join(dataDir, 'faces', 'lin_manuel_miranda', 'lin_manuel_miranda_1.png')), { grade: 'enrollment' });
const frames: Frame[] = [];
for (const bytes of splitMjpeg(readFileSync(join(dataDir, 'video', 'lin_manuel_miranda_selfie.mjpeg')))) frames.push((await analyze(bytes)) as Frame);

const { liveness, match } = config.biometrics;
const { challenge } = config.capture;
const score = (f: Frame) => cosineSimilarity(f.face.embedding!, registry.face!.embedding!);
const count = (ok: (f: Frame) => boolean) => frames.filter(ok).length;
const base = frames.filter((f) => f.quality.ok).reduce((a, b) => (Math.abs(b.face.pose.yaw) < Math.abs(a.face.pose.yaw) ? b : a));
const yaw = (f: Frame) => f.face.pose.yaw - base.face.pose.yaw;
const nose = (f: Frame) => noseOffset(f) - noseOffset(base);
const turns = {
  turn_left: frames.filter((f) => yaw(f) <= -challenge.minYawChangeDeg && nose(f) >= challenge.minNoseShift),
  turn_right: frames.filter((f) => yaw(f) >= challenge.minYawChangeDeg && nose(f) <= -challenge.minNoseShift),
};
const round = (x: number, k = 1000) => Math.round(x * k) / k;
const video = {
  frames: frames.length,
  quality: count((f) => f.quality.ok),
  liveness: count((f) => (f.face.liveness ?? 0) >= liveness.threshold),
  match: Object.fromEntries(levels.map((level) => [level, {
    fixed: count((f) => score(f) >= match[level]),
    adaptive: count((f) => score(f) >= adaptiveThreshold(match[level], f, match.adaptive)),
  }])),
  neutralFrame: { index: frames.indexOf(base), yawDeg: round(base.face.pose.yaw, 10), noseOffset: round(noseOffset(base)) },
  turns: Object.fromEntries(Object.entries(turns).map(([action, fs]) => [action, {
    frames: fs.map((f) => frames.indexOf(f)),
    yawChangeDeg: [round(Math.min(...fs.map((f) => Math.abs(yaw(f)))), 10), round(Math.max(...fs.map((f) => Math.abs(yaw(f)))), 10)],
    noseShift: [round(Math.min(...fs.map((f) => Math.abs(nose(f))))), round(Math.max(...fs.map((f) => Math.abs(nose(f)))))],
  }])),
};

// Impostor pairs of the stills plus the video frames, by the worse pose of the two images.
const people: Array<{ id: string; f: Frame }> = frames.map((f) => ({ id: 'lin_manuel_miranda', f }));
for (const id of readdirSync(join(dataDir, 'faces')).filter((d) => d !== '_group')) {
  for (const file of readdirSync(join(dataDir, 'faces', id))) {
    const a = await analyze(readFileSync(join(dataDir, 'faces', id, file)));
    if (a.face?.embedding) people.push({ id, f: a as Frame });
  }
}
const bins: Record<string, number[]> = { 'pose<=20': [], 'pose>20': [] };
for (let i = 0; i < people.length; i++) {
  for (let j = i + 1; j < people.length; j++) {
    if (people[i].id === people[j].id) continue;
    const pose = Math.max(poseDeviation(people[i].f), poseDeviation(people[j].f));
    bins[pose <= 20 ? 'pose<=20' : 'pose>20'].push(cosineSimilarity(people[i].f.face.embedding!, people[j].f.face.embedding!));
  }
}
const tail = (xs: number[]) => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
  return { impostorPairs: xs.length, mean: round(m), sd: round(sd), highest: round(Math.max(...xs)), fmr1e4: round(m + 3.719 * sd), fmr1e5: round(m + 4.265 * sd) };
};
const impostorsByPose = Object.fromEntries(Object.entries(bins).map(([k, xs]) => [k, tail(xs)]));

process.stderr.write(`video: ${video.frames} frames; quality ${video.quality}, liveness ${video.liveness}, match substantial ${video.match.substantial.fixed} fixed / ${video.match.substantial.adaptive} adaptive, high ${video.match.high.fixed} / ${video.match.high.adaptive}\n`);
process.stderr.write(`turns from frame ${video.neutralFrame.index}: left ${turns.turn_left.length} frames, right ${turns.turn_right.length} frames\n`);
for (const [k, v] of Object.entries(impostorsByPose)) process.stderr.write(`impostors ${k}: ${JSON.stringify(v)}\n`);
process.stdout.write(`${JSON.stringify({ video, impostorsByPose })}\n`);
process.exit(0);

// `npm run bench:portrait [-- --renders N]`: calibrates the onboarding's document-vs-live match
// threshold (docs/onboarding.md). Documents are composed here (bench/portrait-document.ts) from
// the `faces/` photos, each rendered N times with other printing and photographing defects; the
// document side is the portrait as the flow reads it (largest face, `document` grade); the live
// side is the other photos of each identity through a camera's sensor noise (capture grade) and,
// for lin_manuel_miranda, the 44 frames of the selfie video. Genuine pairs: a document and a live
// image of the same identity, never the same photo; impostor pairs: different identities.
// Prints both distributions, the FMR target, the normal-tail and empirical candidates and the
// threshold they give (the larger, rounded up to 0.01). Last stdout line: one JSON object.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.ts';
import { openFaceEngine } from '../src/biometrics/engine.ts';
import { cosineSimilarity } from '../src/biometrics/matcher.ts';
import { splitMjpeg } from '../src/biometrics/mjpeg.ts';
import { rng, sensor } from './pad-corpus.ts';
import { composePrintedDocument } from './portrait-document.ts';

const { values } = parseArgs({ options: { renders: { type: 'string', default: '3' }, fmr: { type: 'string', default: '1e-5' } } });
const renders = Math.max(1, Number(values.renders));
const fmr = Number(values.fmr);
const dataDir = process.env.FACEGATE_TEST_DATA ?? join(import.meta.dirname, '..', '..', 'shared', 'data');
const config = loadConfig();
const engine = await openFaceEngine(config.biometrics);
// One photo per file: not the letterbox copies, the partial faces or the RGBA copy of obama_2.
const skip = /letterbox|partial|rgba/;
const identities = readdirSync(join(dataDir, 'faces')).filter((d) => !d.startsWith('_')).sort();
const photos = identities.flatMap((id) => readdirSync(join(dataDir, 'faces', id)).filter((f) => !skip.test(f)).sort().map((file) => ({ id, file, bytes: readFileSync(join(dataDir, 'faces', id, file)) })));
const mrzLines = ['P<UTOTESTER<<SAMPLE'.padEnd(44, '<'), 'X123456785UTO8001162M3101012<<<<<<<<<<<<<<<2']; // check digits hold (not read here)

type Side = { id: string; source: string; embedding: number[] };
const docs: Side[] = [], lives: Side[] = [];
let docMissed = 0, liveMissed = 0;
const r = rng(20261202);
for (const p of photos) {
  for (let k = 0; k < renders; k++) {
    const bytes = await composePrintedDocument({ portrait: p.bytes, lines: mrzLines, seed: 1000 + docs.length + docMissed });
    const a = await engine.analyze(bytes, { grade: 'document', liveness: false, embed: true });
    if (a.face?.embedding) docs.push({ id: p.id, source: p.file, embedding: a.face.embedding }); else docMissed++;
  }
  const a = await engine.analyze(await sensor(p.bytes, r), { grade: 'capture', liveness: false, embed: true });
  if (a.face?.embedding && a.quality.ok) lives.push({ id: p.id, source: p.file, embedding: a.face.embedding }); else liveMissed++;
}
const video = splitMjpeg(readFileSync(join(dataDir, 'video', 'lin_manuel_miranda_selfie.mjpeg')));
for (const [i, f] of video.entries()) {
  const a = await engine.analyze(f, { grade: 'capture', liveness: false, embed: true });
  // The flow matches a frame that passed the capture-grade gate (its most frontal one).
  if (a.face?.embedding && a.quality.ok) lives.push({ id: 'lin_manuel_miranda', source: `video#${i}`, embedding: a.face.embedding }); else liveMissed++;
}

const genuine: number[] = [], impostor: number[] = [];
for (const d of docs) for (const l of lives) {
  if (d.source === l.source) continue;
  (d.id === l.id ? genuine : impostor).push(cosineSimilarity(d.embedding, l.embedding));
}
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  const sd = Math.sqrt(s.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, s.length - 1));
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { n: s.length, min: s[0], p05: q(0.05), median: q(0.5), p95: q(0.95), max: s.at(-1)!, mean, sd };
};
const g = stats(genuine), im = stats(impostor);
// z(1 - FMR) for the normal tail: 1e-4 → 3.719, 1e-5 → 4.265.
const z = fmr <= 1e-5 ? 4.265 : fmr <= 1e-4 ? 3.719 : 3.09;
const normalTail = im.mean + z * im.sd;
const empirical = [...impostor].sort((a, b) => b - a)[Math.floor(fmr * impostor.length)] + 0.005;
const threshold = Math.ceil(Math.max(normalTail, empirical) * 100) / 100;
const at = (t: number) => ({ tar: genuine.filter((x) => x >= t).length / genuine.length, far: impostor.filter((x) => x >= t).length / impostor.length });
const f3 = (x: number) => x.toFixed(3);
const line = (name: string, s: ReturnType<typeof stats>) => `${name.padEnd(9)} n=${String(s.n).padStart(5)}  min ${f3(s.min)}  p05 ${f3(s.p05)}  median ${f3(s.median)}  p95 ${f3(s.p95)}  max ${f3(s.max)}  mean ${f3(s.mean)} sd ${f3(s.sd)}`;

console.log(`documents: ${docs.length} portraits from ${photos.length} photos × ${renders} renders (${docMissed} without a face); live: ${lives.length} images (${liveMissed} refused by the capture gate)`);
console.log(line('genuine', g));
console.log(line('impostor', im));
console.log(`FMR target ${fmr}: normal tail ${f3(normalTail)} (mean + ${z} sd), empirical ${f3(empirical)} (${impostor.length} impostor pairs: ${impostor.length * fmr < 3 ? 'too few to support the target alone' : 'enough'})`);
const chosen = at(threshold);
console.log(`threshold ${threshold.toFixed(2)}: TAR ${(100 * chosen.tar).toFixed(1)} %, FAR ${(100 * chosen.far).toFixed(2)} %; configured ${config.onboarding?.portraitThreshold ?? '-'}`);
console.log(JSON.stringify({ renders, fmr, documents: docs.length, live: lives.length, genuine: g, impostor: im, normalTail, empirical, threshold, at: chosen }));

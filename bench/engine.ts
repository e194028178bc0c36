// `npm run bench`: the face engine's cost on 640x480 JPEG selfies made from ../shared/data.
// Per-stage median/p95, end-to-end on one core against the raw ONNX floor measured in the same
// run, pool throughput on every core, and the same images through a peer (@vladmandic/face-api,
// WASM). Human-readable lines go to stderr; the last line on stdout is one JSON object.
import { once } from 'node:events';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type ort from 'onnxruntime-node';
import sharp from 'sharp';
import { loadConfig } from '../config/load.ts';
import { createFaceEngine, type Stage } from '../src/biometrics/engine.ts';
import { evaluatePairs, type ScoredPair } from '../src/biometrics/evaluation.ts';
import { cosineSimilarity } from '../src/biometrics/matcher.ts';
import { loadModels, modelNames, type ModelName } from '../src/biometrics/models.ts';
import { createEnginePool } from '../src/biometrics/pool.ts';
import { openPeer } from './peer-face-api.ts';
import { readFileSync } from 'node:fs';
import { splitMjpeg } from '../src/biometrics/mjpeg.ts';
import { tapModels } from './lib/frames.ts';
import { makeSelfies, type Selfie } from './selfies.ts';

// One libvips thread, as in a pool worker: the one-core figure must not borrow the second core.
sharp.concurrency(1);
const rounds = Number(process.env.BENCH_ROUNDS ?? 8);
const dataDir = process.env.FACEGATE_TEST_DATA ?? join(import.meta.dirname, '..', '..', 'shared', 'data');
const log = (line: string) => process.stderr.write(`${line}\n`);

const quantile = (values: number[], q: number) => {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const stats = (values: number[]) => ({ median: round(quantile(values, 0.5)), p95: round(quantile(values, 0.95)) });
const round = (v: number, d = 2) => Math.round(v * 10 ** d) / 10 ** d;

type Feeds = Record<string, ort.Tensor>;


function pairsOf<T extends { identity: string }>(items: T[], score: (a: T, b: T) => number | null): ScoredPair[] {
  const out: ScoredPair[] = [];
  for (let i = 0; i < items.length; i++) {
    for (let j = i + 1; j < items.length; j++) {
      const s = score(items[i], items[j]);
      if (s !== null) out.push({ genuine: items[i].identity === items[j].identity, score: s });
    }
  }
  return out;
}

/**
 * The raw ONNX floor on every core at once: `threads` worker threads (bench/lib/floor-worker.mjs)
 * replay the recorded model calls, `count` images in all, started together. What the pool's
 * throughput can be held to on this machine: cores that share caches and memory bandwidth do not
 * each infer as fast as one alone.
 */
async function parallelFloor(modelsDir: string, images: { name: ModelName; feeds: Feeds }[][], threads: number, count: number) {
  const plain = images.map((calls) => calls.map(({ name, feeds }) => ({
    name, feeds: Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, { type: t.type, dims: t.dims, data: t.data }])),
  })));
  const entry = new URL('./lib/floor-worker.mjs', import.meta.url);
  const workers = Array.from({ length: threads }, () => new Worker(entry, { workerData: { modelsDir, images: plain } }));
  try {
    // events.once rejects on the worker's 'error' event.
    await Promise.all(workers.map((w) => once(w, 'message')));
    const share = Math.ceil(count / threads);
    const t0 = performance.now();
    await Promise.all(workers.map((w) => { const done = once(w, 'message'); w.postMessage({ count: share }); return done; }));
    return { perSec: (share * threads) / ((performance.now() - t0) / 1000) };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

async function main() {
  const config = loadConfig();
  const raw = await loadModels(config.biometrics.modelsDir);
  const { tap, models } = tapModels(raw);
  const engine = createFaceEngine(config.biometrics, models);
  const selfies: Selfie[] = await makeSelfies(engine, dataDir);
  log(`${selfies.length} selfies 640x480 from ${dataDir}; ${rounds} rounds`);

  // Record each selfie's model calls with their real input tensors: the floor replays them.
  const callsOf = new Map<Selfie, { name: ModelName; feeds: Feeds }[]>();
  for (const s of selfies) {
    tap.recording = true;
    tap.calls = [];
    await engine.analyze(s.bytes);
    tap.recording = false;
    callsOf.set(s, tap.calls);
  }

  // Alternate end-to-end rounds with floor rounds so both see the same machine noise.
  const e2e: number[] = [];
  const stages: Partial<Record<Stage, number[]>> = {};
  const perModel: Partial<Record<ModelName, number[]>> = {};
  const floors: number[] = [];
  const embeddings = new Map<Selfie, number[]>();
  for (let r = 0; r < rounds; r++) {
    for (const s of selfies) {
      const a = await engine.analyze(s.bytes);
      e2e.push(a.timings.total);
      for (const [k, v] of Object.entries(a.timings)) if (k !== 'total') (stages[k as Stage] ??= []).push(v as number);
      if (a.face?.embedding) embeddings.set(s, a.face.embedding);
    }
    for (const s of selfies) {
      let total = 0;
      for (const { name, feeds } of callsOf.get(s)!) {
        const start = performance.now();
        await raw.sessions[name].run(feeds);
        const ms = performance.now() - start;
        (perModel[name] ??= []).push(ms);
        total += ms;
      }
      floors.push(total);
    }
  }
  const floor = quantile(floors, 0.5);
  const callsPerImage = Object.fromEntries(modelNames.map((n) => [n, callsOf.get(selfies[0])!.filter((c) => c.name === n).length]));
  const e2eStats = stats(e2e);
  log(`end-to-end one core: median ${e2eStats.median} ms, p95 ${e2eStats.p95} ms; raw ONNX floor ${round(floor)} ms (the same model calls on the same input tensors); ratio ${round(e2eStats.median / floor)}`);
  for (const [k, v] of Object.entries(stages)) log(`  ${k.padEnd(10)} median ${stats(v!).median} p95 ${stats(v!).p95}`);

  // Throughput: every core, a pool worker each, many requests in flight.
  const threads = availableParallelism();
  const pool = await createEnginePool(config.biometrics, threads);
  const requests = Math.max(200, selfies.length * 6);
  await Promise.all(selfies.map((s) => pool.analyze(s.bytes)));
  const t0 = performance.now();
  await Promise.all(Array.from({ length: requests }, (_, i) => pool.analyze(selfies[i % selfies.length].bytes)));
  const throughput = requests / ((performance.now() - t0) / 1000);
  await pool.close();
  const ideal = (threads * 1000) / floor;
  log(`throughput ${round(throughput, 1)}/s on ${threads} workers; ideal from the floor ${round(ideal, 1)}/s (${round((throughput / ideal) * 100, 1)}%); bound from our own one-core time ${round((threads * 1000) / e2eStats.median, 1)}/s`);
  const parallel = await parallelFloor(config.biometrics.modelsDir, selfies.map((s) => callsOf.get(s)!), threads, requests);
  log(`raw ONNX floor on ${threads} threads at once: ${round(parallel.perSec, 1)} images/s (${round(parallel.perSec / (1000 / floor), 2)}× one thread's ${round(1000 / floor, 1)}/s); the pool reaches ${round((throughput / parallel.perSec) * 100, 1)}% of it`);

  // A harder set for accuracy: the selfies plus the 44 frames of the real selfie video (turned,
  // occluded, recompressed) as more pictures of lin_manuel_miranda.
  const frames: Selfie[] = splitMjpeg(readFileSync(join(dataDir, 'video', 'lin_manuel_miranda_selfie.mjpeg')))
    .map((bytes, i) => ({ identity: 'lin_manuel_miranda', file: `video_frame_${i}`, bytes: Buffer.from(bytes) }));
  for (const f of frames) {
    const a = await engine.analyze(f.bytes, { liveness: false });
    if (a.face?.embedding) embeddings.set(f, a.face.embedding);
  }
  const hard = [...selfies, ...frames];
  const oursBy = (items: Selfie[]) => evaluatePairs(pairsOf(items, (a, b) => {
    const ea = embeddings.get(a), eb = embeddings.get(b);
    return ea && eb ? cosineSimilarity(ea, eb) : null;
  }), config.biometrics.match.substantial);
  const ours = oursBy(selfies);
  const oursHard = oursBy(hard);

  // The peer on the same images and pairs.
  const peer = await openPeer();
  const peerEmb = new Map<Selfie, Float32Array>();
  const peerMs: number[] = [];
  for (const s of selfies.slice(0, 3)) await peer.describe(s.bytes);
  for (let r = 0; r < Math.max(1, Math.floor(rounds / 4)); r++) {
    for (const s of selfies) {
      const p = await peer.describe(s.bytes);
      peerMs.push(p.ms);
      if (p.embedding) peerEmb.set(s, p.embedding);
    }
  }
  for (const f of frames) {
    const p = await peer.describe(f.bytes);
    if (p.embedding) peerEmb.set(f, p.embedding);
  }
  const theirsBy = (items: Selfie[]) => evaluatePairs(pairsOf(items, (a, b) => {
    const ea = peerEmb.get(a), eb = peerEmb.get(b);
    return ea && eb ? peer.similarity(ea, eb) : null;
  }), peer.threshold);
  const theirs = theirsBy(selfies);
  const theirsHard = theirsBy(hard);
  await peer.close();
  const peerStats = stats(peerMs);
  const pct = (v: number) => `${round(v * 100)}%`;
  const line = (name: string, e: typeof ours) => `${name} ${pct(e.accuracy)} on ${e.pairs} pairs at its threshold (TAR ${pct(e.tar)}, FAR ${pct(e.far)}); EER ${pct(e.eer)}, TAR at FAR 0 ${pct(e.tarAtZeroFar)}`;
  log(`peer ${peer.name}: median ${peerStats.median} ms/image; ours ${e2eStats.median} ms (${round(peerStats.median / e2eStats.median, 1)}x faster)`);
  log(`accuracy, selfies: ${line('ours', ours)}; ${line('peer', theirs)}`);
  log(`accuracy, selfies + video frames: ${line('ours', oursHard)}; ${line('peer', theirsHard)}`);
  const summary = (e: typeof ours) => ({
    threshold: e.threshold, pairs: e.pairs, accuracy: round(e.accuracy, 4), tar: round(e.tar, 4), far: round(e.far, 4), eer: round(e.eer, 4), tarAtZeroFar: round(e.tarAtZeroFar, 4),
  });

  const result = {
    images: selfies.length,
    imageSize: '640x480 jpeg q85',
    rounds,
    stagesMs: Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, stats(v!)])),
    endToEndMs: e2eStats,
    rawOnnxMsPerCall: Object.fromEntries(Object.entries(perModel).map(([k, v]) => [k, stats(v!)])),
    modelCallsPerImage: callsPerImage,
    floorMs: round(floor),
    endToEndOverFloor: round(e2eStats.median / floor),
    throughputPerSec: round(throughput, 1),
    workers: threads,
    idealPerSec: round(ideal, 1),
    throughputOfIdeal: round(throughput / ideal),
    parallelFloorPerSec: round(parallel.perSec, 1),
    throughputOfParallelFloor: round(throughput / parallel.perSec),
    ours: { selfies: summary(ours), selfiesAndVideo: summary(oursHard) },
    peer: { name: peer.name, msPerImage: peerStats, selfies: summary(theirs), selfiesAndVideo: summary(theirsHard) },
    speedupOverPeer: round(peerStats.median / e2eStats.median, 1),
    targets: {
      endToEndWithin1_5xFloor: e2eStats.median <= 1.5 * floor,
      throughputAtLeast80pctOfIdeal: throughput >= 0.8 * ideal,
      atLeast5xFasterThanPeer: peerStats.median >= 5 * e2eStats.median,
      // Accuracy at each system's own threshold mixes in where it puts its operating point, so
      // "equal or better" is judged threshold-free: EER and TAR at FAR 0, on both sets.
      accuracyAtLeastPeer: [[ours, theirs], [oursHard, theirsHard]].every(([o, p]) => o.eer <= p.eer && o.tarAtZeroFar >= p.tarAtZeroFar),
    },
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

await main();

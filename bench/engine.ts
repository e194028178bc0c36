// `npm run bench`: the face engine's cost on 640x480 JPEG selfies made from ../shared/data.
// Per-stage median/p95, end-to-end on one core against the raw ONNX floor measured in the same
// run, pool throughput on every core, and the same images through a peer (@vladmandic/face-api,
// WASM). Human-readable lines go to stderr; the last line on stdout is one JSON object.
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type ort from 'onnxruntime-node';
import sharp from 'sharp';
import { loadConfig } from '../config/load.ts';
import { createFaceEngine, type Stage } from '../src/biometrics/engine.ts';
import { evaluatePairs, type ScoredPair } from '../src/biometrics/evaluation.ts';
import { cosineSimilarity } from '../src/biometrics/matcher.ts';
import { loadModels, modelNames, type ModelName, type ModelSet } from '../src/biometrics/models.ts';
import { createEnginePool } from '../src/biometrics/pool.ts';
import { openPeer } from './peer-face-api.ts';
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

/**
 * The engine's models behind a tap that records every model call's input tensors (while
 * `recording` is on), so the floor can replay exactly the calls and inputs of each image.
 */
function tapModels(models: ModelSet) {
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

  // Accuracy of ours on the selfie pairs at the substantial threshold.
  const ours = evaluatePairs(pairsOf(selfies, (a, b) => {
    const ea = embeddings.get(a), eb = embeddings.get(b);
    return ea && eb ? cosineSimilarity(ea, eb) : null;
  }), config.biometrics.match.substantial);

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
  const theirs = evaluatePairs(pairsOf(selfies, (a, b) => {
    const ea = peerEmb.get(a), eb = peerEmb.get(b);
    return ea && eb ? peer.similarity(ea, eb) : null;
  }), peer.threshold);
  await peer.close();
  const peerStats = stats(peerMs);
  log(`peer ${peer.name}: median ${peerStats.median} ms/image; ours ${e2eStats.median} ms (${round(peerStats.median / e2eStats.median, 1)}x faster)`);
  log(`accuracy on ${ours.pairs} selfie pairs: ours ${round(ours.accuracy * 100)}% (TAR ${round(ours.tar * 100)}%, FAR ${round(ours.far * 100)}%), peer ${round(theirs.accuracy * 100)}% on ${theirs.pairs} pairs (TAR ${round(theirs.tar * 100)}%, FAR ${round(theirs.far * 100)}%)`);

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
    ours: { threshold: ours.threshold, pairs: ours.pairs, accuracy: round(ours.accuracy, 4), tar: round(ours.tar, 4), far: round(ours.far, 4), eer: round(ours.eer, 4) },
    peer: { name: peer.name, msPerImage: peerStats, threshold: peer.threshold, pairs: theirs.pairs, accuracy: round(theirs.accuracy, 4), tar: round(theirs.tar, 4), far: round(theirs.far, 4), eer: round(theirs.eer, 4) },
    speedupOverPeer: round(peerStats.median / e2eStats.median, 1),
    targets: {
      endToEndWithin1_5xFloor: e2eStats.median <= 1.5 * floor,
      throughputAtLeast80pctOfIdeal: throughput >= 0.8 * ideal,
      atLeast5xFasterThanPeer: peerStats.median >= 5 * e2eStats.median,
      accuracyAtLeastPeer: ours.accuracy >= theirs.accuracy,
    },
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

await main();

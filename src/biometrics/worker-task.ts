// Runs inside one pool worker: opens the engine once (models loaded, checksums verified) and
// answers analyze requests. Errors cross the thread boundary as plain { code, message } objects.
import sharp from 'sharp';
import { workerData } from 'node:worker_threads';
import type { BiometricsConfig } from '../../config/schema.ts';
import { isAppError } from '../shared/errors.ts';
import { openFaceEngine, type AnalyzeOptions, type FaceEngine } from './engine.ts';

export type TaskRequest = { warm: true } | { bytes: Uint8Array; options?: AnalyzeOptions };

// One libvips thread per worker: the pool already uses every core.
sharp.concurrency(1);
sharp.cache(false);

let engine: Promise<FaceEngine> | undefined;

export async function createTask(request: TaskRequest) {
  engine ??= openFaceEngine((workerData as { config: BiometricsConfig }).config);
  const ready = await engine; // a model that fails to load rejects the task, not just this request
  if ('warm' in request) return { ok: true as const };
  try {
    return { ok: true as const, analysis: await ready.analyze(request.bytes, request.options) };
  } catch (err) {
    if (isAppError(err)) return { ok: false as const, error: { code: err.code, message: err.message, details: err.details } };
    throw err;
  }
}

/** The pool task itself (what a bundled worker entry exports: scripts/build.mjs). */
export default createTask;

// A pool of worker threads, each with its own engine, so face analysis never blocks the event
// loop. Sized to the cores by default; the same analyze() contract as the in-thread engine.
import { workerEntry } from '../../config/root.ts';
import { Piscina } from 'piscina';
import type { BiometricsConfig } from '../../config/schema.ts';
import { AppError, type ErrorCode } from '../shared/errors.ts';
import type { AnalyzeOptions, ImageAnalysis } from './engine.ts';
import { verifyModels } from './models.ts';

export interface FaceAnalyzer {
  analyze(bytes: Uint8Array, options?: AnalyzeOptions): Promise<ImageAnalysis>;
  close(): Promise<void>;
}

type TaskResult =
  | { ok: true; analysis: ImageAnalysis }
  | { ok: false; error: { code: ErrorCode; message: string; details: Record<string, unknown> } };

export async function createEnginePool(config: BiometricsConfig, threads = config.workers): Promise<FaceAnalyzer> {
  verifyModels(config.modelsDir); // fail fast, on this thread, with the file's name
  const pool = new Piscina({
    filename: workerEntry('biometrics', 'face-worker.mjs'),
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: Infinity,
    workerData: { config },
  });
  // Warm every worker (model load) before the first request is served.
  const warm = await Promise.allSettled(Array.from({ length: threads }, () => pool.run({ warm: true })));
  const failed = warm.find((r) => r.status === 'rejected');
  if (failed) {
    await pool.destroy();
    throw (failed as PromiseRejectedResult).reason;
  }
  return {
    async analyze(bytes, options) {
      const result = (await pool.run({ bytes, options })) as TaskResult;
      if (!result.ok) throw new AppError(result.error.code, result.error.message, result.error.details);
      return result.analysis;
    },
    // Lets analyses already running finish (a worker stopped mid-inference aborts the process).
    close: () => pool.close(),
  };
}

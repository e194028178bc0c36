// Document reading off the event loop: a small pool of worker threads, each with its own OCR
// model and face engine (reading one document takes a few hundred milliseconds of CPU to a few
// seconds when it retries). The same read() contract as the in-thread reader.
import { workerEntry } from '../../config/root.ts';
import { Piscina } from 'piscina';
import type { BiometricsConfig } from '../../config/schema.ts';
import { verifyModels } from '../biometrics/models.ts';
import { AppError, type ErrorCode } from '../shared/errors.ts';
import type { DocumentReport, ReadDocumentOptions } from './document.ts';
import type { OcrEngineName } from './ocr.ts';

export interface DocumentReaderPool {
  read(bytes: Uint8Array, options?: ReadDocumentOptions): Promise<DocumentReport>;
  close(): Promise<void>;
}

type TaskResult =
  | { ok: true; report: DocumentReport }
  | { ok: false; error: { code: ErrorCode; message: string; details: Record<string, unknown> } };

export async function createDocumentReaderPool(config: BiometricsConfig, options: { threads?: number; ocr?: OcrEngineName } = {}): Promise<DocumentReaderPool> {
  verifyModels(config.modelsDir); // fail fast, on this thread, with the file's name
  const threads = options.threads ?? 1;
  const pool = new Piscina({
    filename: workerEntry('onboarding', 'document-worker.mjs'),
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: Infinity,
    workerData: { config, ocr: options.ocr ?? 'paddle' },
  });
  const warm = await Promise.allSettled(Array.from({ length: threads }, () => pool.run({ warm: true })));
  const failed = warm.find((r) => r.status === 'rejected');
  if (failed) {
    await pool.destroy();
    throw (failed as PromiseRejectedResult).reason;
  }
  return {
    async read(bytes, opts = {}) {
      const { today, ...rest } = opts;
      const result = (await pool.run({ bytes, options: { ...rest, today: today?.toISOString() } })) as TaskResult;
      if (!result.ok) throw new AppError(result.error.code, result.error.message, result.error.details);
      return result.report;
    },
    close: () => pool.close(),
  };
}

// Runs inside one document-reader worker: opens the reader once (OCR model and face engine) and
// answers read requests. Errors cross the thread boundary as plain { code, message } objects.
import sharp from 'sharp';
import { workerData } from 'node:worker_threads';
import type { BiometricsConfig } from '../../config/schema.ts';
import { isAppError } from '../shared/errors.ts';
import { openDocumentReader, type DocumentReader, type ReadDocumentOptions } from './document.ts';
import type { OcrEngineName } from './ocr.ts';

export type ReadRequest = { warm: true } | { bytes: Uint8Array; options?: Omit<ReadDocumentOptions, 'today'> & { today?: string } };

// One libvips thread per worker: the pool already uses every core it is given.
sharp.concurrency(1);
sharp.cache(false);

let reader: Promise<DocumentReader> | undefined;

export async function readTask(request: ReadRequest) {
  const { config, ocr } = workerData as { config: BiometricsConfig; ocr: OcrEngineName };
  reader ??= openDocumentReader(config, { ocr });
  const ready = await reader; // a model that fails to load rejects the task, not just this request
  if ('warm' in request) return { ok: true as const };
  try {
    const { today, ...rest } = request.options ?? {};
    return { ok: true as const, report: await ready.read(request.bytes, { ...rest, today: today ? new Date(today) : undefined }) };
  } catch (err) {
    if (isAppError(err)) return { ok: false as const, error: { code: err.code, message: err.message, details: err.details } };
    throw err;
  }
}

/** The pool task itself (what a bundled worker entry exports: scripts/build.mjs). */
export default readTask;

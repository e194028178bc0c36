// Reading an identity document from one picture: its machine-readable zone (reader.ts) and its
// printed portrait (the face engine, at the `document` quality grade). Runs the same in a worker
// (pool.ts), the CLI and a test; must not import koa, knex or anything above onboarding/.
//
// Outcomes: a read whose check digits all hold (`valid`); a read that most check digits support
// but not all (`valid: false`, refused as mrz_check_failed by documentRefusal); or nothing that
// most check digits support: mrz_not_found, thrown, never a made-up read.
import sharp from 'sharp';
import type { BiometricsConfig } from '../../config/schema.ts';
import { decodeImage } from '../biometrics/decode.ts';
import { openFaceEngine, type FaceEngine } from '../biometrics/engine.ts';
import type { Box } from '../biometrics/geometry.ts';
import type { QualityResult } from '../biometrics/quality.ts';
import { AppError } from '../shared/errors.ts';
import { grayOf } from './gray.ts';
import type { DocumentChecks, DocumentFields } from './mrz.ts';
import { openPaddleRecognizer } from './ocr-paddle.ts';
import type { LineRecognizer, OcrEngineName } from './ocr.ts';
import { isPlausible, searchMrz, type ReadAttempts } from './reader.ts';

/** Long side of the picture the MRZ is read from (larger pictures are shrunk on load). */
export const DOCUMENT_WORKING_SIDE = 2400;

export interface DocumentPortrait {
  /** The portrait's face box in the picture's pixels (as sent, after EXIF rotation). */
  box: Box;
  quality: QualityResult;
  /** The face's embedding, when asked for (to compare with a live capture). */
  embedding?: number[];
}

export interface DocumentReport {
  format: string;
  fields: DocumentFields;
  checks: DocumentChecks;
  /** Every check digit holds and every field is well formed. */
  valid: boolean;
  /** Past its expiry date (UTC); null when the expiry date is not known for sure. */
  expired: boolean | null;
  portrait: DocumentPortrait | null;
  /** The zone's lines as read (after the parser's corrections). */
  lines: string[];
  /** What is wrong with the read when it is not valid (the parser's words). */
  problems: string[];
  ocr: { engine: OcrEngineName } & ReadAttempts;
}

export interface ReadDocumentOptions {
  /** The day expiry is judged on (default: now). */
  today?: Date;
  /** Compute the portrait's embedding (default false). */
  embed?: boolean;
  /** Skip the portrait (default false). */
  portrait?: boolean;
}

export interface DocumentReader {
  readonly engine: OcrEngineName;
  read(bytes: Uint8Array, options?: ReadDocumentOptions): Promise<DocumentReport>;
  close(): Promise<void>;
}

/**
 * An OCR engine. PaddleOCR's recogniser is the one in use (bench/documents.ts); Tesseract, the
 * one measured against it, is a development dependency, loaded only when asked for.
 */
export async function openRecognizer(engine: OcrEngineName): Promise<LineRecognizer> {
  if (engine !== 'tesseract') return openPaddleRecognizer();
  try {
    const { openTesseractRecognizer } = await import('./ocr-tesseract.ts');
    return await openTesseractRecognizer();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') {
      throw new AppError('invalid_input', 'the tesseract OCR engine is a development dependency (npm install without --omit=dev)');
    }
    throw err;
  }
}

/**
 * A reader with its own OCR engine (PaddleOCR's recogniser by default) and face engine (opened
 * here unless given).
 */
export async function openDocumentReader(
  config: BiometricsConfig,
  options: { ocr?: OcrEngineName; faceEngine?: FaceEngine | Promise<FaceEngine> } = {},
): Promise<DocumentReader> {
  const recognizer = await openRecognizer(options.ocr ?? 'paddle');
  let faces: Promise<FaceEngine> | undefined = options.faceEngine ? Promise.resolve(options.faceEngine) : undefined;
  const faceEngine = () => (faces ??= openFaceEngine(config));
  const limits = { ...config.image, workingMaxSide: DOCUMENT_WORKING_SIDE };

  async function read(bytes: Uint8Array, opts: ReadDocumentOptions = {}): Promise<DocumentReport> {
    const img = await decodeImage(bytes, limits);
    const { read: mrz, attempts } = await searchMrz(grayOf(img), recognizer, { today: opts.today });
    if (!mrz || !isPlausible(mrz)) {
      throw new AppError('mrz_not_found', mrz
        ? `no machine-readable zone was read: the best reading (${mrz.format}) has ${mrz.checksPassed} of ${mrz.checksTotal} check digits holding`
        : 'no machine-readable zone was found in the picture', { passes: attempts.passes });
    }
    const portrait = opts.portrait === false ? null : await findPortrait(await faceEngine(), bytes, opts.embed ?? false);
    return {
      format: mrz.format,
      fields: mrz.fields,
      checks: mrz.checks,
      valid: mrz.valid,
      expired: mrz.expired,
      portrait,
      lines: mrz.lines,
      problems: mrz.problems,
      ocr: { engine: recognizer.engine, ...attempts },
    };
  }

  return {
    engine: recognizer.engine,
    read,
    async close() { await recognizer.close(); },
  };
}

/** The document's portrait: its largest face, with the document grade's quality (no liveness: it is a print). */
export async function findPortrait(engine: FaceEngine, bytes: Uint8Array, embed: boolean): Promise<DocumentPortrait | null> {
  const a = await engine.analyze(bytes, { grade: 'document', liveness: false, embed });
  if (!a.face) return null;
  return { box: a.face.box, quality: a.quality, ...(embed && a.face.embedding ? { embedding: a.face.embedding } : {}) };
}

/** The portrait cut out of the picture (its box grown by half on each side), as JPEG. */
export async function cropPortrait(bytes: Uint8Array, box: Box): Promise<Buffer> {
  const img = sharp(bytes).rotate();
  const meta = await sharp(bytes).metadata();
  const rotated = (meta.orientation ?? 1) >= 5;
  const W = (rotated ? meta.height : meta.width) ?? 0, H = (rotated ? meta.width : meta.height) ?? 0;
  const w = box.x2 - box.x1, h = box.y2 - box.y1;
  const left = Math.max(0, Math.floor(box.x1 - w / 2)), top = Math.max(0, Math.floor(box.y1 - h / 2));
  const right = Math.min(W, Math.ceil(box.x2 + w / 2)), bottom = Math.min(H, Math.ceil(box.y2 + h / 2));
  return img.extract({ left, top, width: Math.max(1, right - left), height: Math.max(1, bottom - top) }).jpeg({ quality: 92 }).toBuffer();
}

/**
 * Why a read document cannot be used, if it cannot: check digits that do not hold
 * (mrz_check_failed), then an expiry date in the past (document_expired).
 */
export function documentRefusal(report: Pick<DocumentReport, 'valid' | 'expired' | 'checks' | 'format'>): AppError | null {
  if (!report.valid) {
    const failed = Object.entries(report.checks).filter(([, ok]) => ok === false).map(([name]) => name);
    return new AppError('mrz_check_failed', failed.length
      ? `the ${report.format} zone was read but these check digits do not hold: ${failed.join(', ')}`
      : `the ${report.format} zone was read but a field is not well formed`, { failed });
  }
  if (report.expired) return new AppError('document_expired');
  return null;
}

// What the MRZ reader asks of an OCR engine: read straightened single-line crops, restricted to
// the MRZ alphabet (A-Z, 0-9, <). Two engines implement it (ocr-paddle.ts, ocr-tesseract.ts);
// both run from files installed by npm, nothing is fetched at run time.
import type { Gray } from './gray.ts';

export const MRZ_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<';

export type OcrEngineName = 'paddle' | 'tesseract';
export const ocrEngines: readonly OcrEngineName[] = ['paddle', 'tesseract'];

export interface LineRead {
  /** The engine's reading, in the MRZ alphabet only. */
  text: string;
  /** Mean confidence of its characters, 0..1. */
  confidence: number;
  /**
   * The most likely reading with exactly `n` characters, each from the characters `allowed` at
   * its position when given, when the engine can say (a CTC model's posteriors); null when it
   * cannot.
   */
  withLength?(n: number, allowed?: readonly string[]): string | null;
}

export interface LineRecognizer {
  readonly engine: OcrEngineName;
  /** The height (pixels) of the print in the crops it wants, and the margin (in print heights). */
  readonly textHeight: number;
  readonly pad: number;
  read(lines: readonly Gray[]): Promise<LineRead[]>;
  close(): Promise<void>;
}

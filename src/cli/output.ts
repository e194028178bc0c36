// How every CLI command reports: JSON with --json, short text otherwise; errors always carry a
// stable code and set a non-zero exit status.
import { readFile } from 'node:fs/promises';
import { AppError, toAppError } from '../shared/errors.ts';

export interface OutputOptions { json?: boolean }

export function print(options: OutputOptions, value: unknown, text: () => string): void {
  process.stdout.write(options.json ? `${JSON.stringify(value)}\n` : `${text()}\n`);
}

export function fail(err: unknown, json: boolean): never {
  const e = toAppError(err);
  if (json) process.stdout.write(`${JSON.stringify({ error: { code: e.code, message: e.message } })}\n`);
  process.stderr.write(`error ${e.code}: ${e.message}\n`);
  process.exit(1);
}

export async function readInput(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR') throw new AppError('file_not_found', `${path}: no such file`);
    throw err;
  }
}

export const fixed = (v: number | null | undefined, digits = 3): string => (v == null || Number.isNaN(v) ? '-' : v.toFixed(digits));
export const percent = (v: number): string => `${(v * 100).toFixed(2)}%`;

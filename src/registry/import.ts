// Bulk import of the citizen registry from a CSV and a folder of reference photos: each row is
// enrolled on its own, a few at a time. Must not import koa or oidc-provider.
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import { pipeline } from 'node:stream';
import { parse, type Options } from 'csv-parse';
import { AppError, isAppError, type ErrorCode } from '../shared/errors.ts';
import { findCitizenByNationalId, isSameRecord, parseCitizenInput, type Change, type CitizenInput } from './citizens.ts';
import type { RegistryActor } from './changes.ts';
import { enrollCitizen, type EnrollDeps } from './enroll.ts';
import { hasTemplate } from './templates.ts';

/** The columns a registry CSV header must name (in any order; other columns are ignored). */
export const registryColumns = ['national_id', 'given_name', 'family_name', 'birthdate', 'address', 'photo'] as const;

/** Enrollment dependencies plus the id of the embedding model the analyzer uses now. */
export interface ImportDeps extends EnrollDeps {
  /** From `embeddingModelIdFromManifest`: a row whose template is for this model can be skipped. */
  modelId: string;
}

export interface ImportOptions {
  csvPath: string;
  /** Folder the `photo` column is relative to; a path leaving it is refused. */
  photosDir: string;
  /** Called after each row with the rows done and the total. */
  onProgress?: (done: number, total: number) => void;
  /** Rows in flight at once (face analysis is the bottleneck); default 4. */
  concurrency?: number;
  /** Photos larger than this are refused without being read (image_too_large). */
  maxPhotoBytes?: number;
  /** Re-analyze every row, even those already enrolled with the current model. */
  force?: boolean;
  /** Who imports, for the audit trail (one event per citizen created or changed). */
  by: RegistryActor;
}

/** Codes of a rejected row: the catalogue's, plus a national ID seen earlier in the same file. */
export type RejectionCode = ErrorCode;

export interface RejectedRow { line: number; nationalId?: string; code: RejectionCode; message: string }

export interface ImportSummary {
  total: number;
  created: number;
  updated: number;
  unchanged: number;
  /** Ordered by line. */
  rejected: RejectedRow[];
}

type Row = Partial<Record<(typeof registryColumns)[number], string>>;
type Parsed = { record: Row; info: { lines: number } };

const csvOptions: Options = {
  bom: true,
  trim: true,
  skip_empty_lines: true,
  relax_column_count: true,
  info: true,
  columns: (header: string[]) => {
    const names = header.map((h) => h.trim().toLowerCase());
    const missing = registryColumns.filter((c) => !names.includes(c));
    if (missing.length) throw new AppError('invalid_input', `registry CSV: missing column(s) ${missing.join(', ')}; expected header ${registryColumns.join(',')}`);
    return names;
  },
};

async function* readRows(path: string): AsyncGenerator<Parsed> {
  try {
    const parser = parse(csvOptions);
    // pipeline (unlike pipe) passes a read error, such as ENOENT, on to the parser and so to this loop.
    pipeline(createReadStream(path), parser, () => {});
    for await (const row of parser) yield row as Parsed;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR') throw new AppError('file_not_found', `${path}: no such file`);
    if (isAppError(err)) throw err;
    // csv-parse wraps an exception thrown by the columns function.
    const cause = (err as { cause?: unknown }).cause;
    if (isAppError(cause)) throw cause;
    throw new AppError('invalid_input', `${path}: ${(err as Error).message}`);
  }
}

/** The photo's absolute path; refuses an empty name or one that leaves the photos folder. */
function photoPath(photosDir: string, photo: string | undefined): string {
  if (!photo) throw new AppError('invalid_input', 'photo: a file name is required');
  const root = resolve(photosDir);
  const path = resolve(root, photo);
  const rel = relative(root, path);
  if (!rel || rel.startsWith('..') || isAbsolute(rel) || isAbsolute(photo)) {
    throw new AppError('invalid_input', 'photo: the path must stay inside the photos folder');
  }
  return path;
}

async function checkPhoto(path: string, maxBytes: number): Promise<void> {
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile()) throw new AppError('file_not_found', 'photo: no such file in the photos folder');
  if (info.size > maxBytes) throw new AppError('image_too_large', `photo: ${info.size} bytes, at most ${maxBytes} allowed`);
}

/** Enrolls one validated row, or answers 'unchanged' without face work when nothing would change. */
async function importRow(deps: ImportDeps, opts: ImportOptions, input: CitizenInput, photo: string | undefined): Promise<Change> {
  const path = photoPath(opts.photosDir, photo);
  // A missing photo is an error of the file, whatever the database already holds.
  await checkPhoto(path, opts.maxPhotoBytes ?? Infinity);
  if (!opts.force) {
    const existing = await findCitizenByNationalId(deps.db, input.nationalId);
    if (existing && isSameRecord(existing, input) && await hasTemplate(deps.db, existing.id, deps.modelId)) return 'unchanged';
  }
  const bytes = await readFile(path).catch(() => {
    throw new AppError('file_not_found', 'photo: no such file in the photos folder');
  });
  // An import is the registry's own source: it updates the citizens it names (record and template), explicitly.
  return (await enrollCitizen(deps, input, bytes, { replace: true, by: opts.by })).change;
}

async function countRows(path: string): Promise<number> {
  let n = 0;
  for await (const _ of readRows(path)) n++;
  return n;
}

/**
 * Imports a registry CSV (header `national_id,given_name,family_name,birthdate,address,photo`).
 * Rows are independent: a bad one is reported and the others go on. A national ID seen earlier in
 * the file is rejected (`duplicate_national_id`), even if the earlier row was rejected too.
 * Creates or updates the citizens it names; each change is audited (`registry.citizen_created`,
 * `registry.citizen_updated`, `registry.template_replaced`) with `opts.by`.
 * Idempotent: a re-run reports enrolled rows as 'unchanged' without running the face model.
 * Throws only for the file as a whole (`file_not_found`, `invalid_input` for a bad header).
 */
export async function importRegistry(deps: ImportDeps, opts: ImportOptions): Promise<ImportSummary> {
  const summary: ImportSummary = { total: 0, created: 0, updated: 0, unchanged: 0, rejected: [] };
  const total = opts.onProgress ? await countRows(opts.csvPath) : 0;
  const limit = Math.max(1, opts.concurrency ?? 4);
  const firstLine = new Map<string, number>();
  const inFlight = new Set<Promise<void>>();
  let done = 0;
  const finish = (outcome: Change | RejectedRow) => {
    if (typeof outcome === 'string') summary[outcome]++;
    else summary.rejected.push(outcome);
    opts.onProgress?.(++done, Math.max(total, done));
  };
  const reject = (line: number, nationalId: string | undefined, err: unknown): RejectedRow => {
    const e = isAppError(err) ? err : new AppError('internal_error', err instanceof Error ? err.message : String(err));
    return { line, ...(nationalId ? { nationalId } : {}), code: e.code, message: e.message };
  };

  try {
    for await (const { record, info } of readRows(opts.csvPath)) {
      const line = info.lines;
      summary.total++;
      let input: CitizenInput;
      try {
        input = parseCitizenInput({
          nationalId: record.national_id, givenName: record.given_name, familyName: record.family_name,
          birthdate: record.birthdate, address: record.address,
        }, deps.clock);
      } catch (err) {
        finish(reject(line, record.national_id?.toUpperCase() || undefined, err));
        continue;
      }
      // Claimed in file order, before any asynchronous work, so the outcome does not depend on timing.
      const first = firstLine.get(input.nationalId);
      if (first !== undefined) {
        finish({ line, nationalId: input.nationalId, code: 'duplicate_national_id', message: `national ID already on line ${first}` });
        continue;
      }
      firstLine.set(input.nationalId, line);
      const task: Promise<void> = importRow(deps, opts, input, record.photo)
        .then(finish, (err) => finish(reject(line, input.nationalId, err)))
        .finally(() => inFlight.delete(task));
      inFlight.add(task);
      if (inFlight.size >= limit) await Promise.race(inFlight);
    }
  } finally {
    // Also when the CSV breaks off mid-file: no row may still be writing once this returns.
    await Promise.allSettled(inFlight);
  }
  summary.rejected.sort((a, b) => a.line - b.line);
  return summary;
}

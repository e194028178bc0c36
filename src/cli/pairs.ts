// Labelled pairs for `eval` and `calibrate`: the CSV format (file_x,file_y,Decision), a pair list
// made from a folder-per-identity tree, and scoring every image once through the engine pool.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse } from 'csv-parse/sync';
import cliProgress from 'cli-progress';
import type { ScoredPair } from '../biometrics/evaluation.ts';
import { cosineSimilarity } from '../biometrics/matcher.ts';
import type { FaceAnalyzer } from '../biometrics/pool.ts';
import { AppError, isAppError } from '../shared/errors.ts';

export interface LabelledPair { x: string; y: string; genuine: boolean }

export function readPairsCsv(path: string): LabelledPair[] {
  let rows: Record<string, string>[];
  try {
    rows = parse(readFileSync(path, 'utf8'), { columns: true, skip_empty_lines: true, trim: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new AppError('file_not_found', `${path}: no such file`);
    throw new AppError('invalid_input', `${path}: ${(err as Error).message}`);
  }
  return rows.map((row, i) => {
    const { file_x: x, file_y: y, Decision: decision } = row;
    if (!x || !y || (decision !== 'Yes' && decision !== 'No')) {
      throw new AppError('invalid_input', `${path} row ${i + 2}: expected file_x,file_y,Decision with Decision Yes or No`);
    }
    return { x, y, genuine: decision === 'Yes' };
  });
}

/** Every pair of images under `dir`, one folder per identity; folders starting with `_` are skipped. */
export function pairsFromFolders(dir: string): LabelledPair[] {
  const images = readdirSync(dir)
    .filter((d) => !d.startsWith('_') && !d.startsWith('.') && statSync(join(dir, d)).isDirectory())
    .flatMap((d) => readdirSync(join(dir, d)).filter((f) => /\.(jpe?g|png|webp)$/i.test(f)).map((f) => ({ id: d, file: relative(dir, join(dir, d, f)) })));
  const pairs: LabelledPair[] = [];
  for (let i = 0; i < images.length; i++) {
    for (let j = i + 1; j < images.length; j++) pairs.push({ x: images[i].file, y: images[j].file, genuine: images[i].id === images[j].id });
  }
  return pairs;
}

export function pairsToCsv(pairs: readonly LabelledPair[]): string {
  return ['file_x,file_y,Decision', ...pairs.map((p) => `${p.x},${p.y},${p.genuine ? 'Yes' : 'No'}`)].join('\n') + '\n';
}

export interface PairScores {
  scored: (ScoredPair & LabelledPair)[];
  /** Images with no usable face (or unreadable), with the reason code. */
  unusable: { file: string; code: string }[];
  skippedPairs: number;
}

/** Embeds every distinct image once (in parallel on the pool) and scores each pair by cosine similarity. */
export async function scorePairs(analyzer: FaceAnalyzer, pairs: readonly LabelledPair[], imagesDir: string, progress: boolean): Promise<PairScores> {
  const files = [...new Set(pairs.flatMap((p) => [p.x, p.y]))];
  const bar = progress ? new cliProgress.SingleBar({ stream: process.stderr, format: 'embedding {bar} {value}/{total} images' }, cliProgress.Presets.shades_classic) : undefined;
  bar?.start(files.length, 0);
  const embeddings = new Map<string, number[]>();
  const unusable: PairScores['unusable'] = [];
  await Promise.all(files.map(async (file) => {
    try {
      const a = await analyzer.analyze(readFileSync(join(imagesDir, file)), { liveness: false });
      if (a.face?.embedding) embeddings.set(file, a.face.embedding);
      else unusable.push({ file, code: 'no_face' });
    } catch (err) {
      const code = isAppError(err) ? err.code : (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file_not_found' : 'internal_error';
      unusable.push({ file, code });
    } finally {
      bar?.increment();
    }
  }));
  bar?.stop();
  const scored: PairScores['scored'] = [];
  for (const p of pairs) {
    const ex = embeddings.get(p.x), ey = embeddings.get(p.y);
    if (ex && ey) scored.push({ ...p, score: cosineSimilarity(ex, ey) });
  }
  unusable.sort((a, b) => a.file.localeCompare(b.file));
  return { scored, unusable, skippedPairs: pairs.length - scored.length };
}

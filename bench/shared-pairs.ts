// Builds the labelled pair set used to calibrate and evaluate on ../shared/data: every still in
// faces/<identity>/ plus every frame of the selfie video as more images of lin_manuel_miranda.
// Writes a temporary folder of images and a pairs.csv; prints their paths as JSON.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { splitMjpeg } from '../src/biometrics/mjpeg.ts';
import { pairsFromFolders, pairsToCsv } from '../src/cli/pairs.ts';

export function buildSharedPairSet(dataDir: string, withVideo = true): { images: string; pairs: string; count: number } {
  const images = mkdtempSync(join(tmpdir(), 'facegate-pairs-'));
  cpSync(join(dataDir, 'faces'), images, { recursive: true, filter: (src) => !src.includes('/_group') });
  if (withVideo) {
    const frames = splitMjpeg(readFileSync(join(dataDir, 'video', 'lin_manuel_miranda_selfie.mjpeg')));
    mkdirSync(join(images, 'lin_manuel_miranda'), { recursive: true });
    frames.forEach((f, i) => writeFileSync(join(images, 'lin_manuel_miranda', `video_frame_${String(i).padStart(2, '0')}.jpg`), f));
  }
  const list = pairsFromFolders(images);
  const pairs = join(images, 'pairs.csv');
  writeFileSync(pairs, pairsToCsv(list));
  return { images, pairs, count: list.length };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dataDir = process.env.FACEGATE_TEST_DATA ?? join(import.meta.dirname, '..', '..', 'shared', 'data');
  process.stdout.write(`${JSON.stringify(buildSharedPairSet(dataDir, !process.argv.includes('--stills-only')))}\n`);
}

// The project's root folder (the one with package.json and models/), found from this module's own
// place: the same answer from the sources (config/) and from the start-up bundle (.build/, made by
// scripts/build.mjs), so that files found by path (models, page assets, worker entries) are found
// either way.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'models', 'manifest.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no project root (package.json and models/manifest.json) above ${from}`);
  }
}

export const projectRoot = findRoot(dirname(fileURLToPath(import.meta.url)));

/** True when this code runs from the start-up bundle rather than the TypeScript sources. */
export const runsFromBundle = fileURLToPath(import.meta.url).endsWith('.mjs');

/**
 * A worker pool's entry: from the bundle, its own bundled worker (`.build/<built>`); from the
 * sources, `src/<folder>/worker.mjs` (which registers tsx, then loads the TypeScript task).
 */
export function workerEntry(folder: string, built: string): string {
  return pathToFileURL(runsFromBundle ? join(projectRoot, '.build', built) : join(projectRoot, 'src', folder, 'worker.mjs')).href;
}

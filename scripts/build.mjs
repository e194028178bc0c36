#!/usr/bin/env node
// The start-up bundle: `src/main.ts` and the two worker-pool tasks compiled by esbuild into
// `.build/` (ES modules, code split so that what loads lazily still does, every npm package left
// to node_modules, source maps). Node then loads a few files instead of resolving and compiling
// some 200 TypeScript modules through tsx at every start: the gateway is ready in about half the
// time. Runs at install (after the models' fetch) and from scripts/start.mjs whenever a source
// the bundle was built from is newer than the bundle. `.build/inputs.json` lists those sources.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const outdir = join(root, '.build');

/** Builds into `into` (default .build/); returns the time taken and the number of sources. */
export async function buildBundle(into = outdir) {
  const started = performance.now();
  mkdirSync(into, { recursive: true });
  // esbuild only when building: a start on a fresh bundle does not load it.
  const { build } = await import('esbuild');
  const result = await build({
    absWorkingDir: root,
    entryPoints: [
      { in: 'src/main.ts', out: 'main' },
      { in: 'src/biometrics/worker-task.ts', out: 'face-worker' },
      { in: 'src/onboarding/worker-task.ts', out: 'document-worker' },
    ],
    outdir: into,
    bundle: true,
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    outExtension: { '.js': '.mjs' },
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    sourcemap: true,
    metafile: true,
    logLevel: 'warning',
  });
  const inputs = Object.keys(result.metafile.inputs).filter((f) => !f.startsWith('node_modules/'));
  writeFileSync(join(into, 'inputs.json'), `${JSON.stringify({ builtAt: new Date().toISOString(), inputs }, null, 1)}\n`);
  return { ms: Math.round(performance.now() - started), inputs: inputs.length };
}

/** True when the bundle in `from` is missing, or a source it was built from is gone or newer. */
export function bundleIsStale(from = outdir) {
  const main = join(from, 'main.mjs');
  const list = join(from, 'inputs.json');
  if (!existsSync(main) || !existsSync(list)) return true;
  const builtAt = statSync(main).mtimeMs;
  const { inputs } = JSON.parse(readFileSync(list, 'utf8'));
  return inputs.some((file) => !existsSync(join(root, file)) || statSync(join(root, file)).mtimeMs > builtAt);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { ms, inputs } = await buildBundle();
  console.log(`start-up bundle: ${inputs} sources into .build/ in ${ms} ms`);
}

#!/usr/bin/env node
// `npm start`: the gateway from its start-up bundle (.build/main.mjs, scripts/build.mjs), rebuilt
// first when it is missing or any source it was built from changed since. The same gateway as
// `node --import tsx src/main.ts`, without compiling the TypeScript at every start.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildBundle, bundleIsStale, outdir } from './build.mjs';

if (bundleIsStale()) {
  const { ms, inputs } = await buildBundle();
  process.stderr.write(`facegate: rebuilt the start-up bundle (${inputs} sources, ${ms} ms)\n`);
}
process.setSourceMapsEnabled(true);
await import(pathToFileURL(join(outdir, 'main.mjs')).href);

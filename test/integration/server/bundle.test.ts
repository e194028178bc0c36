// The start-up bundle `npm start` runs (scripts/build.mjs, scripts/start.mjs): built from the
// gateway's entry and both worker tasks, it loads no package at start that a production install
// (`npm ci --omit=dev`) leaves out, and it counts as stale once a source it was built from is newer.
// That the bundled gateway signs a citizen in: process.test.ts, which starts it as npm start does.
import { mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { buildBundle, bundleIsStale, root } from '../../../scripts/build.mjs';

describe('the start-up bundle', () => {
  let dir: string;
  beforeAll(async () => {
    // Under the project (as .build/ is), so that a file here can stand for one of its sources.
    dir = mkdtempSync(join(root, '.build-test-'));
    await buildBundle(dir);
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is built from the gateway\'s entry and both worker tasks, and no package\'s own files', () => {
    const { inputs } = JSON.parse(readFileSync(join(dir, 'inputs.json'), 'utf8')) as { inputs: string[] };
    expect(inputs).toEqual(expect.arrayContaining(['src/main.ts', 'src/server/serve.ts', 'src/biometrics/worker-task.ts', 'src/onboarding/worker-task.ts', 'config/root.ts']));
    expect(inputs.filter((f) => f.includes('node_modules'))).toEqual([]);
    expect(readdirSync(dir)).toEqual(expect.arrayContaining(['main.mjs', 'face-worker.mjs', 'document-worker.mjs']));
  });

  it('imports, when it loads, only production dependencies and Node\'s own modules; a devDependency only lazily', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    const packageOf = (spec: string) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);
    const all = ['main.mjs', 'face-worker.mjs', 'document-worker.mjs', ...readdirSync(join(dir, 'chunks')).filter((f) => f.endsWith('.mjs')).map((f) => `chunks/${f}`)];
    const importsOf = (file: string) => {
      const text = readFileSync(join(dir, file), 'utf8');
      const statics = [...text.matchAll(/^import\s[^;]*?from\s*"([^"]+)"|^import\s*"([^"]+)"/gm)].map((m) => m[1] ?? m[2]);
      const lazy = [...text.matchAll(/\bimport\(\s*"([^"]+)"\s*\)/g)].map((m) => m[1]);
      return { statics, lazy };
    };
    // What loads with each entry: its static imports, followed through the bundle's own chunks.
    const loaded = new Set<string>();
    const packages = new Set<string>();
    const visit = (file: string) => {
      if (loaded.has(file)) return;
      loaded.add(file);
      for (const spec of importsOf(file).statics) {
        if (spec.startsWith('.')) visit(join(file, '..', spec));
        else packages.add(packageOf(spec));
      }
    };
    for (const entry of ['main.mjs', 'face-worker.mjs', 'document-worker.mjs']) visit(entry);
    const builtin = (p: string) => p.startsWith('node:') || builtinModules.includes(p);
    expect([...packages].filter((p) => !builtin(p) && !(p in pkg.dependencies))).toEqual([]);
    // tesseract.js (the comparison OCR engine) is a devDependency: only its own chunk imports it, loaded on demand.
    const tesseract = all.filter((f) => importsOf(f).statics.includes('tesseract.js'));
    expect(tesseract).toHaveLength(1);
    expect(tesseract[0]).toMatch(/^chunks\/ocr-tesseract-/);
    expect(loaded.has(tesseract[0])).toBe(false);
    expect(all.some((f) => importsOf(f).lazy.includes('@simplewebauthn/server'))).toBe(true);
    expect(packages.size).toBeGreaterThan(10);
  });

  it('is stale once a source it was built from is newer, or gone', () => {
    expect(bundleIsStale(dir)).toBe(false);
    const list = join(dir, 'inputs.json');
    const original = readFileSync(list, 'utf8');
    const { inputs } = JSON.parse(original) as { inputs: string[] };
    // A source edited after the build: its copy here, one second newer than the bundle.
    const edited = join(dir, 'edited.ts');
    writeFileSync(edited, 'export {};\n');
    const later = new Date(Date.now() + 1000);
    utimesSync(edited, later, later);
    writeFileSync(list, JSON.stringify({ inputs: [...inputs, relative(root, edited)] }));
    expect(bundleIsStale(dir)).toBe(true);
    writeFileSync(list, JSON.stringify({ inputs: [...inputs, 'src/no-such-file.ts'] }));
    expect(bundleIsStale(dir)).toBe(true);
    writeFileSync(list, original);
    expect(bundleIsStale(dir)).toBe(false);
  });
});

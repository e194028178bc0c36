// `facegate eval | calibrate | pairs | pad-eval`: accuracy and thresholds from labelled pairs of
// images; presentation attack detection figures from labelled capture sequences.
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { Config } from '../../config/schema.ts';
import { calibrateLevels, evaluatePairs } from '../biometrics/evaluation.ts';
import { levels, type Level } from '../biometrics/matcher.ts';
import { createEnginePool } from '../biometrics/pool.ts';
import type { ChallengeAction } from '../capture/flow.ts';
import type { Judged, LabelledSequence } from '../capture/pad.ts';
import { AppError } from '../shared/errors.ts';
import { fixed, percent, print, type OutputOptions } from './output.ts';
import { pairsFromFolders, pairsToCsv, readPairsCsv, scorePairs } from './pairs.ts';

interface PairOptions extends OutputOptions { pairs: string; images: string }

async function scoreFromOptions(config: Readonly<Config>, opts: PairOptions) {
  const pairs = readPairsCsv(opts.pairs);
  const pool = await createEnginePool(config.biometrics);
  try {
    return await scorePairs(pool, pairs, opts.images, !opts.json && process.stderr.isTTY);
  } finally {
    await pool.close();
  }
}

export function registerEvalCommands(program: Command, config: Readonly<Config>, run: (json: boolean, body: () => Promise<void>) => Promise<void>) {
  program.command('eval')
    .description('Accuracy on labelled pairs at a level\'s threshold: TAR, FAR, EER, extreme scores')
    .requiredOption('--pairs <csv>', 'CSV with header file_x,file_y,Decision (Yes/No)')
    .requiredOption('--images <dir>', 'folder the CSV paths are relative to')
    .option('--level <level>', 'substantial or high', 'substantial')
    .option('--json', 'print JSON')
    .action((opts: PairOptions & { level: string }) => run(!!opts.json, async () => {
      if (!(levels as readonly string[]).includes(opts.level)) throw new AppError('invalid_input', `--level must be one of ${levels.join(', ')}`);
      const level = opts.level as Level;
      const { scored, unusable, skippedPairs } = await scoreFromOptions(config, opts);
      const summary = evaluatePairs(scored, config.biometrics.match[level]);
      const out = { level, ...summary, skippedPairs, unusableImages: unusable };
      print(opts, out, () => [
        `pairs scored ${summary.pairs} (${summary.genuinePairs} genuine, ${summary.impostorPairs} impostor); ${skippedPairs} skipped`,
        `images without a usable face: ${unusable.length}${unusable.length ? ` (${unusable.map((u) => `${u.file}: ${u.code}`).join('; ')})` : ''}`,
        `threshold (${level}) ${summary.threshold}`,
        `accuracy ${percent(summary.accuracy)}  TAR ${percent(summary.tar)}  FAR ${percent(summary.far)}`,
        `EER ${percent(summary.eer)} at ${fixed(summary.eerThreshold)}; TAR at FAR 0 ${percent(summary.tarAtZeroFar)}`,
        `lowest genuine ${fixed(summary.lowestGenuine)}  highest impostor ${fixed(summary.highestImpostor)}`,
      ].join('\n'));
    }));

  program.command('calibrate')
    .description('Thresholds per assurance level from labelled pairs, with the impostor pairs behind each')
    .requiredOption('--pairs <csv>', 'CSV with header file_x,file_y,Decision (Yes/No)')
    .requiredOption('--images <dir>', 'folder the CSV paths are relative to')
    .option('--json', 'print JSON')
    .action((opts: PairOptions) => run(!!opts.json, async () => {
      const { scored, unusable } = await scoreFromOptions(config, opts);
      const result = calibrateLevels(scored);
      const out = { levels: result, unusableImages: unusable };
      print(opts, out, () => result.map((c) => [
        `${c.level}: target FMR ${c.targetFmr} -> threshold ${fixed(c.recommended, 4)} (empirical ${fixed(c.empirical, 4)}, normal tail ${fixed(c.gaussian, 4)}); FNMR there ${percent(c.fnmr)}`,
        `  impostor pairs ${c.impostorPairs} (${c.impostorPairsNeeded} needed)`,
        ...(c.warning ? [`  WARNING: ${c.warning}`] : []),
      ].join('\n')).join('\n'));
    }));

  program.command('pairs')
    .description('Write a labelled pairs CSV from a folder with one sub-folder per identity (folders starting with _ are skipped)')
    .requiredOption('--images <dir>', 'folder of identity folders')
    .option('--out <csv>', 'write here instead of standard output')
    .action((opts: { images: string; out?: string }) => run(false, async () => {
      const csv = pairsToCsv(pairsFromFolders(opts.images));
      if (opts.out) writeFileSync(opts.out, csv);
      else process.stdout.write(csv);
    }));

  program.command('pad-eval')
    .description('Presentation attack detection (ISO/IEC 30107-3) on labelled capture sequences: APCER per species, BPCER')
    .requiredOption('--sequences <dir>', 'DIR/bona_fide/<seq>/ and DIR/attack/<species>/<seq>/, frames in capture order (file name order), optional actions.json and timestamps.json per sequence')
    .option('--level <level>', 'substantial or high', 'substantial')
    .option('--json', 'print JSON')
    .action((opts: OutputOptions & { sequences: string; level: string }) => run(!!opts.json, async () => {
      if (!(levels as readonly string[]).includes(opts.level)) throw new AppError('invalid_input', `--level must be one of ${levels.join(', ')}`);
      const level = opts.level as Level;
      const sequences = readSequences(opts.sequences);
      // Loaded here: the decision's modules bring oidc-provider's policy types, which the other commands do without.
      const { judgeSequence, padFigures } = await import('../capture/pad.ts');
      if (!sequences.length) throw new AppError('invalid_input', `${opts.sequences} holds no sequences (bona_fide/<seq>/ or attack/<species>/<seq>/)`);
      const pool = await createEnginePool(config.biometrics);
      const judged: Judged[] = [];
      try {
        for (const seq of sequences) judged.push(await judgeSequence(pool, seq, level, config));
      } finally {
        await pool.close();
      }
      const figures = padFigures(level, judged);
      const verdicts = judged.map((j) => ({
        name: j.sequence.name, label: j.sequence.label, species: j.sequence.species, accepted: j.accepted, check: j.check, reason: j.reason ?? j.code,
      }));
      print(opts, { ...figures, sequences: verdicts }, () => [
        `level ${level}: BPCER ${percent(figures.bonaFide.bpcer)} (${figures.bonaFide.rejected} of ${figures.bonaFide.sequences} bona fide refused)`,
        ...Object.entries(figures.attacks).map(([k, v]) => `  ${k}: APCER ${percent(v.apcer)} (${v.accepted} of ${v.sequences} accepted)`),
      ].join('\n'));
    }));
}

const imageFile = /\.(jpe?g|png|webp)$/i;
const dirs = (d: string) => (existsSync(d) ? readdirSync(d).filter((n) => statSync(join(d, n)).isDirectory()).sort() : []);
const actionNames = new Set<string>(['blink', 'turn_left', 'turn_right']);

/** One labelled sequence from its folder: the images in name order, actions.json and timestamps.json when present. */
function readSequence(dir: string, label: LabelledSequence['label'], species: string, name: string): LabelledSequence {
  const frames = readdirSync(dir).filter((f) => imageFile.test(f)).sort().map((f) => new Uint8Array(readFileSync(join(dir, f))));
  const json = (file: string): unknown => {
    if (!existsSync(join(dir, file))) return undefined;
    try { return JSON.parse(readFileSync(join(dir, file), 'utf8')); } catch { throw new AppError('invalid_input', `${join(dir, file)} is not JSON`); }
  };
  const actions = json('actions.json') ?? [];
  if (!Array.isArray(actions) || actions.some((a) => !actionNames.has(a))) throw new AppError('invalid_input', `${join(dir, 'actions.json')} must be an array of ${[...actionNames].join(', ')}`);
  const timestamps = json('timestamps.json');
  if (timestamps !== undefined && (!Array.isArray(timestamps) || timestamps.length !== frames.length || timestamps.some((t) => typeof t !== 'number'))) {
    throw new AppError('invalid_input', `${join(dir, 'timestamps.json')} must hold one number per frame`);
  }
  return { label, species, name, frames, actions: actions as ChallengeAction[], timestamps: timestamps as number[] | undefined };
}

export function readSequences(root: string): LabelledSequence[] {
  if (!existsSync(root)) throw new AppError('invalid_input', `${root} does not exist`);
  const bona = dirs(join(root, 'bona_fide')).map((seq) => readSequence(join(root, 'bona_fide', seq), 'bona_fide', 'bona_fide', `bona_fide/${seq}`));
  const attacks = dirs(join(root, 'attack')).flatMap((species) => dirs(join(root, 'attack', species))
    .map((seq) => readSequence(join(root, 'attack', species, seq), 'attack', species, `attack/${species}/${seq}`)));
  return [...bona, ...attacks];
}

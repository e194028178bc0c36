// `facegate eval | calibrate | pairs`: accuracy and thresholds from labelled pairs of images.
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Config } from '../../config/schema.ts';
import { calibrateLevels, evaluatePairs } from '../biometrics/evaluation.ts';
import { levels, type Level } from '../biometrics/matcher.ts';
import { createEnginePool } from '../biometrics/pool.ts';
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
}

// `npm run eval:shared`: accuracy at both levels and the calibration on ../shared/data (stills plus
// the selfie video's frames), the figures behind docs/calibration.md. Last stdout line: JSON.
import { join } from 'node:path';
import { loadConfig } from '../config/load.ts';
import { calibrateLevels, evaluatePairs } from '../src/biometrics/evaluation.ts';
import { levels } from '../src/biometrics/matcher.ts';
import { createEnginePool } from '../src/biometrics/pool.ts';
import { readPairsCsv, scorePairs } from '../src/cli/pairs.ts';
import { buildSharedPairSet } from './shared-pairs.ts';

const dataDir = process.env.FACEGATE_TEST_DATA ?? join(import.meta.dirname, '..', '..', 'shared', 'data');
const config = loadConfig();
const pool = await createEnginePool(config.biometrics);
const result: Record<string, unknown> = {};
try {
  for (const [name, withVideo] of [['stills', false], ['stills+video', true]] as const) {
    const set = buildSharedPairSet(dataDir, withVideo);
    const { scored, unusable } = await scorePairs(pool, readPairsCsv(set.pairs), set.images, false);
    const byLevel = Object.fromEntries(levels.map((level) => [level, evaluatePairs(scored, config.biometrics.match[level])]));
    const calibration = calibrateLevels(scored);
    result[name] = { unusable, byLevel, calibration };
    process.stderr.write(`${name}: ${scored.length} pairs, ${unusable.length} unusable images\n`);
    for (const level of levels) {
      const s = byLevel[level];
      process.stderr.write(`  ${level} @${s.threshold}: accuracy ${(s.accuracy * 100).toFixed(2)}% TAR ${(s.tar * 100).toFixed(2)}% FAR ${(s.far * 100).toFixed(3)}% EER ${(s.eer * 100).toFixed(2)}% lowest genuine ${s.lowestGenuine?.toFixed(3)} highest impostor ${s.highestImpostor?.toFixed(3)}\n`);
    }
    for (const c of calibration) {
      process.stderr.write(`  calibrate ${c.level}: ${c.recommended.toFixed(4)} (empirical ${c.empirical.toFixed(4)}, normal tail ${c.gaussian.toFixed(4)}) on ${c.impostorPairs} impostor pairs\n`);
    }
  }
} finally {
  await pool.close();
}
process.stdout.write(`${JSON.stringify(result)}\n`);

// Verification accuracy from labelled pair scores (ISO/IEC 19795-1 terms: FMR/FNMR, shown as
// FAR/TAR as the issue asks) and threshold calibration per assurance level. Pure functions.
import type { Level } from './matcher.ts';

export interface ScoredPair { genuine: boolean; score: number }

export interface EvalSummary {
  pairs: number;
  genuinePairs: number;
  impostorPairs: number;
  threshold: number;
  accuracy: number;
  /** True accept rate: genuine pairs at or above the threshold. */
  tar: number;
  /** False accept rate (FMR): impostor pairs at or above the threshold. */
  far: number;
  eer: number;
  eerThreshold: number;
  /** Genuine pairs scoring above every impostor pair: the TAR at FAR 0, comparable across systems whatever their thresholds. */
  tarAtZeroFar: number;
  lowestGenuine: number | null;
  highestImpostor: number | null;
}

const max = (values: readonly number[]) => values.reduce((m, v) => (v > m ? v : m), -Infinity);
const min = (values: readonly number[]) => values.reduce((m, v) => (v < m ? v : m), Infinity);

export function evaluatePairs(pairs: readonly ScoredPair[], threshold: number): EvalSummary {
  const genuine = pairs.filter((p) => p.genuine).map((p) => p.score);
  const impostor = pairs.filter((p) => !p.genuine).map((p) => p.score);
  const accepted = (s: number) => s >= threshold;
  const tp = genuine.filter(accepted).length;
  const fp = impostor.filter(accepted).length;
  const { eer, threshold: eerThreshold } = equalErrorRate(genuine, impostor);
  const highestImpostor = impostor.length ? max(impostor) : null;
  return {
    pairs: pairs.length,
    genuinePairs: genuine.length,
    impostorPairs: impostor.length,
    threshold,
    accuracy: pairs.length ? (tp + impostor.length - fp) / pairs.length : 0,
    tar: genuine.length ? tp / genuine.length : 0,
    far: impostor.length ? fp / impostor.length : 0,
    eer,
    eerThreshold,
    tarAtZeroFar: genuine.length ? genuine.filter((g) => highestImpostor === null || g > highestImpostor).length / genuine.length : 0,
    lowestGenuine: genuine.length ? min(genuine) : null,
    highestImpostor,
  };
}

/**
 * The error rate where false rejects equal false accepts: one sweep over the sorted scores, each
 * distinct score tried as the threshold (O(n log n), so calibration sets of 10^5+ pairs are fine).
 */
export function equalErrorRate(genuine: readonly number[], impostor: readonly number[]): { eer: number; threshold: number } {
  if (!genuine.length || !impostor.length) return { eer: NaN, threshold: NaN };
  const g = [...genuine].sort((a, b) => a - b);
  const im = [...impostor].sort((a, b) => a - b);
  let best = { eer: 1, threshold: Math.min(g[0], im[0]), gap: Infinity };
  let gi = 0, ii = 0; // scores below the threshold t, in each list
  while (gi < g.length || ii < im.length) {
    const t = Math.min(gi < g.length ? g[gi] : Infinity, ii < im.length ? im[ii] : Infinity);
    const frr = gi / g.length; // genuine strictly below t are rejected
    const far = (im.length - ii) / im.length; // impostors at or above t are accepted
    if (Math.abs(frr - far) < best.gap) best = { eer: (frr + far) / 2, threshold: t, gap: Math.abs(frr - far) };
    while (gi < g.length && g[gi] === t) gi++;
    while (ii < im.length && im[ii] === t) ii++;
  }
  // With perfectly separated scores the EER is 0 anywhere in the gap; report the gap's middle.
  if (best.eer === 0) {
    const lo = im[im.length - 1], hi = g[0];
    if (hi > lo) best.threshold = (lo + hi) / 2;
  }
  return { eer: best.eer, threshold: best.threshold };
}

export const levelTargets: Record<Level, number> = { substantial: 1e-4, high: 1e-5 };

/** One-sided standard normal quantile (Acklam's rational approximation, |error| < 1.2e-9). */
export function normalQuantile(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const q = p < 0.5 ? p : 1 - p;
  let x: number;
  if (q < 0.02425) {
    const r = Math.sqrt(-2 * Math.log(q));
    x = (((((c[0] * r + c[1]) * r + c[2]) * r + c[3]) * r + c[4]) * r + c[5]) / ((((d[0] * r + d[1]) * r + d[2]) * r + d[3]) * r + 1);
  } else {
    const r = q - 0.5, s = r * r;
    x = ((((((a[0] * s + a[1]) * s + a[2]) * s + a[3]) * s + a[4]) * s + a[5]) * r) / (((((b[0] * s + b[1]) * s + b[2]) * s + b[3]) * s + b[4]) * s + 1);
  }
  return p < 0.5 ? x : -x;
}

export interface LevelCalibration {
  level: Level;
  targetFmr: number;
  /** Impostor pairs behind the figure, and the fewest that could support the target (rule of three: 3 / FMR). */
  impostorPairs: number;
  impostorPairsNeeded: number;
  /** Smallest threshold whose empirical FMR is within the target. */
  empirical: number;
  /** Threshold from a normal fit of the impostor scores, extrapolated to the target. */
  gaussian: number;
  /** The larger of the two (the conservative choice). */
  recommended: number;
  /** Genuine pairs that the recommended threshold would reject. */
  fnmr: number;
  warning?: string;
}

export function calibrateLevels(pairs: readonly ScoredPair[]): LevelCalibration[] {
  const genuine = pairs.filter((p) => p.genuine).map((p) => p.score);
  const impostor = pairs.filter((p) => !p.genuine).map((p) => p.score).sort((a, b) => b - a);
  if (impostor.length < 2) throw new RangeError('calibration needs at least two impostor pairs');
  const mean = impostor.reduce((s, v) => s + v, 0) / impostor.length;
  const sd = Math.sqrt(impostor.reduce((s, v) => s + (v - mean) ** 2, 0) / (impostor.length - 1));
  return (Object.entries(levelTargets) as [Level, number][]).map(([level, targetFmr]) => {
    // Allowed false matches at this sample size; the threshold sits just above the next impostor.
    const allowed = Math.floor(targetFmr * impostor.length);
    const empirical = impostor[allowed] + 1e-6;
    const gaussian = mean - normalQuantile(targetFmr) * sd;
    const recommended = Math.max(empirical, gaussian);
    const needed = Math.ceil(3 / targetFmr);
    return {
      level,
      targetFmr,
      impostorPairs: impostor.length,
      impostorPairsNeeded: needed,
      empirical,
      gaussian,
      recommended,
      fnmr: genuine.length ? genuine.filter((s) => s < recommended).length / genuine.length : NaN,
      ...(impostor.length < needed && {
        warning: `${impostor.length} impostor pairs cannot support FMR ${targetFmr}: at least ${needed} are needed (rule of three); the figure rests on the normal-tail extrapolation`,
      }),
    };
  });
}

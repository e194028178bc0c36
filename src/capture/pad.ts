// Presentation attack detection figures (ISO/IEC 30107-3): labelled sequences of frames run
// through the same decision as the capture API (decide()), and the error rates per species.
// A sequence's presentation is *accepted* when every check but the 1:1 match passed (the match is
// not presentation attack detection); APCER per attack species, BPCER over the bona fide ones.
import type { Config } from '../../config/schema.ts';
import type { ImageAnalysis } from '../biometrics/engine.ts';
import type { FaceAnalyzer } from '../biometrics/pool.ts';
import { acrHigh, acrSubstantial } from '../../config/schema.ts';
import { isAppError, type ErrorCode } from '../shared/errors.ts';
import type { CaptureFlow, ChallengeAction } from './flow.ts';
import { decide, type Decision } from './decide.ts';
import { sameSize } from './presence.ts';

export type Level = 'substantial' | 'high';
export type LabelledSequence = {
  label: 'bona_fide' | 'attack';
  /** The attack species (ISO/IEC 30107-3 "PAI species"), or a bona fide group's name. */
  species: string;
  name: string;
  frames: Uint8Array[];
  /** The actions the server asked for (none: presence from natural motion alone). */
  actions: ChallengeAction[];
  /** Client capture times, when the capture sent them (a consistency signal, as in the API). */
  timestamps?: number[];
  /** The citizen's registry template, when known: then the match runs too (it does not count here). */
  template?: Float32Array;
};
export type Judged = {
  sequence: Omit<LabelledSequence, 'frames' | 'template'>;
  accepted: boolean;
  outcome: Decision['outcome'] | 'error';
  code?: ErrorCode;
  reason?: string;
  check?: string;
};

/** Runs one sequence through decide() at `level`, as the capture service would after its limits. */
export async function judgeSequence(analyzer: Pick<FaceAnalyzer, 'analyze'>, seq: LabelledSequence, level: Level, config: Readonly<Config>): Promise<Judged> {
  const { frames: _frames, template: _template, ...sequence } = seq;
  let analyses: ImageAnalysis[];
  try {
    analyses = await Promise.all(seq.frames.map((b) => analyzer.analyze(b, { grade: 'capture' })));
  } catch (err) {
    return { sequence, accepted: false, outcome: 'error', code: isAppError(err) ? err.code : 'internal_error' };
  }
  if (!sameSize(analyses)) return { sequence, accepted: false, outcome: 'error', code: 'frames_inconsistent' };
  const flow = { acr: level === 'high' ? acrHigh : acrSubstantial, actions: seq.actions } as CaptureFlow;
  const decision = decide(analyses, { flow, template: seq.template, config, timestamps: seq.timestamps });
  const last = decision.checks.at(-1);
  const accepted = decision.outcome === 'verified' || (decision.outcome === 'failed' && last?.name === 'match');
  return { sequence, accepted, outcome: decision.outcome, code: decision.code, reason: last?.reason, check: last?.name };
}

export type PadFigures = {
  level: Level;
  bonaFide: { sequences: number; rejected: number; bpcer: number; reasons: Record<string, number> };
  attacks: Record<string, { sequences: number; accepted: number; apcer: number; stoppedBy: Record<string, number> }>;
  /** The worst species' APCER (ISO/IEC 30107-3 reports the maximum over species). */
  maxApcer: number;
};

const why = (j: Judged) => `${j.check ?? j.outcome}:${j.reason ?? j.code ?? 'none'}`;
const tally = (xs: string[]) => xs.reduce<Record<string, number>>((m, x) => ({ ...m, [x]: (m[x] ?? 0) + 1 }), {});

export function padFigures(level: Level, judged: readonly Judged[]): PadFigures {
  const bona = judged.filter((j) => j.sequence.label === 'bona_fide');
  const rejected = bona.filter((j) => !j.accepted);
  const attacks: PadFigures['attacks'] = {};
  for (const species of [...new Set(judged.filter((j) => j.sequence.label === 'attack').map((j) => j.sequence.species))]) {
    const these = judged.filter((j) => j.sequence.label === 'attack' && j.sequence.species === species);
    const accepted = these.filter((j) => j.accepted).length;
    attacks[species] = { sequences: these.length, accepted, apcer: accepted / these.length, stoppedBy: tally(these.filter((j) => !j.accepted).map(why)) };
  }
  return {
    level,
    bonaFide: { sequences: bona.length, rejected: rejected.length, bpcer: bona.length ? rejected.length / bona.length : 0, reasons: tally(rejected.map(why)) },
    attacks,
    maxApcer: Math.max(0, ...Object.values(attacks).map((a) => a.apcer)),
  };
}

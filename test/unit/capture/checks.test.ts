// The capture checks (src/capture/checks.ts) and the decision over them (src/capture/decide.ts),
// on synthetic analyses: unit-vector embeddings of length 512, chosen liveness scores and quality codes.
import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../../config/load.ts';
import type { ImageAnalysis } from '../../../src/biometrics/engine.ts';
import type { QualityCode } from '../../../src/biometrics/quality.ts';
import { checkLiveness, checkMatch, checkQuality, checkSamePerson, fuseEmbeddings, type CheckContext, type Frames } from '../../../src/capture/checks.ts';
import { decide } from '../../../src/capture/decide.ts';
import type { CaptureFlow } from '../../../src/capture/flow.ts';
import { acrHigh, acrSubstantial, type Acr } from '../../../src/oidc/acr.ts';

const config = loadConfig({});
const t0 = 1_700_000_000_000;
const dim = 512;
const { substantial, high } = config.biometrics.match;
const liveT = config.biometrics.liveness.threshold;

/** The unit vector along axis `i`. */
const axis = (i: number): number[] => Array.from({ length: dim }, (_, k) => (k === i ? 1 : 0));
/** A unit vector at cosine `c` to axis `a`, the rest along axis `b` (orthogonal to `a`). */
const at = (c: number, a = 0, b = 1): number[] => axis(a).map((v, k) => c * v + Math.sqrt(1 - c * c) * axis(b)[k]);
const norm = (v: ArrayLike<number>) => Math.hypot(...Array.from(v));
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, x, i) => s + x * b[i], 0);

type FrameSpec = { embedding?: number[]; liveness?: number; codes?: QualityCode[]; yaw?: number; pitch?: number };
let frameNo = 0;
/**
 * 68 landmarks of a live face: a fixed layout (eyes 100 px apart) moved off any plane by a
 * different small wobble in every frame (about 0.06 inter-eye distances), as a real head moves.
 */
const liveLandmarks = (n: number) => Array.from({ length: 68 }, (_, k) => {
  const eye = k >= 36 && k < 48 ? (k < 42 ? 150 : 250) : 0;
  const x = eye || 110 + (k % 9) * 22, y = eye ? 180 + (k % 3) * 4 : 120 + Math.floor(k / 9) * 26;
  return { x: x + 6 * Math.sin(k * 1.7 + n * 2.3), y: y + 6 * Math.cos(k * 2.9 + n * 1.1) };
});
const analysis = (spec: FrameSpec = {}): Frames[number] => {
  const { embedding = axis(0), codes = [], yaw = 0, pitch = 0 } = spec;
  const liveness = 'liveness' in spec ? spec.liveness : 0.9;
  const box = { x1: 100, y1: 100, x2: 300, y2: 340 };
  // One scene throughout: the same background grid in every frame.
  const scene = { grid: new Array(24 * 24 * 3).fill(120) };
  return {
    image: { format: 'jpeg', width: 640, height: 480 },
    faces: [{ box, score: 0.99 }],
    face: { box, score: 0.99, landmarks: liveLandmarks(frameNo++), pose: { yaw, pitch, roll: 0 }, eyesOpen: [0.9, 0.9], embedding, liveness, scene },
    quality: { grade: 'capture', ok: codes.length === 0, codes, measures: [] },
    models: {},
    timings: { total: 1 },
  };
};
const frames = (...specs: FrameSpec[]): Frames => specs.map(analysis);
const live = (...scores: number[]): Frames => frames(...scores.map((liveness) => ({ liveness })));

const flow = (acr: Acr = acrSubstantial): CaptureFlow => ({
  id: 'flow-1', interactionUid: 'uid-1', clientId: 'tax.agency', citizenId: 'citizen-1', purpose: 'sign_in', acr,
  actions: [], state: 'open', attemptsUsed: 0, submissions: 0, version: 1, expiresAt: t0 + 300_000, createdAt: t0, updatedAt: t0,
});
const template = new Float32Array(axis(0));
const ctx = (over: Partial<CheckContext> = {}): CheckContext => ({ flow: flow(), template, config, ...over });

describe('fuseEmbeddings', () => {
  it('returns a unit vector', () => {
    expect(norm(fuseEmbeddings(frames({ embedding: axis(0) }, { embedding: at(0.5, 0, 2) }, { embedding: axis(3) })))).toBeCloseTo(1, 5);
  });

  it('points along the mean of the frames', () => {
    const fused = fuseEmbeddings(frames({ embedding: axis(0) }, { embedding: axis(1) }));
    expect(fused[0]).toBeCloseTo(Math.SQRT1_2, 5);
    expect(fused[1]).toBeCloseTo(Math.SQRT1_2, 5);
  });

  it('keeps a single frame\'s direction', () => {
    expect(dot(fuseEmbeddings(frames({ embedding: at(0.8) })), template)).toBeCloseTo(0.8, 5);
  });
});

describe('checkQuality', () => {
  it('passes when no frame has a quality code', () => {
    expect(checkQuality(frames({}, {}))).toEqual({ name: 'quality', outcome: 'pass' });
  });

  it('asks for a retry with the most frequent code first', () => {
    const result = checkQuality(frames({ codes: ['too_dark'] }, { codes: ['blurry', 'too_dark'] }, { codes: ['blurry'] }, { codes: ['blurry'] }));
    expect(result).toEqual({ name: 'quality', outcome: 'retry', code: 'blurry', codes: ['blurry', 'too_dark'] });
  });

  it('asks for a retry when only one frame of several has a code', () => {
    expect(checkQuality(frames({}, { codes: ['face_turned'] }, {}))).toMatchObject({ outcome: 'retry', code: 'face_turned' });
  });
});

describe('checkSamePerson', () => {
  it('passes a single frame', () => {
    expect(checkSamePerson(frames({ embedding: axis(0) }), ctx()).outcome).toBe('pass');
  });

  it('passes frames of one person', () => {
    const result = checkSamePerson(frames({ embedding: axis(0) }, { embedding: at(0.9) }, { embedding: at(0.85, 0, 2) }), ctx());
    expect(result).toMatchObject({ name: 'same_person', outcome: 'pass', threshold: config.capture.samePersonThreshold });
  });

  it('fails when one frame of four is another person (orthogonal embedding)', () => {
    const a = { embedding: axis(0) };
    expect(checkSamePerson(frames(a, a, a, { embedding: axis(1) }), ctx())).toMatchObject({ outcome: 'fail', code: 'no_match' });
  });

  // Against a fused mean that contained the frame itself, an orthogonal frame among two identical
  // ones scored 0.447, above the 0.41 threshold: each frame is compared with the others only.
  it('fails when one frame of three is another person (orthogonal embedding)', () => {
    const a = { embedding: axis(0) };
    expect(checkSamePerson(frames(a, a, { embedding: axis(1) }), ctx()).outcome).toBe('fail');
  });

  // Two unrelated people (cosine 0) scored 0.707 against their own mean before that change.
  it('fails when two frames show two different people', () => {
    expect(checkSamePerson(frames({ embedding: axis(0) }, { embedding: axis(1) }), ctx()).outcome).toBe('fail');
  });
});

describe('checkLiveness', () => {
  it('passes when every frame is live', () => {
    expect(checkLiveness(live(0.9, 0.8, 0.95), ctx())).toMatchObject({ name: 'liveness', outcome: 'pass', threshold: liveT });
  });

  it('fails when one frame of three is live', () => {
    expect(checkLiveness(live(0.99, 0.2, 0.1), ctx())).toMatchObject({ outcome: 'fail', code: 'not_live' });
  });

  it('passes when two frames of three are live and the median reaches the threshold', () => {
    expect(checkLiveness(live(0.9, 0.8, 0.1), ctx()).outcome).toBe('pass');
  });

  it('reports the median as the score', () => {
    expect(checkLiveness(live(0.9, 0.8, 0.1), ctx()).score).toBeCloseTo(0.8, 10);
  });

  it('fails when the median is below the threshold although half the frames are live', () => {
    const result = checkLiveness(live(0.2, 0.2, 0.55, 0.55), ctx());
    expect(result.score).toBeLessThan(liveT);
    expect(result.outcome).toBe('fail');
  });

  it('fails when the median passes but the live share is below capture.minLiveFraction', () => {
    const strict = loadConfig({}, { capture: { minLiveFraction: 0.8 } });
    const result = checkLiveness(live(0.9, 0.9, 0.1), ctx({ config: strict }));
    expect(result.score).toBeGreaterThanOrEqual(liveT);
    expect(result.outcome).toBe('fail');
  });

  it('counts a frame without a liveness score as not live', () => {
    expect(checkLiveness(frames({ liveness: undefined }), ctx()).outcome).toBe('fail');
  });
});

describe('checkMatch at the level\'s own threshold (adaptive rule off)', () => {
  const between = (substantial + high) / 2;
  const adaptive = { ...config.biometrics.match.adaptive, enabled: false };
  const fixed = { ...config, biometrics: { ...config.biometrics, match: { ...config.biometrics.match, adaptive } } };
  const at0 = (over: Partial<CheckContext> = {}) => ctx({ config: fixed, ...over });

  it('passes at substantial just above the substantial threshold', () => {
    expect(checkMatch(frames({ embedding: at(substantial + 0.005) }), at0())).toMatchObject({ name: 'match', outcome: 'pass', threshold: substantial });
  });

  it('fails at substantial just below the substantial threshold', () => {
    expect(checkMatch(frames({ embedding: at(substantial - 0.005) }), at0())).toMatchObject({ outcome: 'fail', code: 'no_match' });
  });

  it('fails at high a score that passes at substantial', () => {
    const probe = frames({ embedding: at(between) });
    expect(checkMatch(probe, at0()).outcome).toBe('pass');
    expect(checkMatch(probe, at0({ flow: flow(acrHigh) }))).toMatchObject({ outcome: 'fail', code: 'no_match', threshold: high });
  });

  it('passes at high just above the high threshold', () => {
    expect(checkMatch(frames({ embedding: at(high + 0.005) }), at0({ flow: flow(acrHigh) })).outcome).toBe('pass');
  });

  it('fails with no_match when the citizen has no template', () => {
    expect(checkMatch(frames({}), at0({ template: undefined }))).toMatchObject({ outcome: 'fail', code: 'no_match', threshold: substantial });
  });
});

describe('checkMatch with the adaptive threshold', () => {
  const { relief, raise, frontalDeg, offPoseDeg } = config.biometrics.match.adaptive;

  it('lowers the threshold by the relief for a frontal probe', () => {
    expect(checkMatch(frames({ embedding: at(0.7), yaw: 5, pitch: -5 }), ctx()).threshold).toBeCloseTo(substantial - relief, 4);
  });

  it('raises the threshold for a probe turned beyond offPoseDeg', () => {
    expect(checkMatch(frames({ embedding: at(0.7), yaw: offPoseDeg }), ctx({ flow: flow(acrHigh) })).threshold).toBeCloseTo(high + raise, 4);
  });

  it('moves linearly in between', () => {
    const mid = (frontalDeg + offPoseDeg) / 2;
    expect(checkMatch(frames({ embedding: at(0.7), yaw: mid }), ctx()).threshold).toBeCloseTo(substantial + (raise - relief) / 2, 4);
  });

  it('refuses off pose a score that passes frontal', () => {
    const score = substantial + 0.01;
    expect(checkMatch(frames({ embedding: at(score), yaw: 3 }), ctx()).outcome).toBe('pass');
    expect(checkMatch(frames({ embedding: at(score), yaw: 28 }), ctx())).toMatchObject({ outcome: 'fail', code: 'no_match' });
  });

  it('matches the most frontal frame and reports its cosine as the score', () => {
    const result = checkMatch(frames({ embedding: at(0.9), yaw: 25 }, { embedding: at(0.6), yaw: 2 }, { embedding: at(0.8), pitch: 12 }), ctx());
    expect(result.score).toBeCloseTo(0.6, 5);
    expect(result.measured).toMatchObject({ frame: 1, poseDeg: 2, baseThreshold: substantial });
  });
});

describe('decide', () => {
  const names = (d: ReturnType<typeof decide>) => d.checks.map((c) => c.name);

  it('asks for a retry on a quality problem and runs no other check', () => {
    const d = decide(frames({ codes: ['too_dark'] }, {}), ctx());
    expect(d).toMatchObject({ outcome: 'retry', code: 'too_dark' });
    expect(names(d)).toEqual(['quality']);
  });

  it('fails at same_person and stops there', () => {
    const a = { embedding: axis(0) };
    const d = decide(frames(a, a, a, { embedding: axis(1) }), ctx());
    expect(d).toMatchObject({ outcome: 'failed', code: 'no_match' });
    expect(names(d)).toEqual(['quality', 'fresh', 'scene', 'motion', 'same_person']);
  });

  it('fails at liveness and does not run the match', () => {
    const d = decide(live(0.1, 0.2, 0.3), ctx());
    expect(d).toMatchObject({ outcome: 'failed', code: 'not_live' });
    expect(names(d)).toEqual(['quality', 'fresh', 'scene', 'motion', 'same_person', 'liveness']);
  });

  it('fails at match with no_match', () => {
    const d = decide(frames({ embedding: axis(1) }, { embedding: axis(1) }, { embedding: axis(1) }), ctx());
    expect(d).toMatchObject({ outcome: 'failed', code: 'no_match' });
    expect(names(d)).toEqual(['quality', 'fresh', 'scene', 'motion', 'same_person', 'liveness', 'match']);
  });

  it('fails one frame as not live: a single picture shows no presence', () => {
    const d = decide(frames({}), ctx());
    expect(d).toMatchObject({ outcome: 'failed', code: 'not_live' });
    expect(d.checks.at(-1)).toMatchObject({ name: 'fresh', reason: 'static_input' });
  });

  it('fails frames whose landmarks move as one plane, and frames of two scenes', () => {
    const flat = frames({}, {}, {});
    flat.forEach((f, i) => { f.face.landmarks = flat[0].face.landmarks.map((p) => ({ x: p.x * (1 + 0.02 * i) + 5 * i, y: p.y + 3 * i })); });
    expect(decide(flat, ctx()).checks.at(-1)).toMatchObject({ name: 'motion', outcome: 'fail', reason: 'planar_motion' });
    const cut = frames({}, {}, {});
    cut[2].face.scene = { grid: cut[2].face.scene!.grid.map((_, k) => (k * 7919) % 251) };
    expect(decide(cut, ctx()).checks.at(-1)).toMatchObject({ name: 'scene', outcome: 'fail', reason: 'scene_changed' });
  });

  it('verifies when every check passes, listing each check in order', () => {
    const d = decide(frames({ embedding: at(0.8) }, { embedding: at(0.75) }, { embedding: at(0.78) }), ctx({ flow: flow(acrHigh) }));
    expect(d.outcome).toBe('verified');
    expect(d.code).toBeUndefined();
    expect(names(d)).toEqual(['quality', 'fresh', 'scene', 'motion', 'same_person', 'liveness', 'match']);
    expect(d.checks.every((c) => c.outcome === 'pass')).toBe(true);
  });
});

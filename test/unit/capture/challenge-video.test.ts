// The challenge checker (src/capture/challenge.ts, fresh.ts, decide.ts) on frames of the shared
// selfie video, analysed by the real engine. A cooperative citizen (helpers/live.ts) performs the
// actions as filmed: two neutral frames, then each turn sweeping out and back, a blink that
// reopens. Actions in the wrong order, frames picked for their pose (a recording re-ordered to the
// actions), duplicated, static and late sequences must fail, and so must a photo turned in the hand.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from '@jest/globals';
import sharp from 'sharp';
import type { ImageAnalysis } from '../../../src/biometrics/engine.ts';
import { splitMjpeg } from '../../../src/biometrics/mjpeg.ts';
import { checkChallenge, noseOffset } from '../../../src/capture/challenge.ts';
import type { Frames } from '../../../src/capture/checks.ts';
import { decide } from '../../../src/capture/decide.ts';
import type { CaptureFlow, ChallengeAction } from '../../../src/capture/flow.ts';
import { checkFresh } from '../../../src/capture/fresh.ts';
import { acrHigh } from '../../../src/oidc/acr.ts';
import { dataDir, describeWithData, face } from '../../helpers/data.ts';
import { closeEyes } from '../../helpers/derive.ts';
import { config, getEngine } from '../../helpers/engine.ts';
import { liveFrames, warmLiveCitizen } from '../../helpers/live.ts';

type Frame = Frames[number];
type Shot = { bytes: Buffer; analysis: Frame };

const settings = config.capture.challenge;
const step = 400; // ms between frames, as the page captures them
const times = (n: number, gapAt = -1, gap = 0) => Array.from({ length: n }, (_, i) => i * step + (gapAt >= 0 && i >= gapAt ? gap : 0));
const digest = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const flow = (actions: ChallengeAction[]) => ({ acr: acrHigh, actions }) as CaptureFlow;

describeWithData('the challenge checker on the selfie video', () => {
  let shots: Shot[];
  let base: Shot;
  let neutral: Shot[];
  let perform: Record<ChallengeAction, Shot[]>;
  let template: Float32Array;

  beforeAll(async () => {
    const engine = await getEngine();
    const video = splitMjpeg(readFileSync(join(dataDir, 'video', 'lin_manuel_miranda_selfie.mjpeg'))).map((f) => Buffer.from(f));
    shots = [];
    for (const bytes of video) shots.push({ bytes, analysis: (await engine.analyze(bytes, { grade: 'capture' })) as Frame });
    // The citizen looks straight first: the frame that passed quality with the smallest |yaw|.
    base = shots.filter((s) => s.analysis.quality.ok).reduce((a, b) => (Math.abs(b.analysis.face.pose.yaw) < Math.abs(a.analysis.face.pose.yaw) ? b : a));
    const yaw = (s: Shot) => s.analysis.face.pose.yaw - base.analysis.face.pose.yaw;
    const nose = (s: Shot) => noseOffset(s.analysis) - noseOffset(base.analysis);
    /** The first frames (in video order) that show the turn: she turns and holds it (the page takes 4 per action). */
    const firstFour = (ok: (s: Shot) => boolean) => shots.filter(ok).slice(0, 4);
    const still = (s: Shot) => s.analysis.quality.ok && Math.abs(yaw(s)) < settings.minYawChangeDeg && Math.abs(nose(s)) < settings.minNoseShift;
    // The page takes two frames looking straight before the first action.
    neutral = [base, ...shots.slice(shots.indexOf(base) + 1).filter(still).slice(0, 1)];
    // The video has no blink: paint the eyelids shut on a frame near the neutral pose (the first
    // whose painted eyes the eye model reads as closed; pitched frames keep some eye visible).
    let blink: Shot | undefined;
    for (const s of shots.filter(still)) {
      const bytes = await closeEyes(s.bytes, s.analysis.face.landmarks);
      const analysis = (await engine.analyze(bytes, { grade: 'capture' })) as Frame;
      if (Math.max(...analysis.face.eyesOpen) < settings.eyesClosedBelow) { blink = { bytes, analysis }; break; }
    }
    perform = {
      turn_left: firstFour((s) => yaw(s) <= -settings.minYawChangeDeg && nose(s) >= settings.minNoseShift),
      turn_right: firstFour((s) => yaw(s) >= settings.minYawChangeDeg && nose(s) <= -settings.minNoseShift),
      blink: blink ? [blink] : [],
    };
    const registry = await engine.analyze(face('lin_manuel_miranda', 'lin_manuel_miranda_1.png'), { grade: 'enrollment' });
    template = new Float32Array(registry.face!.embedding!);
    await warmLiveCitizen();
  }, 180_000);

  /** The neutral frames, then each action's frames. */
  const sequence = (actions: ChallengeAction[]): Shot[] => [...neutral, ...actions.flatMap((a) => perform[a])];
  const run = (seq: Shot[], actions: ChallengeAction[], timestamps: number[] | null = times(seq.length), arrivals?: number[]) => decide(
    seq.map((s) => s.analysis) as ImageAnalysis[],
    { flow: flow(actions), template, config, timestamps: timestamps ?? undefined, arrivals, digests: seq.map((s) => digest(s.bytes)) },
  );
  /** What the live citizen's camera delivers for `actions`, analysed. */
  const performed = async (actions: ChallengeAction[]): Promise<Shot[]> => {
    const engine = await getEngine();
    return Promise.all((await liveFrames(actions)).map(async (bytes) => ({ bytes, analysis: (await engine.analyze(bytes, { grade: 'capture' })) as Frame })));
  };

  it('finds frames for every action in the video (and a painted blink)', () => {
    expect(perform.turn_left.length).toBeGreaterThan(0);
    expect(perform.turn_right.length).toBeGreaterThan(0);
    expect(perform.blink.length).toBe(1);
  });

  const all: ChallengeAction[] = ['blink', 'turn_left', 'turn_right'];
  for (const a of all) {
    for (const b of all.filter((x) => x !== a)) {
      it(`verifies ${a} then ${b} performed in order`, async () => {
        const decision = run(await performed([a, b]), [a, b]);
        expect(decision.checks.map((c) => [c.name, c.outcome])).toEqual([
          ['quality', 'pass'], ['fresh', 'pass'], ['scene', 'pass'], ['motion', 'pass'], ['challenge', 'pass'], ['same_person', 'pass'], ['liveness', 'pass'], ['match', 'pass'],
        ]);
        expect(decision.outcome).toBe('verified');
      }, 60_000);

      it(`asks for a retry when ${b} comes before ${a}`, async () => {
        const decision = run(await performed([b, a]), [a, b]);
        expect(decision).toMatchObject({ outcome: 'retry', code: 'challenge_failed' });
        expect(decision.checks.at(-1)).toMatchObject({ name: 'challenge', reason: expect.stringMatching(/^(unrequested_action|action_not_seen)$/) });
      }, 60_000);
    }
  }

  it('refuses frames picked for their pose: a recording re-ordered to the actions jumps instead of sweeping', () => {
    for (const actions of [['turn_left', 'turn_right'], ['turn_right', 'blink']] as ChallengeAction[][]) {
      const decision = run(sequence(actions), actions);
      expect([actions, decision.outcome, decision.checks.at(-1)?.reason]).toEqual([actions, 'retry', 'turn_without_sweep']);
    }
  });

  it('records what it measured for each action, timed by the server\'s arrival times', async () => {
    const seq = await performed(['turn_left', 'turn_right']);
    const arrivals = seq.map((_, i) => 1_000_000 + i * 200);
    const challenge = run(seq, ['turn_left', 'turn_right'], null, arrivals).checks.find((c) => c.name === 'challenge')!;
    const [left, right] = (challenge.measured as { actions: Array<{ action: string; yawChangeDeg: number; noseShift: number; afterMs: number }> }).actions;
    expect(left).toMatchObject({ action: 'turn_left', afterMs: expect.any(Number) });
    expect(left.yawChangeDeg).toBeLessThanOrEqual(-settings.minYawChangeDeg);
    expect(left.noseShift).toBeGreaterThanOrEqual(settings.minNoseShift);
    expect(right.yawChangeDeg).toBeGreaterThanOrEqual(settings.minYawChangeDeg);
    expect(right.noseShift).toBeLessThanOrEqual(-settings.minNoseShift);
  }, 60_000);

  it('fails the same frame sent twice (same bytes)', () => {
    const seq = [...sequence(['turn_left', 'turn_right'])];
    seq.push(seq[1]);
    const decision = run(seq, ['turn_left', 'turn_right']);
    expect(decision).toMatchObject({ outcome: 'failed', code: 'not_live' });
    expect(decision.checks.at(-1)).toMatchObject({ name: 'fresh', reason: 'duplicate_frames' });
  });

  it('fails a still picture re-encoded into every frame (a photo played as a camera)', async () => {
    const engine = await getEngine();
    const stills: Shot[] = [];
    for (const q of [95, 90, 85, 80, 75]) {
      const bytes = await sharp(base.bytes).jpeg({ quality: q }).toBuffer();
      stills.push({ bytes, analysis: (await engine.analyze(bytes, { grade: 'capture' })) as Frame });
    }
    const decision = run(stills, ['turn_left', 'blink']);
    expect(decision).toMatchObject({ outcome: 'failed', code: 'not_live' });
    expect(decision.checks.at(-1)).toMatchObject({ name: 'fresh', reason: 'repeated_frames' });
  });

  it('fails a loop: the sequence played twice', () => {
    const once = sequence(['turn_right', 'turn_left']);
    const looped = [...once, ...once.map((s) => ({ ...s, bytes: Buffer.concat([s.bytes, Buffer.from([0])]) }))];
    const decision = run(looped, ['turn_right', 'turn_left']);
    expect(decision.checks.find((c) => c.name === 'fresh')).toMatchObject({ outcome: 'fail', reason: 'repeated_frames' });
  });

  it('fails frames that never move across the submission (static input)', () => {
    // Landmarks within a pixel of each other; embeddings of other frames, so no two look like one picture.
    const frames = [0, 1, 2].map((k) => ({
      ...base.analysis,
      face: { ...base.analysis.face, embedding: shots[k * 10].analysis.face.embedding, landmarks: base.analysis.face.landmarks.map((p) => ({ x: p.x + k * 0.5, y: p.y })) },
    }));
    const result = checkFresh(frames as Frames, { flow: flow(['blink']), config });
    expect(result).toMatchObject({ outcome: 'fail', reason: 'static_input' });
  });

  it('asks for a retry when an action arrives after its time window (server arrival times)', async () => {
    const seq = await performed(['turn_right', 'blink']);
    const arrivals = seq.map((_, i) => 1_000_000 + i * 200 + (i >= 2 ? settings.actionWindowMs : 0));
    const decision = run(seq, ['turn_right', 'blink'], null, arrivals);
    expect(decision.checks.at(-1)).toMatchObject({ name: 'challenge', outcome: 'retry', reason: 'action_too_late', score: 0 });
  }, 60_000);

  it('never needs the client\'s capture times: they are a consistency signal, not what passes a challenge', async () => {
    const seq = await performed(['turn_right', 'blink']);
    expect(run(seq, ['turn_right', 'blink'], null).outcome).toBe('verified');
  }, 60_000);

  it('does not count a photo turned in the hand as a head turn', async () => {
    // A flat picture rotated about the vertical axis looks narrower: an affine squeeze. The nose
    // keeps its place between the eyes in inter-eye units, so no turn is seen.
    const engine = await getEngine();
    const { width, height } = await sharp(base.bytes).metadata();
    const squeezed: Shot[] = [];
    for (const k of [0.85, 0.7, 0.6]) {
      const bytes = await sharp(base.bytes).resize(Math.round(width! * k), height!, { fit: 'fill' }).jpeg({ quality: 90 }).toBuffer();
      squeezed.push({ bytes, analysis: (await engine.analyze(bytes, { grade: 'capture' })) as Frame });
    }
    for (const action of ['turn_left', 'turn_right'] as const) {
      const result = checkChallenge([base, ...squeezed].map((s) => s.analysis), [true, false, false, false], [action], times(4), settings);
      expect([action, result.outcome]).toEqual([action, 'retry']);
    }
  });

  it('fails the challenge on a still photo of the citizen sent as every frame', async () => {
    const photo = face('lin_manuel_miranda', 'lin_manuel_miranda_1.png');
    const engine = await getEngine();
    const a = (await engine.analyze(photo, { grade: 'capture' })) as Frame;
    const decision = decide([a, a, a, a] as ImageAnalysis[], { flow: flow(['turn_left', 'blink']), template, config, timestamps: times(4), digests: [1, 2, 3, 4].map(String) });
    expect(decision).toMatchObject({ outcome: 'failed', code: 'not_live' });
  });
});

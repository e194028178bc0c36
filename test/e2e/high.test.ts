// LoA high end to end: the server picks random actions and prompts them one at a time over the
// capture's stream, after random delays; the citizen's frames must perform each after its prompt,
// in order (head turns measured on the landmarks, a blink as closed eyes after open ones), passive
// liveness and the match at the high threshold on the neutral frames, same person throughout.
// Frames come from the shared selfie video of a real person (and one with eyelids painted shut).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import * as client from 'openid-client';
import { splitMjpeg } from '../../src/biometrics/mjpeg.ts';
import { decide } from '../../src/capture/decide.ts';
import type { CaptureFlow, ChallengeAction } from '../../src/capture/flow.ts';
import { embeddingModelId, loadTemplate } from '../../src/registry/templates.ts';
import { createSealer } from '../../src/shared/sealed.ts';
import { acrHigh, acrSubstantial, connectAgency, consentAndReturn, createAgencyKeys, startSignIn, verifyFace, type Agency } from '../helpers/agency.ts';
import { dataDir, describeWithData, face } from '../helpers/data.ts';
import { closeEyes, freshBytes } from '../helpers/derive.ts';
import { config as engineConfig, getEngine } from '../helpers/engine.ts';
import { liveCamera, liveFrames, warmLiveCitizen } from '../helpers/live.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import type { StreamCamera } from '../helpers/stream.ts';

type Action = ChallengeAction;
type Checks = Array<{ name: string; reason?: string }>;

describeWithData('sign-in at LoA high', () => {
  let gw: TestGateway;
  let agency: Agency;
  let video: Buffer[];
  let blink: Buffer;
  const nationalId = 'LM18800116';

  // Frames of the selfie video, as `npm run eval:video` measures them (docs/calibration.md): 31 and
  // 32 look straight; 10-13 have the head turned to the picture's left (the citizen's right); 36-39
  // to the picture's right (the citizen's left). The video has no blink: eyelids painted shut on a
  // straight frame.
  const neutral = () => [video[31], video[32]];
  const perform: Record<Action, () => Buffer[]> = {
    turn_right: () => [video[10], video[11], video[12], video[13]],
    turn_left: () => [video[36], video[37], video[38], video[39]],
    blink: () => [blink],
  };
  /** Capture times (epoch ms) 400 ms apart, as the page takes them. */
  const times = (n: number) => Array.from({ length: n }, (_, i) => Date.now() - (n - i) * 400);
  // Each frame sent gets new bytes (the pixels stay): the same bytes again are refused as a replay.
  const shot = freshBytes;

  /**
   * A recording of the citizen re-ordered to the prompts as they come: its straight frames until
   * a prompt, then the frames picked from it for that action (they jump to the pose instead of
   * sweeping through it), then straight again. Each frame new bytes.
   */
  const recording = (): StreamCamera => {
    const queue: Buffer[] = [];
    let k = 0;
    return {
      next: async () => shot(queue.shift() ?? neutral()[k++ % 2]),
      follow: (a) => { queue.length = 0; queue.push(...perform[a]()); },
    };
  };

  /** The newest capture.decided audit row: what the decision read, never shown to the client. */
  const lastDecision = async () => {
    const row = await gw.database.db('audit_events').where({ type: 'capture.decided' }).orderBy('id', 'desc').first();
    return JSON.parse(row.details) as { captureId: string; status: string; checks: Checks };
  };
  /** The actions a capture was started with (the audit trail keeps them; the client is not told). */
  const actionsOf = async (captureId: string) => {
    const rows = await gw.database.db('audit_events').where({ type: 'capture.started' }).select();
    return rows.map((e) => JSON.parse(e.details) as { captureId: string; actions: Action[] }).find((d) => d.captureId === captureId)!.actions;
  };
  const signIn = () => startSignIn(agency, { acr: acrHigh, scope: 'openid profile' });

  beforeAll(async () => {
    video = splitMjpeg(readFileSync(join(dataDir, 'video', 'lin_manuel_miranda_selfie.mjpeg'))).map((f) => Buffer.from(f));
    const engine = await getEngine();
    for (const i of [31, 32, 33, 30, 4, 5]) {
      blink = await closeEyes(video[i], (await engine.analyze(video[i])).face!.landmarks);
      if (Math.max(...(await engine.analyze(blink)).face!.eyesOpen) < engineConfig.capture.challenge.eyesClosedBelow) break;
    }
    // Shorter prompt delays and look-straight step than the defaults: the same protocol, quicker.
    gw = await startTestGateway({ capture: { stream: { promptDelayMs: [300, 700], neutralMs: 600, deadlineMs: 20_000 } } });
    await gw.enroll(nationalId, face('lin_manuel_miranda', 'lin_manuel_miranda_1.png'));
    const keys = await createAgencyKeys('police-eid');
    await gw.registerAgency({ clientId: keys.clientId, jwks: keys.jwks, scopes: ['openid', 'profile'] });
    agency = await connectAgency(gw.issuer, keys);
    await warmLiveCitizen();
  }, 180_000);
  afterAll(() => gw?.close());

  it('verifies a citizen who performs the random actions as prompted, and the ID token says high', async () => {
    const s = await signIn();
    // The live citizen: straight until a prompt, each turn swept out and back as filmed, a blink that reopens.
    const { start, run, submit, captureId } = await verifyFace(s, nationalId);
    expect(start.json).toMatchObject({ acr: acrHigh, minFrames: 3, steps: 2 });
    expect(start.json).not.toHaveProperty('actions');
    const actions = await actionsOf(captureId);
    expect(actions).toHaveLength(2);
    expect(new Set(actions).size).toBe(2);
    // Each action is revealed by its own prompt, in the capture's order, after the look-straight step.
    expect(run.prompts.map((p) => p.action)).toEqual(['look_straight', ...actions]);
    expect(run.error).toBeUndefined();
    expect(submit.json).toMatchObject({ status: 'verified', redirectTo: expect.any(String) });

    const back2 = await consentAndReturn(s, (submit.json as { redirectTo: string }).redirectTo!);
    const tokens = await client.authorizationCodeGrant(agency.config, new URL(back2.location!), {
      pkceCodeVerifier: s.verifier, expectedNonce: s.nonce, expectedState: s.state,
    }, undefined, { DPoP: s.DPoP });
    expect(tokens.claims()).toMatchObject({ acr: acrHigh, amr: ['face', 'user'] });

    // A session at high also answers a request for substantial without a new face check.
    const lower = await startSignIn(agency, { browser: s.browser, acr: acrSubstantial, scope: 'openid profile' });
    expect(lower.landed.location ?? '').toContain(agency.redirectUri);
  }, 90_000);

  it('accepts every order of every pair of actions the server may pick', async () => {
    const engine = await getEngine();
    const sealer = createSealer(gw.config.secrets.dataKeys, gw.config.secrets.dataKeyId);
    const citizen = await gw.database.db('citizens').where({ national_id: nationalId }).first();
    const analyses = new Map<Buffer, Awaited<ReturnType<typeof engine.analyze>>>();
    const analyze = async (b: Buffer) => analyses.get(b) ?? analyses.set(b, await engine.analyze(b)).get(b)!;
    const template = await loadTemplate(gw.database.db, sealer, citizen.id, embeddingModelId((await analyze(video[4])).models));
    const all: Action[] = ['blink', 'turn_left', 'turn_right'];
    for (const a of all) {
      for (const b of all.filter((x) => x !== a)) {
        const flow = { acr: acrHigh, actions: [a, b] } as CaptureFlow;
        const frames = await Promise.all((await liveFrames([a, b])).map(analyze));
        const decision = decide(frames, { flow, template, config: gw.config, timestamps: times(frames.length) });
        expect([a, b, decision.outcome, decision.outcome === 'verified' ? undefined : decision.checks.at(-1)]).toEqual([a, b, 'verified', undefined]);
      }
    }
  }, 120_000);

  it('refuses a recording re-ordered to the prompts: frames picked for their pose, played after each prompt', async () => {
    const s = await signIn();
    const { run, submit, captureId } = await verifyFace(s, nationalId, recording());
    // The recording did follow the prompts: both actions were asked for and shown after their prompt.
    expect(run.prompts.map((p) => p.action)).toEqual(['look_straight', ...await actionsOf(captureId)]);
    expect(submit.json).toMatchObject({ status: 'rejected', feedback: [{ code: 'not_live' }], attemptsLeft: 2 });
    // Presence fails first: a recording holds straight longer than its straight frames last, and
    // shows one of them again (new bytes, the same picture).
    const decided = await lastDecision();
    expect(decided.captureId).toBe(captureId);
    expect(decided.checks.at(-1)).toMatchObject({ name: 'fresh', reason: 'repeated_frames' });
  }, 90_000);

  it('asks for a retry when the citizen performs the actions in the wrong order', async () => {
    const s = await signIn();
    const cam = await liveCamera();
    let actions: Action[] | undefined;
    const uid = new URL(s.landed.url).pathname.split('/')[2];
    // This client knows the actions (here from the server's own record) and performs them in the
    // reverse order: at the first prompt, the second action. Then its camera stops (the stream's
    // end message), rather than film the citizen looking straight until the action's window is over.
    let left = Infinity;
    const camera: StreamCamera = {
      next: async () => (left-- > 0 ? cam.next() : undefined),
      follow: async (prompted) => {
        actions ??= JSON.parse((await gw.database.db('capture_sessions').where({ interaction_uid: uid }).first()).actions) as Action[];
        const performed = actions[actions.length - 1 - actions.indexOf(prompted)];
        await cam.follow(performed);
        left = performed === 'blink' ? 4 : 16;
      },
    };
    const { run, submit } = await verifyFace(s, nationalId, camera);
    expect(submit.json).toMatchObject({ status: 'retry', feedback: [{ code: 'challenge_failed' }] });
    // The first action was never shown: the server did not move on to the second prompt.
    expect(run.prompts.map((p) => p.action)).toEqual(['look_straight', actions![0]]);
    expect((await lastDecision()).checks.at(-1)).toMatchObject({ name: 'challenge', reason: expect.stringMatching(/^(unrequested_action|action_not_seen)$/) });
  }, 90_000);

  it('refuses one still photo sent again and again: the same bytes twice are a replay', async () => {
    const s = await signIn();
    const { submit } = await verifyFace(s, nationalId, Array.from({ length: 6 }, () => face('lin_manuel_miranda', 'lin_manuel_miranda_1.png')));
    expect(submit.json).toMatchObject({ status: 'rejected', feedback: [{ code: 'not_verified' }], attemptsLeft: 2 });
    // Refused on the bytes, before the face engine ran: no check was made.
    const decided = await lastDecision() as Awaited<ReturnType<typeof lastDecision>> & { signals: { flags: string[] }; risk: { action: string } };
    expect(decided).toMatchObject({ risk: { action: 'deny' }, signals: { flags: expect.arrayContaining(['duplicate_frame']) } });
    expect(decided.checks).toBeUndefined();
  }, 90_000);

  it('refuses a still picture played as the camera, each copy with new bytes: not live', async () => {
    const s = await signIn();
    const { submit, captureId } = await verifyFace(s, nationalId, Array.from({ length: 6 }, () => shot(video[31])));
    expect(submit.json).toMatchObject({ status: 'rejected', feedback: [{ code: 'not_live' }], attemptsLeft: 2 });
    const details = await lastDecision();
    expect(details.captureId).toBe(captureId);
    expect(details.checks.at(-1)).toMatchObject({ name: 'fresh', reason: 'repeated_frames' });
  }, 90_000);

  it('refuses a stream that ends with fewer frames than the challenge needs', async () => {
    const s = await signIn();
    const { submit, start } = await verifyFace(s, nationalId, neutral().map(shot));
    expect((start.json as { minFrames: number }).minFrames).toBeGreaterThan(neutral().length);
    expect(submit.status).toBe(400);
    expect((submit.json as { error: { code: string } }).error.code).toBe('too_few_frames');
  }, 60_000);
});

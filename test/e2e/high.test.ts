// LoA high end to end: the server picks random actions, the citizen's frames must perform them in
// order (head turns measured on the landmarks, a blink as closed eyes after open ones), passive
// liveness and the match at the high threshold on the neutral frames, same person throughout.
// Frames come from the shared selfie video of a real person (and one with eyelids painted shut).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import * as client from 'openid-client';
import { splitMjpeg } from '../../src/biometrics/mjpeg.ts';
import { decide } from '../../src/capture/decide.ts';
import type { CaptureFlow } from '../../src/capture/flow.ts';
import { embeddingModelId, loadTemplate } from '../../src/registry/templates.ts';
import { createSealer } from '../../src/shared/sealed.ts';
import { acrHigh, acrSubstantial, connectAgency, consentAndReturn, createAgencyKeys, framesBody, interactionJson, startSignIn, type Agency, type SignIn } from '../helpers/agency.ts';
import { dataDir, describeWithData, face } from '../helpers/data.ts';
import { closeEyes, freshBytes } from '../helpers/derive.ts';
import { config as engineConfig, getEngine } from '../helpers/engine.ts';
import { liveFrames, warmLiveCitizen } from '../helpers/live.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';

type Action = 'blink' | 'turn_left' | 'turn_right';

describeWithData('sign-in at LoA high', () => {
  let gw: TestGateway;
  let agency: Agency;
  let video: Buffer[];
  let blink: Buffer;
  const nationalId = 'LM18800116';

  // Frames of the selfie video, as `npm run eval:video` measures them (docs/calibration.md): 31 and
  // 32 look straight; 10-13 have the head turned to the picture's left (the citizen's right); 36-39
  // to the picture's right (the citizen's left). A cooperative citizen: two frames looking straight,
  // then four frames per action. The video has no blink: eyelids painted shut on a straight frame.
  const neutral = () => [video[31], video[32]];
  const perform: Record<Action, () => Buffer[]> = {
    turn_right: () => [video[10], video[11], video[12], video[13]],
    turn_left: () => [video[36], video[37], video[38], video[39]],
    blink: () => [blink],
  };
  const sequence = (actions: Action[]) => [...neutral(), ...actions.flatMap((a) => perform[a]())];
  /** Capture times (epoch ms) 400 ms apart, as the page takes them. */
  const times = (n: number) => Array.from({ length: n }, (_, i) => Date.now() - (n - i) * 400);
  // Each frame sent gets new bytes (the pixels stay): the same bytes again are refused as a replay.
  const shot = freshBytes;

  beforeAll(async () => {
    video = splitMjpeg(readFileSync(join(dataDir, 'video', 'lin_manuel_miranda_selfie.mjpeg'))).map((f) => Buffer.from(f));
    const engine = await getEngine();
    for (const i of [31, 32, 33, 30, 4, 5]) {
      blink = await closeEyes(video[i], (await engine.analyze(video[i])).face!.landmarks);
      if (Math.max(...(await engine.analyze(blink)).face!.eyesOpen) < engineConfig.capture.challenge.eyesClosedBelow) break;
    }
    gw = await startTestGateway();
    await gw.enroll(nationalId, face('lin_manuel_miranda', 'lin_manuel_miranda_1.png'));
    const keys = await createAgencyKeys('police-eid');
    await gw.registerAgency({ clientId: keys.clientId, jwks: keys.jwks, scopes: ['openid', 'profile'] });
    agency = await connectAgency(gw.issuer, keys);
    await warmLiveCitizen();
  }, 180_000);
  afterAll(() => gw?.close());

  async function capture(s: SignIn) {
    const it1 = await interactionJson(s, s.landed.url);
    const start = await s.browser.request(`${gw.issuer}${it1.endpoints.capture}`, {
      method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': it1.csrf },
      body: JSON.stringify({ nationalId }),
    });
    const started = start.json as { captureId: string; actions: Action[]; minFrames: number; maxFrames: number; acr: string };
    const send = (frames: Buffer[]) => s.browser.request(`${gw.issuer}${it1.endpoints.capture}/${started.captureId}/frames`, {
      method: 'POST', headers: { accept: 'application/json', 'x-csrf-token': it1.csrf }, body: framesBody(frames.map(shot), 'image/jpeg', times(frames.length)),
    });
    return { started, send };
  }

  it('verifies a citizen who performs the random actions, and the ID token says high', async () => {
    const s = await startSignIn(agency, { acr: acrHigh, scope: 'openid profile' });
    const { started, send } = await capture(s);
    expect(started).toMatchObject({ acr: acrHigh, minFrames: 3 });
    expect(started.actions.length).toBe(2);
    expect(new Set(started.actions).size).toBe(2);
    // The live citizen: each turn swept out and back as filmed, a blink that reopens.
    const answer = await send(await liveFrames(started.actions));
    expect(answer.json).toMatchObject({ status: 'verified' });

    const back2 = await consentAndReturn(s, (answer.json as { redirectTo: string }).redirectTo);
    const tokens = await client.authorizationCodeGrant(agency.config, new URL(back2.location!), {
      pkceCodeVerifier: s.verifier, expectedNonce: s.nonce, expectedState: s.state,
    }, undefined, { DPoP: s.DPoP });
    expect(tokens.claims()).toMatchObject({ acr: acrHigh, amr: ['face', 'user'] });

    // A session at high also answers a request for substantial without a new face check.
    const lower = await startSignIn(agency, { browser: s.browser, acr: acrSubstantial, scope: 'openid profile' });
    expect(lower.landed.location ?? '').toContain(agency.redirectUri);
  });

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

  it('refuses a recording re-ordered to the actions: frames picked for their pose jump instead of sweeping', async () => {
    const s = await startSignIn(agency, { acr: acrHigh, scope: 'openid profile' });
    const { started, send } = await capture(s);
    const answer = await send(sequence(started.actions));
    expect(answer.json).not.toMatchObject({ status: 'verified' });
  });

  it('asks for a retry when the actions come in the wrong order', async () => {
    const s = await startSignIn(agency, { acr: acrHigh, scope: 'openid profile' });
    const { started, send } = await capture(s);
    const answer = await send(await liveFrames([...started.actions].reverse()));
    expect(answer.json).toMatchObject({ status: 'retry', feedback: [{ code: 'challenge_failed' }] });
  });

  it('refuses one still photo sent again and again: the same bytes twice are a replay', async () => {
    const s = await startSignIn(agency, { acr: acrHigh, scope: 'openid profile' });
    const { send } = await capture(s);
    const answer = await send(Array.from({ length: 6 }, () => face('lin_manuel_miranda', 'lin_manuel_miranda_1.png')));
    expect(answer.json).toMatchObject({ status: 'rejected', feedback: [{ code: 'not_verified' }], attemptsLeft: 2 });
  });

  it('refuses a still picture played as the camera, each copy with new bytes: not live', async () => {
    const s = await startSignIn(agency, { acr: acrHigh, scope: 'openid profile' });
    const { started, send } = await capture(s);
    const answer = await send(Array.from({ length: 6 }, () => video[31]));
    expect(answer.json).toMatchObject({ status: 'rejected', feedback: [{ code: 'not_verified' }], attemptsLeft: 2 });
    const row = await gw.database.db('audit_events').where({ type: 'capture.decided' }).orderBy('id', 'desc').first();
    const details = JSON.parse(row.details) as { captureId: string; checks: Array<{ name: string; reason?: string }> };
    expect(details.captureId).toBe(started.captureId);
    expect(details.checks.at(-1)).toMatchObject({ name: 'fresh', reason: 'repeated_frames' });
  });

  it('refuses fewer frames than the challenge needs', async () => {
    const s = await startSignIn(agency, { acr: acrHigh, scope: 'openid profile' });
    const { send } = await capture(s);
    const answer = await send(neutral());
    expect(answer.status).toBe(400);
    expect((answer.json as { error: { code: string } }).error.code).toBe('too_few_frames');
  });
});

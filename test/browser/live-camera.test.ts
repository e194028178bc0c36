// In a real Chromium, a camera that follows the page's instructions: getUserMedia is a canvas the
// test draws into (helpers/chromium.ts canvas), with real frames of the shared selfie video and
// per-run sensor noise (helpers/live.ts liveCamera: straight, turned left, turned right, eyes
// shut), the next one each time the page takes a picture, following what #challenge asks. A
// cooperative citizen signs in at substantial and at high through the demo agency on the first
// try; through the same page, a still photo as the camera, a video looping whatever the page
// says, and a citizen who turns before she is asked do not.
import { expect, it, jest } from '@jest/globals';
import type { ChallengeAction } from '../../src/capture/flow.ts';
import { sensor, rng } from '../../bench/pad-corpus.ts';
import { followingThePage } from '../helpers/canvas-camera.ts';
import { describeWithBrowser, type CanvasCamera } from '../helpers/chromium.ts';
import { face } from '../helpers/data.ts';
import { cameraShot } from '../helpers/derive.ts';
import { citizenPhoto, liveCamera, warmLiveCitizen } from '../helpers/live.ts';
import { acrHigh, acrSubstantial, allowAndReadClaims, decidedCaptures, driveToEnd, expectEnding, failedCheck, openSignInFromDemo, startCamera, useScenarios } from './flow.ts';

jest.setTimeout(300_000);

/** The live citizen in front of the camera, doing what the page shows. */
const cooperative = async (): Promise<CanvasCamera> => followingThePage(await liveCamera());

describeWithBrowser('browser: a camera that follows the instructions', () => {
  const scenarios = useScenarios();
  const nationalId = 'LM19800118';
  const open = async (test: string, canvas: CanvasCamera) => scenarios.open(test, { canvas, citizens: [[nationalId, citizenPhoto()]] });

  it('warms the live citizen', async () => { await warmLiveCitizen(); }, 180_000);

  it.each([['substantial', acrSubstantial], ['high', acrHigh]] as const)('signs the citizen in at %s on the first try', async (level, acr) => {
    const s = await open(`live-camera-${level}`, await cooperative());
    await openSignInFromDemo(s, level);
    await startCamera(s, nationalId);
    const ending = await driveToEnd(s, { restarts: 0 });
    await expectEnding(s, ending, 'consent');
    const decided = await decidedCaptures(s.gw);
    expect(decided.map((d) => d.status)).toEqual(['verified']);
    const claims = await allowAndReadClaims(s);
    expect(claims.acr).toBe(acr);
    expect(s.tb.problems).toEqual([]);
  });

  it('refuses a still photo held up as the camera', async () => {
    const photo = await cameraShot(face('lin_manuel_miranda', 'lin_manuel_miranda_1.png'));
    const r = rng(7);
    const s = await open('live-camera-still-photo', { next: () => sensor(photo, r) });
    await openSignInFromDemo(s, 'substantial');
    await startCamera(s, nationalId);
    const ending = await driveToEnd(s, { restarts: 1 });
    expect(ending.end).not.toBe('consent');
    const decided = await decidedCaptures(s.gw);
    expect(decided.length).toBeGreaterThan(0);
    for (const d of decided) expect(d.status).not.toBe('verified');
    expect(decided.map((d) => failedCheck(d)?.name)).toEqual(expect.arrayContaining([expect.stringMatching(/^(fresh|motion|challenge|quality)$/)]));
  });

  it('refuses a recording looping whatever the page asks', async () => {
    const cam = await liveCamera();
    // The whole recording, turning right, back and left, over and over, deaf to the instructions.
    let k = 0;
    const loop: ChallengeAction[] = ['turn_right', 'turn_left'];
    const s = await open('live-camera-loop', { next: async () => { if (k++ % 8 === 0) await cam.follow(loop[(k >> 3) % 2]); return cam.next(); } });
    await openSignInFromDemo(s, 'high');
    await startCamera(s, nationalId);
    const ending = await driveToEnd(s, { restarts: 1 });
    expect(ending.end).not.toBe('consent');
    const decided = await decidedCaptures(s.gw);
    for (const d of decided) expect(d.status).not.toBe('verified');
    expect(decided.map((d) => failedCheck(d)?.name)).toContain('challenge');
  });

  it('refuses a turn made before the page asks for it', async () => {
    const cam = await liveCamera();
    // Guesses the turn: makes it as soon as the capture begins, before any instruction, then
    // follows the instructions like anyone.
    let turned = false;
    let following = '';
    const s = await open('live-camera-early', {
      async next(action) {
        if (!turned && await s.page.getAttribute('#sign-in-form', 'data-state').catch(() => null) === 'capturing') {
          turned = true;
          await cam.follow('turn_left');
        }
        if (action && action !== following) await cam.follow(action as ChallengeAction);
        following = action;
        return cam.next();
      },
    });
    await openSignInFromDemo(s, 'substantial');
    await startCamera(s, nationalId);
    await driveToEnd(s, { restarts: 0 });
    const decided = await decidedCaptures(s.gw);
    expect(decided[0]?.status).not.toBe('verified');
    expect(failedCheck(decided[0])).toMatchObject({ name: 'challenge', reason: expect.stringMatching(/^(action_before_prompt|unrequested_action)$/) });
  });
});

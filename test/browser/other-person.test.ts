// In a real Chromium, another live person in front of the camera for a citizen's national ID at
// substantial: refused with not_verified, never verified, and refused by the match (presence
// passes: the camera shows a real, moving person; a still photo would be stopped before the match).
// The live person is the shared selfie video's; the ID is enrolled with Obama's photo. A file
// camera cannot follow instructions, so this gateway runs substantial without its turn.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it, jest } from '@jest/globals';
import { splitMjpeg } from '../../src/biometrics/mjpeg.ts';
import { dataDir, face } from '../helpers/data.ts';
import { describeWithBrowser } from '../helpers/chromium.ts';
import { framesAsCamera } from '../helpers/mjpeg.ts';
import { decidedCaptures, driveToEnd, expectEnding, failedCheck, openSignInFromDemo, startCamera, useScenarios } from './flow.ts';

jest.setTimeout(420_000);

describeWithBrowser('browser: another person in front of the camera', () => {
  const scenarios = useScenarios();

  it('refuses Lin-Manuel for Obama\'s ID at substantial with not_verified', async () => {
    const nationalId = 'BO19610804';
    const video = splitMjpeg(readFileSync(join(dataDir, 'video', 'lin_manuel_miranda_selfie.mjpeg')));
    const s = await scenarios.open('other-person-substantial', {
      camera: await framesAsCamera(scenarios.dir(), 'selfie', video, { hold: 2, seconds: 60 }),
      citizens: [[nationalId, face('obama', 'obama_1.jpg')]],
      config: { capture: { substantial: { actions: 0 } } },
    });
    await openSignInFromDemo(s, 'substantial');
    await startCamera(s, nationalId);
    await s.page.waitForSelector('#camera-video', { state: 'visible', timeout: 60_000 });
    await s.shot('camera-open');

    const ending = await driveToEnd(s, { restarts: 6 });
    await s.shot('final');
    await expectEnding(s, ending, 'rejected');
    expect(ending.codes).toContain('not_verified');
    expect(s.states).not.toContain('verified');
    expect(s.page.url()).not.toContain('/demo/callback');

    const decided = await decidedCaptures(s.gw);
    expect(decided.length).toBeGreaterThan(0);
    expect(decided.filter((d) => d.status === 'verified')).toEqual([]);
    expect(decided.map((d) => failedCheck(d)?.name)).toContain('match');
  });
});

// In a real Chromium, another person's face as the camera for Lin-Manuel's national ID at
// substantial: refused with not_verified, never verified, and refused by the match.
import { expect, it, jest } from '@jest/globals';
import { face } from '../helpers/data.ts';
import { describeWithBrowser } from '../helpers/chromium.ts';
import { stillAsCamera } from '../helpers/mjpeg.ts';
import { decidedCaptures, driveToEnd, expectEnding, failedCheck, openSignInFromDemo, startCamera, useScenarios } from './flow.ts';

jest.setTimeout(420_000);

describeWithBrowser('browser: another person in front of the camera', () => {
  const scenarios = useScenarios();

  it('refuses Obama for Lin-Manuel\'s ID at substantial with not_verified', async () => {
    const nationalId = 'LM18800116';
    // obama_1: a clear, frontal, live-scoring still, so the face comparison is what must refuse it.
    const s = await scenarios.open('other-person-substantial', {
      camera: await stillAsCamera(scenarios.dir(), 'obama', face('obama', 'obama_1.jpg'), { seconds: 40 }),
      citizens: [[nationalId, face('lin_manuel_miranda', 'lin_manuel_miranda_1.png')]],
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

// In a real Chromium, a still photo of the enrolled citizen held up to the camera at LoA high: no
// motion at all, so the liveness checks refuse it, the sign-in never completes, and the audit trail
// says a liveness check (challenge, freshness, passive liveness, replay) was the reason, not quality.
import { expect, it, jest } from '@jest/globals';
import { face } from '../helpers/data.ts';
import { describeWithBrowser } from '../helpers/chromium.ts';
import { stillAsCamera } from '../helpers/mjpeg.ts';
import { type Decided, decidedCaptures, driveToEnd, expectEnding, failedCheck, openSignInFromDemo, startCamera, useScenarios } from './flow.ts';

jest.setTimeout(420_000);

/** Why a decision refused: the risk rule's denial (a replay), else the check that did not pass. */
const reasonOf = (d: Decided) => (d.risk?.action === 'deny' ? d.risk.reasons.join('+') : failedCheck(d)?.name ?? d.code ?? 'none');

describeWithBrowser('browser: a still photo as the camera at high', () => {
  const scenarios = useScenarios();
  const nationalId = 'LM18800116';
  // Read in the tests, not here: a skipped describe still runs its body (no shared data, no Chromium).
  const photo = () => face('lin_manuel_miranda', 'lin_manuel_miranda_1.png');

  async function refused(test: string, camera: string): Promise<string[]> {
    const s = await scenarios.open(test, { camera, citizens: [[nationalId, photo()]] });
    await openSignInFromDemo(s, 'high');
    await startCamera(s, nationalId);
    await s.page.waitForSelector('#camera-video', { state: 'visible', timeout: 60_000 });
    await s.shot('camera-open');

    // The page's own retries, and the citizen pressing "Try again" while it is offered.
    const ending = await driveToEnd(s, { restarts: 12 });
    await s.shot('final');
    await expectEnding(s, ending, 'rejected');
    expect(s.states).not.toContain('verified');
    expect(s.states).toContain('challenge');
    expect(s.page.url()).not.toContain('/demo/callback');

    const decided = await decidedCaptures(s.gw);
    expect(decided.length).toBeGreaterThan(0);
    expect(decided.filter((d) => d.status === 'verified')).toEqual([]);
    return decided.map(reasonOf);
  }

  it('refuses the photo in front of a camera (sensor noise, no motion) on its liveness checks', async () => {
    const reasons = await refused('still-photo-high', await stillAsCamera(scenarios.dir(), 'still-noisy', photo(), { seconds: 40 }));
    // A fresh picture each time but the same pose: the head never turns and the eyes never close.
    expect(reasons.filter((r) => r !== 'quality')).not.toEqual([]);
    expect(reasons.every((r) => /^(quality|challenge|fresh|liveness|same_person)$/.test(r) || r.includes('locked'))).toBe(true);
  });

  it('refuses byte-identical camera frames (an injected still) as a replay', async () => {
    const reasons = await refused('still-photo-identical-high', await stillAsCamera(scenarios.dir(), 'still-identical', photo(), { noise: false, seconds: 2 }));
    expect(reasons.some((r) => /duplicate_frame|replayed_frame|challenge|fresh/.test(r))).toBe(true);
    expect(reasons.every((r) => r !== 'quality')).toBe(true);
  });
});

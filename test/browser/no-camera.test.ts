// In a real Chromium without a usable camera (no device at all, or the permission refused): the
// page shows the fallback, which offers no photo upload at any level (a photo cannot show that a
// live person is there) and lists the other ways to be served; nothing is decided.
import { expect, it, jest } from '@jest/globals';
import { face } from '../helpers/data.ts';
import { describeWithBrowser } from '../helpers/chromium.ts';
import { stillAsCamera } from '../helpers/mjpeg.ts';
import { decidedCaptures, openSignInFromDemo, type Scenario, useScenarios } from './flow.ts';

jest.setTimeout(300_000);

const nationalId = 'LM18800116';
const registryPhoto = () => face('lin_manuel_miranda', 'lin_manuel_miranda_1.png');

/** Types the ID; if the page offers the camera, asks for it (and it fails); then the fallback shows. */
async function reachFallback(s: Scenario): Promise<void> {
  await s.page.fill('#nationalId', nationalId);
  await s.page.waitForSelector('#fallback:visible, #camera-start:visible', { timeout: 60_000 });
  if (await s.page.isVisible('#camera-start')) await s.page.click('#camera-start');
  await s.page.waitForSelector('#fallback', { state: 'visible', timeout: 60_000 });
  await s.page.waitForFunction(() => document.getElementById('sign-in-form')?.getAttribute('data-state') === 'fallback', undefined, { timeout: 60_000 });
  await s.shot('fallback');
}

describeWithBrowser('browser: no camera', () => {
  const scenarios = useScenarios();

  it('without a camera device, at substantial: no upload, the other ways to be served, nothing decided', async () => {
    const s = await scenarios.open('no-camera-substantial', { citizens: [[nationalId, registryPhoto()]] });
    await openSignInFromDemo(s, 'substantial');
    await reachFallback(s);
    expect(await s.page.isVisible('#frame')).toBe(false);
    expect(await s.page.isVisible('#verify')).toBe(false);
    expect(await s.page.textContent('#fallback')).toContain('A photo cannot show that you are really there');
    expect(await s.page.locator('#fallback .other-ways li').count()).toBeGreaterThanOrEqual(2);
    expect(s.states).not.toContain('verified');
    expect(await decidedCaptures(s.gw)).toEqual([]);
    expect(s.tb.problems).toEqual([]);
  });

  it('with the camera permission refused, shows the fallback and no upload at high (French browser, then English)', async () => {
    const s = await scenarios.open('no-camera-denied-high', {
      camera: await stillAsCamera(scenarios.dir(), 'lin-still', registryPhoto(), { seconds: 2 }), cameraPermission: 'denied',
      citizens: [[nationalId, registryPhoto()]], locale: 'fr-FR',
    });
    await openSignInFromDemo(s, 'high');
    // The page follows Accept-Language, and its language links switch it.
    expect(await s.page.getAttribute('html', 'lang')).toMatch(/^fr/);
    expect(await s.page.locator('a[hreflang]').count()).toBeGreaterThanOrEqual(2);
    await s.page.click('a[hreflang="en"]');
    await s.page.waitForSelector('html[lang^="en"] #sign-in-form');
    await s.shot('switched-to-english');
    await reachFallback(s);
    // At high a photo upload cannot prove liveness: the fallback explains the other ways instead.
    expect(await s.page.isVisible('#frame')).toBe(false);
    expect(await s.page.textContent('#fallback')).toMatch(/\S{3,}/);
    expect(s.states).not.toContain('verified');
    expect(await decidedCaptures(s.gw)).toEqual([]);
    expect(s.tb.problems).toEqual([]);
  });
});

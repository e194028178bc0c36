// In a real Chromium with its virtual authenticator (DevTools protocol WebAuthn domain: ctap2,
// internal transport, resident keys, user verification): the live citizen signs in at the demo
// agency with her face, is offered a passkey, adds it with the page's script (@simplewebauthn/browser
// served hashed from node_modules), and the sign-in goes on to the agency; the passkey is stored as
// hwk (a virtual platform key is backup-ineligible). Screenshots of the passkey pages at 360 and
// 1280 px wide in test-artifacts/passkeys/.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect, it, jest } from '@jest/globals';
import type { Page } from 'playwright-core';
import { listPasskeys } from '../../src/passkeys/store.ts';
import { followingThePage } from '../helpers/canvas-camera.ts';
import { describeWithBrowser } from '../helpers/chromium.ts';
import { citizenPhoto, liveCamera, warmLiveCitizen } from '../helpers/live.ts';
import { allowAndReadClaims, openSignInFromDemo, startCamera, useScenarios } from './flow.ts';

jest.setTimeout(300_000);

const shotsDir = resolve(process.cwd(), 'test-artifacts', 'passkeys');

/** The page at 360 and 1280 px wide, full height. */
async function widths(page: Page, name: string): Promise<void> {
  mkdirSync(shotsDir, { recursive: true });
  const before = page.viewportSize();
  for (const width of [360, 1280]) {
    await page.setViewportSize({ width, height: 800 });
    await page.screenshot({ path: join(shotsDir, `${name}-${width}.png`), fullPage: true, animations: 'disabled' });
  }
  if (before) await page.setViewportSize(before);
}

describeWithBrowser('browser: a passkey added after the face, with the virtual authenticator', () => {
  const scenarios = useScenarios();
  const nationalId = 'LM19800118';

  it('warms the live citizen', async () => { await warmLiveCitizen(); }, 180_000);

  it('offers a passkey after a verified face and adds it with the page script', async () => {
    const s = await scenarios.open('passkey-offer', { canvas: followingThePage(await liveCamera()), citizens: [[nationalId, citizenPhoto()]], host: 'localhost' });
    const cdp = await s.tb.context.newCDPSession(s.page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
    await openSignInFromDemo(s, 'substantial');
    await startCamera(s, nationalId);
    await s.page.waitForSelector('#passkey-step[data-mode="offer"]', { timeout: 240_000 });
    await s.page.waitForSelector('#passkey-register:not([hidden])');
    await widths(s.page, 'offer');
    await s.page.click('#passkey-register');
    await s.page.waitForSelector('button[name="decision"][value="allow"]', { timeout: 60_000 });
    const claims = await allowAndReadClaims(s);
    expect(claims.amr).toMatch(/face/);
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    expect(credentials).toHaveLength(1);
    const citizen = await s.gw.database.db('citizens').where({ national_id: nationalId }).first('id');
    const mine = await listPasskeys(s.gw.database.db, (citizen as { id: string }).id);
    expect(mine).toEqual([expect.objectContaining({ kind: 'hwk' })]);
    expect(Buffer.from(credentials[0].credentialId, 'base64').toString('base64url')).toBe(mine[0].id);
    expect(s.tb.problems).toEqual([]);
  });
});

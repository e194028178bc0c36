// In a real Chromium with its virtual authenticator (DevTools protocol WebAuthn domain: ctap2,
// internal transport, resident keys, user verification), the live citizen's passkey from start to
// end: she signs in at the demo agency with her face, is offered a passkey and adds it with the
// page's script (@simplewebauthn/browser served hashed from node_modules); it is stored as hwk (a
// virtual platform key is backup-ineligible). Her next sign-in asks for it after the face, and the
// agency's ID token says face and hwk. In her space she sees it under her devices and removes it
// (audited passkey.removed); the sign-in after that is the face alone. Screenshots of the passkey
// pages and of her devices at 360 and 1280 px wide in test-artifacts/passkeys/.
import { expect, it, jest } from '@jest/globals';
import { listPasskeys } from '../../src/passkeys/store.ts';
import { followingThePage } from '../helpers/canvas-camera.ts';
import { describeWithBrowser, widthShots } from '../helpers/chromium.ts';
import { citizenPhoto, flowTestConfig, liveCamera, warmLiveCitizen } from '../helpers/live.ts';
import { faceUntil } from './face-until.ts';
import { allowAndReadClaims, openSignInFromDemo, type Scenario, shownClaims, startCamera, useScenarios } from './flow.ts';

jest.setTimeout(600_000);

const widths = widthShots('passkeys');
const nationalId = 'LM19800118';

/** A new sign-in at the demo agency (signed out of the gateway first): the face, up to what follows it. */
async function faceAtDemo(s: Scenario, next: string): Promise<void> {
  await s.tb.context.clearCookies();
  await openSignInFromDemo(s, 'substantial');
  await startCamera(s, nationalId);
  await faceUntil(s.page, next);
}

/** From the consent page (the first time) or straight back: the claims the agency shows. */
async function claimsAtDemo(s: Scenario): Promise<Record<string, string>> {
  await s.page.waitForSelector(`button[name="decision"][value="allow"], table`, { timeout: 60_000 });
  if (await s.page.locator('button[name="decision"][value="allow"]').count()) return allowAndReadClaims(s);
  return shownClaims(s.page);
}

const audited = async (s: Scenario, type: string) => (await s.gw.database.db('audit_events').where({ type }).select('details'))
  .map((r: { details: unknown }) => (typeof r.details === 'string' ? JSON.parse(r.details) : r.details) as Record<string, unknown>);

describeWithBrowser('browser: a passkey added after the face, used at sign-in, removed in her space', () => {
  const scenarios = useScenarios();

  it('warms the live citizen', async () => { await warmLiveCitizen(); }, 180_000);

  it('adds a passkey after a verified face, signs in with face + passkey (hwk), removes it in her space', async () => {
    const s = await scenarios.open('passkey', {
      canvas: followingThePage(await liveCamera()), citizens: [[nationalId, citizenPhoto()]], host: 'localhost',
      config: flowTestConfig,
    });
    const cdp = await s.tb.context.newCDPSession(s.page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true,
      },
    });

    // 1. The first sign-in offers a passkey; she adds it.
    await faceAtDemo(s, '#passkey-step[data-mode="offer"]');
    await s.page.waitForSelector('#passkey-register:not([hidden])');
    await widths(s.page, 'offer');
    await s.page.click('#passkey-register');
    const first = await claimsAtDemo(s);
    expect(first.amr).toMatch(/face/);
    expect(first.amr).not.toMatch(/hwk|swk/);
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    expect(credentials).toHaveLength(1);
    const citizen = await s.gw.database.db('citizens').where({ national_id: nationalId }).first('id');
    const citizenId = (citizen as { id: string }).id;
    const mine = await listPasskeys(s.gw.database.db, citizenId);
    expect(mine).toEqual([expect.objectContaining({ kind: 'hwk' })]);
    expect(Buffer.from(credentials[0].credentialId, 'base64').toString('base64url')).toBe(mine[0].id);

    // 2. The next sign-in asks for it after the face: the agency gets face and hwk.
    await faceAtDemo(s, '#passkey-step[data-mode="assert"]');
    await s.page.waitForSelector('#passkey-use:not([hidden])');
    expect(await s.page.isVisible('#passkey-face-only')).toBe(true);
    await widths(s.page, 'use');
    await s.page.click('#passkey-use');
    const second = await claimsAtDemo(s);
    expect(second.amr).toMatch(/face/);
    expect(second.amr).toMatch(/hwk/);
    expect(await audited(s, 'passkey.used')).toHaveLength(1);
    expect((await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials[0].signCount).toBeGreaterThan(0);

    // 3. Her space: the passkey is under her devices; she removes it.
    await s.tb.context.clearCookies();
    await s.page.goto(`${s.gw.issuer}/account`);
    await s.page.click('#account-sign-in');
    await s.page.waitForSelector('#sign-in-form', { timeout: 60_000 });
    await startCamera(s, nationalId);
    await faceUntil(s.page, '#devices, #passkey-step[data-mode="assert"]');
    // Her space's sign-in asks for the passkey too (it is a sign-in like any other).
    if (await s.page.locator('#passkey-step').count()) {
      await s.page.waitForSelector('#passkey-use:not([hidden])');
      await s.page.click('#passkey-use');
      await s.page.waitForSelector('#devices', { timeout: 60_000 });
    }
    const device = s.page.locator(`#devices [data-device="${mine[0].id}"]`);
    expect(await device.count()).toBe(1);
    await widths(s.page, 'space-devices');
    await device.locator('button').click();
    await s.page.waitForURL(/done=removed/);
    expect(await s.page.locator('#devices [data-device]').count()).toBe(0);
    await widths(s.page, 'space-device-removed');
    expect(await listPasskeys(s.gw.database.db, citizenId)).toEqual([]);
    expect(await audited(s, 'passkey.removed')).toEqual([expect.objectContaining({ actor: 'citizen', kind: 'hwk' })]);

    // 4. The sign-in after that is the face alone (no passkey step), although Chromium still holds the key.
    const used = (await audited(s, 'passkey.used')).length;
    await faceAtDemo(s, 'button[name="decision"][value="allow"], table, #passkey-step');
    if (await s.page.locator('#passkey-step').count()) expect(await s.page.getAttribute('#passkey-step', 'data-mode')).not.toBe('assert');
    if (await s.page.locator('#passkey-later').count()) await s.page.click('#passkey-later');
    const last = await claimsAtDemo(s);
    expect(last.amr).toMatch(/face/);
    expect(last.amr).not.toMatch(/hwk|swk/);
    expect(await audited(s, 'passkey.used')).toHaveLength(used);
    expect(s.tb.problems).toEqual([]);
  });
});

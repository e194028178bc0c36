// "Finish on my phone" in a real Chromium with two devices: a desktop without a camera (its own
// context) and a phone (another context: its own cookies, the live citizen's camera following the
// page). The desktop chooses "Use my phone's camera" on the demo agency's sign-in and shows a QR code,
// the short link and the code; the phone types them, continues and does the capture; the desktop
// follows the progress and goes on to the agency, which gets its claims. A used code and an expired
// one (its expiry moved into the past in the database) give the phone a page saying what to do. A
// proof-of-life link's page offers the phone as well.
// Screenshots at 360 and 1280 px wide in test-artifacts/handoff/.
import { expect, it, jest } from '@jest/globals';
import * as client from 'openid-client';
import type { Page } from 'playwright-core';
import { buildAgencyMetadata, registerClient } from '../../src/oidc/clients.ts';
import { acrHigh, connectAgency, createAgencyKeys } from '../helpers/agency.ts';
import { startAgencyServer, testCertificate } from '../helpers/agency-server.ts';
import { openDevice, widthShots, describeWithBrowser } from '../helpers/chromium.ts';
import { followingThePage } from '../helpers/canvas-camera.ts';
import { citizenPhoto, flowTestConfig, liveCamera, warmLiveCitizen } from '../helpers/live.ts';
import { faceUntil } from './face-until.ts';
import { allowAndReadClaims, decidedCaptures, openSignInFromDemo, type Scenario, useScenarios } from './flow.ts';

jest.setTimeout(300_000);

const nationalId = 'LM19520314';
const widths = widthShots('handoff');

/**
 * On the desktop's sign-in page: types the ID and chooses the phone, straight away or (`tryCamera`)
 * after "Start the camera" found none (the fallback must still offer the phone).
 */
async function chooseThePhone(s: Scenario, tryCamera = false): Promise<{ code: string; shortLink: string }> {
  await s.page.fill('#nationalId', nationalId);
  if (tryCamera) {
    await s.page.click('#camera-start');
    await s.page.waitForFunction(() => document.getElementById('sign-in-form')?.getAttribute('data-state') === 'fallback', undefined, { timeout: 60_000 });
    await s.shot('fallback');
  }
  expect(await s.page.isVisible('#handoff-start')).toBe(true);
  await s.page.click('#handoff-start');
  await s.page.waitForSelector('#handoff[data-state="waiting"]', { timeout: 60_000 });
  // The QR code is an image the phone's camera app reads; beside it, what she can type instead.
  expect(await s.page.locator('#handoff-qr svg[role="img"] path').count()).toBeGreaterThan(0);
  const code = (await s.page.textContent('#handoff-code'))!.trim();
  expect(code).toMatch(/^[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}$/);
  const shortLink = (await s.page.textContent('.handoff-link'))!.trim();
  expect(shortLink).toBe(`${new URL(s.gw.issuer).host}/p`);
  // The expiry in her own clock, written as her browser (en-GB) does.
  expect(await s.page.textContent('#handoff time')).toMatch(/^\d{2}:\d{2}$/);
  return { code, shortLink };
}

/** A phone types the short link and the code: the page saying who asks, from which computer. */
async function typeOnPhone(phone: Page, shortLink: string, code: string): Promise<void> {
  await phone.goto(`http://${shortLink}`);
  await phone.fill('#handoff-code-input', code.toLowerCase());
  await phone.click('#handoff-lookup');
  await phone.waitForLoadState('domcontentloaded');
}

describeWithBrowser('browser: finish on my phone (desktop without a camera, phone with one)', () => {
  const scenarios = useScenarios();

  it('warms the live citizen', async () => { await warmLiveCitizen(); }, 180_000);

  it('hands the capture to the phone, continues on the desktop to the agency; used and expired codes are explained', async () => {
    const s = await scenarios.open('handoff-desktop', {
      citizens: [[nationalId, citizenPhoto()]], viewport: { width: 1280, height: 900 },
      config: flowTestConfig,
    });
    await openSignInFromDemo(s, 'substantial');
    const { code, shortLink } = await chooseThePhone(s, true);
    await widths(s.page, 'desktop-code');

    // The phone: its own context (no cookie of the desktop's), a camera that follows the page.
    const phone = await openDevice(s.tb, { canvas: followingThePage(await liveCamera()) });
    await typeOnPhone(phone.page, shortLink, code);
    await phone.page.waitForSelector('#handoff-claim');
    expect(await phone.page.textContent('h1')).toContain('Demo pension office');
    expect(await phone.page.textContent('#handoff-origin')).toContain('Chrome');
    expect(await phone.page.textContent('#handoff-origin time')).toMatch(/^\d{2}:\d{2}$/);
    await widths(phone.page, 'phone-start');
    await phone.page.click('#handoff-claim');
    await phone.page.waitForSelector('#sign-in-form #camera-start:visible', { timeout: 60_000 });
    expect(await phone.page.isVisible('#on-phone')).toBe(true);
    expect(await phone.page.locator('#nationalId').count()).toBe(0);
    await widths(phone.page, 'phone-capture');
    await s.page.waitForSelector('#handoff[data-state="opened"]', { timeout: 30_000 });
    await phone.page.click('#camera-start');
    await faceUntil(phone.page, '#handoff-done');
    await widths(phone.page, 'phone-done');

    // The desktop saw the phone's result and went on by itself: consent, then the agency.
    await s.page.waitForSelector('button[name="decision"][value="allow"]', { timeout: 60_000 });
    const claims = await allowAndReadClaims(s);
    expect(claims.acr).toMatch(/substantial/);
    expect(claims.amr).toMatch(/face/);
    expect(claims.sub).toMatch(/\S/);
    expect((await decidedCaptures(s.gw)).map((d) => d.status)).toEqual(['verified']);
    const trail = (await s.gw.database.db('audit_events').where('type', 'like', 'handoff.%').orderBy('id', 'asc').select('type'))
      .map((r: { type: string }) => r.type);
    expect(trail).toEqual(['handoff.created', 'handoff.claimed', 'handoff.verified', 'handoff.completed']);

    // The same code again, on another phone: a page saying it was used (no stack trace).
    const second = await openDevice(s.tb);
    await second.page.goto(`${s.gw.issuer}/p?code=${code.replace('-', '')}`);
    await second.page.waitForSelector('#handoff-message[data-code="handoff_used"]');
    expect(await second.page.textContent('h1')).toMatch(/\S/);
    expect(await second.page.content()).not.toMatch(/at .+\.ts:\d+|Error:/);
    await widths(second.page, 'message-used');

    // A new sign-in on the desktop (signed out of the gateway first), a new code, and its expiry
    // passes before the phone opens it.
    await s.tb.context.clearCookies();
    await openSignInFromDemo(s, 'substantial');
    const late = await chooseThePhone(s);
    await s.gw.database.db('handoffs').where({ state: 'pending' }).update({ expires_at: Date.now() - 1000 });
    await typeOnPhone(second.page, late.shortLink, late.code);
    await second.page.waitForSelector('#handoff-message[data-code="handoff_expired"]');
    await widths(second.page, 'message-expired');
    // The desktop's page says so too, and offers a new code.
    await s.page.waitForSelector('#handoff[data-state="expired"]', { timeout: 30_000 });
    expect(await s.page.isVisible('#handoff-renew')).toBe(true);
    await widths(s.page, 'desktop-expired');
    // The two message pages come with their code's status (409, 410), which Chromium logs; nothing else.
    const refusedPage = /status of (409|410) .*\/p\?code=/;
    expect(s.tb.problems.filter((p) => refusedPage.test(p))).toHaveLength(2);
    expect(s.tb.problems.filter((p) => !refusedPage.test(p))).toEqual([]);
  });

  it('offers the phone on a proof-of-life link\'s page too: the code page shows the agency\'s binding message', async () => {
    const tls = testCertificate();
    const server = await startAgencyServer(tls);
    try {
      const s = await scenarios.open('handoff-proof', {
        citizens: [[nationalId, citizenPhoto()]], viewport: { width: 1280, height: 900 },
        config: { oidc: { outbound: { allowPrivateNetworks: true, caFile: tls.caFile } } },
      });
      const keys = await createAgencyKeys('tax-office', 'https://tax.example/callback');
      await registerClient(s.gw.database.db, buildAgencyMetadata({
        clientId: keys.clientId, name: 'Tax office', redirectUris: [keys.redirectUri], jwksUri: server.jwksUri(keys.clientId, keys.jwks),
        scopes: ['openid', 'profile', 'national_id'],
        ciba: { deliveryMode: 'poll', notifier: 'qr' },
      }));
      const agency = await connectAgency(s.gw.issuer, keys);
      const asked = await client.initiateBackchannelAuthentication(agency.config, {
        scope: 'openid', login_hint: `national_id:${nationalId}`, binding_message: 'DESK 4', acr_values: acrHigh,
      }) as client.BackchannelAuthenticationResponse & { facegate_link?: string };
      await s.page.goto(asked.facegate_link!);
      await s.page.click('#proof-start');
      await s.page.waitForSelector('#handoff-start', { timeout: 60_000 });
      await s.page.click('#handoff-start');
      await s.page.waitForSelector('#handoff[data-state="waiting"]', { timeout: 60_000 });
      expect(await s.page.textContent('#binding-message')).toBe('DESK 4');
      // What to do if the code differs, with this page's own buttons.
      expect(await s.page.textContent('.binding .hint')).toContain('Use this computer’s camera instead');
      expect(await s.page.locator('#handoff-qr svg path').count()).toBeGreaterThan(0);
      expect((await s.page.textContent('#handoff-code'))!.trim()).toMatch(/^[2-9A-Z]{4}-[2-9A-Z]{4}$/);
      await widths(s.page, 'desktop-proof-code');
      expect(s.tb.problems).toEqual([]);
    } finally {
      await server.close();
      tls.remove();
    }
  });
});

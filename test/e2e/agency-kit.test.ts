// The integration kit (examples/agency) as an agency runs it, against a gateway: a citizen signs
// in at high through the kit's own pages; the kit receives an encrypted ID token and userinfo
// with verified_claims, then logs her out and receives the back-channel logout token. Then the
// kit asks for her proof of life over CIBA (poll, the link back for a QR code) and gets it once
// she did the capture at high from the link. The kit's JWKS is published over https (a CIBA
// agency registers a jwks_uri) by a small server of the test.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAgency, generateAgencyKeys, publicJwks } from '../../examples/agency/agency.ts';
import { buildAgencyMetadata, registerClient } from '../../src/oidc/clients.ts';
import { consentAndReturn, verifyFace } from '../helpers/agency.ts';
import { startAgencyServer, testCertificate } from '../helpers/agency-server.ts';
import { createBrowser } from '../helpers/browser.ts';
import { describeWithData } from '../helpers/data.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { citizenPhoto, warmLiveCitizen } from '../helpers/live.ts';
import { proveLifeAt } from '../helpers/proof.ts';

describeWithData('the integration kit', () => {
  let gw: TestGateway;
  let server: Server;
  let base: string;
  let kit: Awaited<ReturnType<typeof createAgency>>;
  const tls = testCertificate();
  let jwksHost: Awaited<ReturnType<typeof startAgencyServer>>;
  const nationalId = 'LM19610804';

  beforeAll(async () => {
    jwksHost = await startAgencyServer(tls);
    gw = await startTestGateway({
      capture: { stream: { promptDelayMs: [300, 700], neutralMs: 600 } },
      // The kit's endpoints and JWKS host are on the loopback (the host's certificate made by the test).
      oidc: { outbound: { allowPrivateNetworks: true, caFile: tls.caFile } },
      proof: { pollIntervalSeconds: 1 },
    });
    await gw.enroll(nationalId, citizenPhoto());
    let handle: ReturnType<typeof kit.app.callback> | undefined;
    server = createServer((req, res) => void handle?.(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const keys = await generateAgencyKeys();
    // What the operator registers from the kit's public JWKS (`npm run example:agency -- --register`).
    await registerClient(gw.database.db, buildAgencyMetadata({
      clientId: 'kit-agency', name: 'Kit agency', redirectUris: [`${base}/callback`], postLogoutRedirectUris: [`${base}/`],
      jwksUri: jwksHost.jwksUri('kit-agency', publicJwks(keys)), scopes: ['openid', 'profile'], backchannelLogoutUri: `${base}/backchannel-logout`,
      idTokenEncryptedResponseAlg: 'RSA-OAEP-256', userinfoEncryptedResponseAlg: 'RSA-OAEP-256',
      ciba: { deliveryMode: 'poll', notifier: 'qr' },
    }));
    kit = await createAgency({ issuer: gw.issuer, clientId: 'kit-agency', baseUrl: base, keys, encrypted: true, verifiedClaims: ['given_name', 'family_name'] });
    handle = kit.app.callback();
    await warmLiveCitizen();
  }, 180_000);

  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await gw?.close();
    await jwksHost?.close();
    tls.remove();
  });

  it('signs a citizen in at high with an encrypted ID token and userinfo carrying verified_claims, then logs her out over the back channel', async () => {
    const browser = createBrowser();
    const landed = await browser.follow(`${base}/login?level=high`, gw.issuer);
    expect(landed.url).toContain('/interaction/');
    const s = { browser, landed, issuer: gw.issuer } as Parameters<typeof verifyFace>[0];
    const { submit } = await verifyFace(s, nationalId);
    expect(submit.json).toMatchObject({ status: 'verified' });
    const back = await consentAndReturn(s, (submit.json as { redirectTo: string }).redirectTo);
    expect(back.location).toMatch(new RegExp(`^${base}/callback\\?`));
    const page = await browser.request(back.location!);
    expect([page.status, page.body]).toEqual([200, expect.stringContaining('Signed in')]);

    const [signIn] = kit.record.signIns;
    expect(signIn).toMatchObject({ acr: 'http://eidas.europa.eu/LoA/high', encrypted: true });
    const verified = { verification: { trust_framework: 'eidas' }, claims: { given_name: 'Test', family_name: `Citizen ${nationalId}` } };
    expect(signIn.claims.verified_claims).toMatchObject(verified);
    expect(signIn.userinfo.verified_claims).toMatchObject(verified);

    // Sign out at the kit: the gateway's logout page, confirmed; the gateway then posts the logout token.
    const logout = await browser.follow(`${base}/logout`, gw.issuer);
    expect([logout.status, logout.body]).toEqual([200, expect.stringContaining("<form")]);
    const action = /<form[^>]*action="([^"]+)"/.exec(logout.body)![1];
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(logout.body)![1];
    const done = await browser.request(new URL(action, gw.issuer).href, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ xsrf, logout: 'yes' }),
    });
    expect(done.location).toMatch(new RegExp(`^${base}/`));
    for (let i = 0; i < 50 && !kit.record.logouts.length; i++) await new Promise((r) => setTimeout(r, 100));
    expect(kit.record.logouts).toEqual([expect.objectContaining({ sub: signIn.sub, sid: expect.any(String), jti: expect.any(String) })]);
  }, 120_000);

  it('asks for her proof of life over CIBA and gets it, encrypted, once she did the capture at high from the link', async () => {
    const sub = kit.record.signIns[0]?.sub;
    expect(sub).toEqual(expect.any(String));
    const asked = await fetch(`${base}/proof-of-life`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ login_hint: sub, binding_message: 'PENSION 2026', mode: 'poll' }),
    });
    expect(asked.status).toBe(202);
    const { id, link } = await asked.json() as { id: string; link: string };
    expect(link).toMatch(new RegExp(`^${gw.issuer}/proof\\?t=`));
    const { landing, run } = await proveLifeAt(gw.issuer, link);
    expect(landing.bindingMessage).toBe('PENSION 2026');
    expect(run.verdict).toMatchObject({ status: 'verified' });
    let proof: { status: string; error?: string; claims?: Record<string, unknown> } = { status: 'pending' };
    for (let i = 0; i < 100 && proof.status === 'pending'; i++) {
      await new Promise((r) => setTimeout(r, 200));
      proof = await (await fetch(`${base}/proof-of-life/${id}`)).json() as typeof proof;
    }
    expect(proof).toMatchObject({ status: 'verified', claims: { sub, acr: 'http://eidas.europa.eu/LoA/high' } });
    expect(kit.record.signIns.at(-1)).toMatchObject({ sub, encrypted: true });
  }, 120_000);
});

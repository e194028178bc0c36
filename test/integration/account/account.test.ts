// The citizen's space end to end over HTTP, on a real gateway (real models, real database) with
// openid-client as an independent agency: she signs in to /account with a live face capture (the
// gateway as its own relying party), sees the agency's sign-in in her log, revokes its consent
// (the agency's token stops working and its next sign-in asks for consent again), reports a row
// ("This wasn't me": her next capture is at high, a metric and an audit event, `facegate reports`
// lists and closes it), and signs out.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import * as client from 'openid-client';
import { acrHigh, acrSubstantial, connectAgency, consentAndReturn, createAgencyKeys, interactionJson, startSignIn, verifyFace, type Agency, type SignIn } from '../../helpers/agency.ts';
import { createBrowser } from '../../helpers/browser.ts';
import { cliRunner, lastJson } from '../../helpers/cli.ts';
import { describeWithData } from '../../helpers/data.ts';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.ts';
import { citizenPhoto, warmLiveCitizen } from '../../helpers/live.ts';

const nationalId = 'LM19610805';

/** The hidden CSRF token of the space's forms. */
const csrfOf = (page: string) => /name="csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';

describeWithData('the citizen\'s space', () => {
  let gw: TestGateway;
  let pension: Agency;
  let citizenId: string;
  let agencyToken: { access: string; DPoP: client.DPoPHandle; sub: string };
  const space = createBrowser();

  beforeAll(async () => {
    // The risk rules' step-ups (thin margins, EXIF flags) are not what this file tests: the report's is.
    gw = await startTestGateway({
      risk: { rules: { thinMatchMargin: 0, thinLivenessMargin: 0, stepUpFlags: [] } },
      capture: { stream: { promptDelayMs: [300, 700], neutralMs: 600 } },
    });
    citizenId = await gw.enroll(nationalId, citizenPhoto());
    const keys = await createAgencyKeys('pension-office');
    await gw.registerAgency({ clientId: keys.clientId, jwks: keys.jwks, scopes: ['openid', 'profile'] });
    pension = await connectAgency(gw.issuer, keys);
  });
  beforeAll(warmLiveCitizen, 180_000);
  afterAll(() => gw?.close());

  /** The agency signs her in (face, consent) and exchanges the code; returns its DPoP-bound token. */
  async function agencySignIn(expectConsent = true) {
    const s = await startSignIn(pension, { scope: 'openid profile' });
    const { submit, start } = await verifyFace(s, nationalId, undefined, { retries: 2 });
    expect(submit.json).toMatchObject({ status: 'verified' });
    const redirectTo = (submit.json as { redirectTo: string }).redirectTo;
    const atConsent = await s.browser.follow(redirectTo, s.issuer);
    if (expectConsent) expect((await interactionJson(s, atConsent.url)).prompt).toBe('consent');
    const back = await consentAndReturn(s, redirectTo);
    const tokens = await client.authorizationCodeGrant(pension.config, new URL(back.location!), {
      pkceCodeVerifier: s.verifier, expectedNonce: s.nonce, expectedState: s.state, idTokenExpected: true,
    }, undefined, { DPoP: s.DPoP });
    return { start: start.json as { acr: string; steps: number }, access: tokens.access_token, DPoP: s.DPoP, sub: tokens.claims()!.sub, acr: tokens.claims()!.acr };
  }

  /** Signs her in to the space with her face; returns the capture's start answer and the page. */
  async function spaceSignIn() {
    const home = await space.request(`${gw.issuer}/account`, { headers: { accept: 'text/html' } });
    expect(home.body).toContain('href="/account/login"');
    const landed = await space.follow(`${gw.issuer}/account/login`, gw.issuer);
    expect(landed.url).toMatch(/\/interaction\//);
    const s = { browser: space, issuer: gw.issuer, landed } as unknown as SignIn;
    const it0 = await interactionJson(s, landed.url);
    expect(it0).toMatchObject({ prompt: 'login', client: { name: 'Facegate: your space' } });
    const { submit, start } = await verifyFace(s, nationalId, undefined, { retries: 2 });
    expect(submit.json).toMatchObject({ status: 'verified' });
    const page = await space.follow((submit.json as { redirectTo: string }).redirectTo, gw.issuer);
    return { start: start.json as { acr: string }, page };
  }

  it('an agency signs her in first', async () => {
    const t = await agencySignIn();
    expect(t.acr).toBe(acrSubstantial);
    agencyToken = t;
    await expect(client.fetchUserInfo(pension.config, t.access, t.sub, { DPoP: t.DPoP })).resolves.toMatchObject({ sub: t.sub });
  });

  it('signs her in to her space with a face capture, without a consent page, and shows that sign-in in her log', async () => {
    const { page } = await spaceSignIn();
    expect(page.status).toBe(200);
    expect(page.url).toBe(`${gw.issuer}/account`);
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.body).toContain('<h1>Your space</h1>');
    // The agency's row: its name, the level, the method and what it received.
    expect(page.body).toContain('<h3>Agency pension-office</h3>');
    expect(page.body).toMatch(/data-level="substantial"/);
    expect(page.body).toMatch(/data-amr="face user"/);
    expect(page.body).toContain('Your family name');
    // Its consent, with a revoke form.
    expect(page.body).toContain('data-client="pension-office"');
    const events = await gw.database.db('audit_events').where({ type: 'account.signed_in', citizen_id: citizenId });
    expect(events).toHaveLength(1);
    // The space is not among her consents (first-party), but its sign-in is in the log.
    expect(await gw.database.db('consents').where({ citizen_id: citizenId, client_id: 'facegate-account' })).toEqual([]);
    expect(page.body).toContain('Your space (Facegate)');
  });

  it('refuses a form without the session\'s CSRF token', async () => {
    const r = await space.request(`${gw.issuer}/account/consents/revoke`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: 'clientId=pension-office&csrf=nope',
    });
    expect(r.status).toBe(403);
    expect(r.json).toMatchObject({ error: { code: 'csrf_invalid' } });
  });

  it('revokes the agency\'s consent: its token fails, and its next sign-in asks for consent again', async () => {
    const page = await space.request(`${gw.issuer}/account`, { headers: { accept: 'text/html' } });
    const r = await space.request(`${gw.issuer}/account/consents/revoke`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ clientId: 'pension-office', csrf: csrfOf(page.body) }).toString(),
    });
    expect(r.status).toBe(303);
    const after = await space.request(r.location!, { headers: { accept: 'text/html' } });
    expect(after.body).toContain('Consent withdrawn. Agency pension-office will have to ask you again next time.');
    expect(after.body).not.toContain('data-client="pension-office"');
    await expect(client.fetchUserInfo(pension.config, agencyToken.access, agencyToken.sub, { DPoP: agencyToken.DPoP })).rejects.toMatchObject({ status: 401 });
    const introspected = await client.tokenIntrospection(pension.config, agencyToken.access);
    expect(introspected.active).toBe(false);
    const revoked = await gw.database.db('audit_events').where({ type: 'consent.revoked', citizen_id: citizenId, client_id: 'pension-office' });
    expect(revoked).toHaveLength(1);
    // Asks again: agencySignIn expects the consent prompt.
    agencyToken = await agencySignIn(true);
  });

  it('"This wasn\'t me" records a report, raises the metric and steps her next sign-ins up to high', async () => {
    const page = await space.request(`${gw.issuer}/account`, { headers: { accept: 'text/html' } });
    const eventId = /data-event="(\d+)"[\s\S]*?<h3>Agency pension-office<\/h3>/.exec(page.body)![1];
    const r = await space.request(`${gw.issuer}/account/report`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ eventId, csrf: csrfOf(page.body) }).toString(),
    });
    expect(r.status).toBe(303);
    const after = await space.request(r.location!, { headers: { accept: 'text/html' } });
    expect(after.body).toContain('id="report-open"');
    expect(after.body).toContain('You reported this access.');
    const reported = await gw.database.db('audit_events').where({ type: 'identity.reported', citizen_id: citizenId });
    expect(reported).toHaveLength(1);
    expect(JSON.parse(reported[0].details)).toMatchObject({ eventId: Number(eventId), stepUp: 'high until closed' });
    const metrics = await fetch(`${gw.issuer}/metrics`).then((m) => m.text());
    expect(metrics).toMatch(/^facegate_identity_reports_total 1$/m);
    // Her next sign-in at the agency, which asks for substantial, is at high: two instructions.
    const next = await agencySignIn(false);
    expect(next.start).toMatchObject({ acr: acrHigh, steps: 2 });
    expect(next.acr).toBe(acrHigh);
  });

  it('facegate reports lists the open report and closes it; sign-ins are back at the level asked', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '', DATABASE_URL: gw.config.database.url };
    for (const name of Object.keys(env)) if (name.startsWith('FACEGATE_') || name === 'DATABASE_SCHEMA' || name === 'NODE_ENV') delete env[name];
    if (gw.config.database.schema) env.DATABASE_SCHEMA = gw.config.database.schema;
    const run = cliRunner(env);
    const listed = await run('reports', 'list', '--json');
    expect(listed.code).toBe(0);
    const { reports } = lastJson(listed.stdout) as { reports: Array<{ id: string; state: string; nationalId: string; agency: { clientId: string } }> };
    expect(reports).toEqual([expect.objectContaining({ state: 'open', nationalId, agency: expect.objectContaining({ clientId: 'pension-office' }) })]);
    const unknown = await run('reports', 'close', 'nope', '--resolution', 'x', '--json');
    expect(unknown.code).not.toBe(0);
    expect(lastJson(unknown.stdout)).toMatchObject({ error: { code: 'report_not_found' } });
    const closed = await run('reports', 'close', reports[0].id, '--resolution', 'her son, with her agreement', '--operator', 'desk-7', '--json');
    expect(closed.code).toBe(0);
    expect(lastJson(closed.stdout)).toMatchObject({ state: 'closed', closedBy: 'desk-7' });
    expect(await gw.database.db('audit_events').where({ type: 'identity.report_closed', citizen_id: citizenId })).toHaveLength(1);
    const again = await agencySignIn(false);
    expect(again.start).toMatchObject({ acr: acrSubstantial, steps: 1 });
  });

  it('signs her out; the old cookie no longer opens the space', async () => {
    const page = await space.request(`${gw.issuer}/account`, { headers: { accept: 'text/html' } });
    const cookie = space.jar.get('facegate_account')!;
    expect(cookie).toBeTruthy();
    const r = await space.request(`${gw.issuer}/account/logout`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ csrf: csrfOf(page.body) }).toString(),
    });
    expect(r.status).toBe(303);
    const replay = await fetch(`${gw.issuer}/account`, { headers: { cookie: `facegate_account=${cookie}`, accept: 'text/html' } }).then((x) => x.text());
    expect(replay).toContain('href="/account/login"');
    expect(replay).not.toContain('id="access-log"');
  });
});

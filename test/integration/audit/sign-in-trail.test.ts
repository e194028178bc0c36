// A real sign-in (openid-client as the agency) leaves its trace in the audit trail: the provider's
// events, the consent, and `facegate audit citizen` listing agency, time, level and claims.
// No token, code or ID token ever reaches the trail; the chain verifies afterwards.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import * as client from 'openid-client';
import { cliRunner, lastJson } from '../../helpers/cli.ts';
import { acrSubstantial, connectAgency, consentAndReturn, createAgencyKeys, startSignIn, verifyFace, type Agency } from '../../helpers/agency.ts';
import { describeWithData } from '../../helpers/data.ts';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.ts';
import { citizenPhoto, warmLiveCitizen } from '../../helpers/live.ts';

const json = lastJson as (s: string) => any;

async function until<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describeWithData('sign-in in the audit trail', () => {
  let gw: TestGateway;
  let pension: Agency;
  let run: ReturnType<typeof cliRunner>;
  const nationalId = 'AU19610804';
  let citizenId: string;
  const secrets: string[] = [];
  let started: number;

  beforeAll(async () => {
    // The risk rules' step-ups (thin margins, a photo's EXIF naming an editor) are not what this
    // file tests: a plain sign-in is. Shorter prompt delays than the defaults keep the stream quick.
    gw = await startTestGateway({
      risk: { rules: { thinMatchMargin: 0, thinLivenessMargin: 0, stepUpFlags: [] } },
      capture: { stream: { promptDelayMs: [300, 700], neutralMs: 600 } },
    });
    citizenId = await gw.enroll(nationalId, citizenPhoto());
    const keys = await createAgencyKeys('pension-office');
    await gw.registerAgency({ clientId: keys.clientId, jwks: keys.jwks, scopes: ['openid', 'profile', 'national_id'] });
    pension = await connectAgency(gw.issuer, keys);
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '', DATABASE_URL: gw.config.database.url };
    for (const name of Object.keys(env)) if (name.startsWith('FACEGATE_') || name === 'DATABASE_SCHEMA' || name === 'NODE_ENV') delete env[name];
    if (gw.config.database.schema) env.DATABASE_SCHEMA = gw.config.database.schema;
    run = cliRunner(env);
    await warmLiveCitizen();

    started = Date.now();
    const s = await startSignIn(pension, { scope: 'openid profile' });
    // A live citizen: her camera, streamed, performs the turn the server's prompt asks for.
    const { submit } = await verifyFace(s, nationalId);
    if (!(submit.json as { redirectTo?: string }).redirectTo) throw new Error(`sign-in not verified: ${JSON.stringify(submit.json)}`);
    const back = await consentAndReturn(s, (submit.json as { redirectTo: string }).redirectTo);
    const callback = new URL(back.location!);
    secrets.push(callback.searchParams.get('code')!);
    const tokens = await client.authorizationCodeGrant(pension.config, callback, {
      pkceCodeVerifier: s.verifier, expectedNonce: s.nonce, expectedState: s.state, idTokenExpected: true,
    }, undefined, { DPoP: s.DPoP });
    secrets.push(tokens.access_token, tokens.id_token!, s.verifier);
    // The code replayed: refused, and the grant revoked.
    await client.authorizationCodeGrant(pension.config, callback, { pkceCodeVerifier: s.verifier, expectedNonce: s.nonce, expectedState: s.state }, undefined, { DPoP: s.DPoP })
      .catch(() => undefined);
  }, 180_000); // the live citizen's camera is made first (the selfie video classified): slow
  afterAll(() => gw?.close());

  it('records the provider events with client, citizen, address and error code', async () => {
    const db = gw.database.db;
    const success = await until(() => db('audit_events').where({ type: 'oidc.grant.success' }).first(), 'grant.success');
    expect(success).toMatchObject({ client_id: 'pension-office', citizen_id: citizenId, ip: expect.stringMatching(/127\.0\.0\.1/), outcome: 'success' });
    expect(JSON.parse(success.details)).toMatchObject({ grant_type: 'authorization_code', acr: acrSubstantial, claims: expect.arrayContaining(['sub', 'given_name', 'family_name', 'birthdate']) });
    expect(JSON.parse(success.details).claims).not.toContain('national_id');
    const error = await until(() => db('audit_events').where({ type: 'oidc.grant.error' }).first(), 'grant.error');
    expect(error).toMatchObject({ client_id: 'pension-office', code: 'invalid_grant', outcome: 'failure' });
    await until(() => db('audit_events').where({ type: 'oidc.grant.revoked' }).first(), 'grant.revoked');
    const consent = await db('audit_events').where({ type: 'consent.decided' }).first();
    expect(consent).toMatchObject({ client_id: 'pension-office', citizen_id: citizenId, outcome: 'success', user_agent: expect.any(String) });
  });

  it('never stores a token, code or verifier', async () => {
    const rows = await gw.database.db('audit_events').select();
    const text = JSON.stringify(rows);
    for (const s of secrets) expect(text).not.toContain(s);
  });

  it('audit citizen lists the agency, when, the level and the claims received, and her consent', async () => {
    const r = await run('audit', 'citizen', nationalId.toLowerCase(), '--json');
    expect(r.code).toBe(0);
    const report = json(r.stdout);
    expect(report.citizen).toEqual({ nationalId });
    expect(report.signIns).toHaveLength(1);
    const [signIn] = report.signIns;
    expect(signIn).toMatchObject({ agency: { clientId: 'pension-office', name: 'Agency pension-office' }, level: 'substantial', acr: acrSubstantial, scopes: ['openid', 'profile'] });
    expect([...signIn.claims].sort()).toEqual(['acr', 'amr', 'auth_time', 'birthdate', 'family_name', 'given_name', 'sub']);
    expect(Date.parse(signIn.at)).toBeGreaterThanOrEqual(started);
    expect(Date.parse(signIn.at)).toBeLessThanOrEqual(Date.now());
    expect(report.consents).toEqual([expect.objectContaining({ agency: expect.objectContaining({ clientId: 'pension-office' }), decision: 'allow', scopes: ['openid', 'profile'] })]);
  });

  it('audit verify passes on the trail the sign-in wrote', async () => {
    const r = await run('audit', 'verify', '--json');
    expect(r.code).toBe(0);
    expect(json(r.stdout)).toMatchObject({ ok: true, rows: expect.any(Number) });
    expect(json(r.stdout).rows).toBeGreaterThan(5);
  });
});

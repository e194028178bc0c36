// Risk control over HTTP: a locked ID is answered 429 `locked` with Retry-After, retryAt and a
// plain message (JSON, and a page for a browser), by a second gateway instance on the same
// database too; the form without JavaScript starts no capture (camera_required); capture starts
// are limited per client IP; a replayed frame reads as not_verified; /metrics counts lockouts and
// replays. The failures are the live citizen of helpers/live.ts claiming someone else's ID
// (presence passes, the match fails).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import pino from 'pino';
import { loadConfig } from '../../../config/load.ts';
import { openDatabase, type Db } from '../../../src/db/knex.ts';
import { createGateway, type Gateway } from '../../../src/server/gateway.ts';
import { connectAgency, createAgencyKeys, framesBody, interactionJson, startSignIn, verifyFace, type Agency } from '../../helpers/agency.ts';
import { describeWithData, face } from '../../helpers/data.ts';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.ts';
import { liveCamera, liveFrames, warmLiveCitizen } from '../../helpers/live.ts';
import type { StreamCamera } from '../../helpers/stream.ts';

describeWithData('risk control over HTTP, two instances', () => {
  let gw: TestGateway;
  let agency: Agency;
  let dbB: Db;
  let gatewayB: Gateway;
  let serverB: Server;
  let originB: string;
  const maxFailures = 2;
  const startsPerMinute = 8;

  beforeAll(async () => {
    const risk = { lockout: { maxFailures }, rules: { stepUpAfterIdFailures: 10 }, ip: { startsPerMinute } };
    // Shorter prompt delays and look-straight step than the defaults: the same protocol, quicker.
    const capture = { stream: { promptDelayMs: [300, 700], neutralMs: 600 } };
    gw = await startTestGateway({ risk, capture });
    await gw.enroll('KH19861226', face('kit_harington', 'kit_harington_1.jpg'));
    const keys = await createAgencyKeys('pension-office');
    await gw.registerAgency({ clientId: keys.clientId, jwks: keys.jwks, scopes: ['openid', 'profile'] });
    agency = await connectAgency(gw.issuer, keys);
    // Instance B: the same settings and database (its own connection pool), its own port, behind a
    // trusted proxy (the client IP comes from X-Forwarded-For).
    dbB = openDatabase(gw.database.database);
    const configB = loadConfig({ NODE_ENV: 'test' }, {
      server: { port: 0, issuer: gw.issuer, trustProxy: true, logLevel: 'silent' }, database: gw.database.database, demo: { enabled: false }, risk, capture,
    });
    gatewayB = await createGateway(configB, { logger: pino({ level: 'silent' }), db: dbB, analyzer: gw.gateway.analyzer });
    const handleB = gatewayB.app.callback();
    serverB = createServer((req, res) => void handleB(req, res));
    await new Promise<void>((resolve) => serverB.listen(0, '127.0.0.1', resolve));
    originB = `http://127.0.0.1:${(serverB.address() as AddressInfo).port}`;
  });
  // The live citizen's camera is made once per file (the selfie video classified): a few seconds.
  beforeAll(warmLiveCitizen, 180_000);
  afterAll(async () => {
    // A streamed capture's frames are analysed as they arrive, and a replay is denied without
    // awaiting those analyses: some may still run on the worker pool when the last test ends, and
    // closing the pool under a running inference aborts the process (src/biometrics/pool.ts:
    // close() is piscina's destroy()). Four analyses queued behind them (two workers) let them end.
    if (gw) await Promise.all(Array.from({ length: 4 }, () => gw.gateway.analyzer.analyze(face('kit_harington', 'kit_harington_1.jpg')).catch(() => undefined)));
    serverB?.closeAllConnections();
    await new Promise<void>((resolve) => (serverB ? serverB.close(() => resolve()) : resolve()));
    await gatewayB?.close();
    await dbB?.destroy();
    await gw?.close();
  });

  it('locks the ID after failures on instance A; instance B answers 429 locked with when to retry', async () => {
    for (let i = 0; i < maxFailures; i++) {
      const s = await startSignIn(agency, { scope: 'openid profile' });
      // The live citizen claiming Kit Harington's ID: live (her streamed camera follows the
      // prompts), but not him.
      const { submit } = await verifyFace(s, 'KH19861226');
      expect(submit.json).toMatchObject({ status: 'rejected', feedback: [{ code: 'not_verified' }] });
    }
    // A new sign-in (same provider state and cookie keys) whose capture start goes to instance B.
    const s = await startSignIn(agency, { scope: 'openid profile' });
    const it1 = await interactionJson(s, s.landed.url);
    const hop = await s.browser.request(`${originB}${it1.endpoints.capture}`, {
      method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': it1.csrf },
      body: JSON.stringify({ nationalId: 'KH19861226' }),
    });
    expect(hop.status).toBe(429);
    const { error } = hop.json as { error: { code: string; message: string; retryAt: string } };
    expect(error.code).toBe('locked');
    const retryAt = Date.parse(error.retryAt);
    expect(retryAt).toBeGreaterThan(Date.now());
    expect(Number(hop.headers.get('retry-after'))).toBeGreaterThan(gw.config.risk.lockout.baseSeconds - 60);
    expect(error.message).toContain(error.retryAt.slice(11, 16));
    expect(error.message).toMatch(/service desk with your ID card/);
  }, 90_000);

  it('shows the lockout message on a page to a browser; the form without JavaScript asks for the camera instead', async () => {
    const s = await startSignIn(agency, { scope: 'openid profile' });
    const it1 = await interactionJson(s, s.landed.url);
    // The form without JavaScript starts no capture (a photo upload cannot show presence): the
    // same camera_required page for a locked ID as for any, with the service desk; nothing counted.
    const form = framesBody(await liveFrames());
    form.append('csrf', it1.csrf);
    form.append('nationalId', 'KH19861226');
    const page = await s.browser.request(`${gw.issuer}${it1.endpoints.verify}`, { method: 'POST', body: form, headers: { accept: 'text/html' } });
    expect(page.status).toBe(422);
    expect(page.body).toContain('data-code="camera_required"');
    expect(page.body).toMatch(/service desk with your ID card/);
    expect(page.headers.get('retry-after')).toBeNull();
    expect(await gw.database.db('audit_events').where({ interaction_uid: it1.uid })).toHaveLength(0);
    // A browser posting the capture start as a page (a form, Accept: text/html): the lockout page.
    const hop = await s.browser.request(`${gw.issuer}${it1.endpoints.capture}`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      body: new URLSearchParams({ csrf: it1.csrf, nationalId: 'KH19861226' }).toString(),
    });
    expect(hop.status).toBe(429);
    expect(hop.headers.get('content-type')).toMatch(/text\/html/);
    expect(Number(hop.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(hop.body).toMatch(/You can try again after \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/);
    expect(hop.body).toMatch(/service desk with your ID card/);
  });

  it('limits capture starts per client IP (X-Forwarded-For behind a trusted proxy), whatever the ID', async () => {
    const startOnB = async (ip: string, i: number) => {
      const s = await startSignIn(agency, { scope: 'openid profile' });
      const it1 = await interactionJson(s, s.landed.url);
      const hop = await s.browser.request(`${originB}${it1.endpoints.capture}`, {
        method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': it1.csrf, 'x-forwarded-for': ip },
        body: JSON.stringify({ nationalId: `ZZ2000000${i}` }),
      });
      return hop.status === 201 ? 'started' : `${hop.status} ${(hop.json as { error: { code: string } }).error.code}`;
    };
    const codes: string[] = [];
    for (let i = 0; i <= startsPerMinute; i++) codes.push(await startOnB('203.0.113.5', i));
    expect(codes).toEqual([...Array(startsPerMinute).fill('started'), '429 rate_limited']);
    expect(await startOnB('203.0.113.6', 0)).toBe('started');
  });

  it('refuses a frame replayed into another sign-in as not_verified, and counts it in /metrics', async () => {
    // A's frames are the live citizen's (an unknown ID: not_verified); B sends one of them again
    // first, then the live citizen's new frames as she follows B's prompts.
    const seen: Uint8Array[] = [];
    const recording = await liveCamera();
    const recorder: StreamCamera = {
      next: async () => { const f = await recording.next(); seen.push(f); return f; },
      follow: (action) => recording.follow(action),
    };
    const a = await verifyFace(await startSignIn(agency, { scope: 'openid profile' }), 'ZZ00000042', recorder);
    // The frame B replays was received by A's capture (acknowledged).
    expect(a.run.messages).toContainEqual({ type: 'ack', seq: 1, received: 2 });
    const live = await liveCamera();
    let replayed = false;
    const replayer: StreamCamera = {
      next: async () => { if (!replayed) { replayed = true; return seen[1]; } return live.next(); },
      follow: (action) => live.follow(action),
    };
    const b = await verifyFace(await startSignIn(agency, { scope: 'openid profile' }), 'ZZ00000043', replayer);
    expect(b.run.messages).toContainEqual({ type: 'ack', seq: 0, received: 1 });
    expect(b.submit.json).toEqual(a.submit.json);
    expect(b.submit.json).toMatchObject({ status: 'rejected', feedback: [{ code: 'not_verified' }] });
    const metrics = await (await fetch(`${gw.issuer}/metrics`)).text();
    expect(metrics).toMatch(/facegate_risk_signals_total\{signal="replayed_frame"\} 1/);
    // The lockout of the first test: the ID from the test client's network (127.0.0.0/24).
    expect(metrics).toMatch(/facegate_lockouts_total\{scope="id_network",reason="lockout"\} 1/);
    expect(metrics).toMatch(/facegate_risk_decisions_total\{stage="submit",action="deny",reason="replayed_frame"\} 1/);
    expect(metrics).toMatch(/facegate_verification_duration_seconds_count\{result="failure"\} [1-9]/);
  }, 90_000);
});

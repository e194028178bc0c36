// The streamed capture (docs/capture-api.md, "Streamed capture") over a real WebSocket on the test
// gateway, with the real engine: a live citizen following the server's prompts signs in at
// substantial and at high; frames shown before their prompt, out of order, too fast, too large, or
// on a stream another site opened are refused with their codes; the prompts come one at a time.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import sharp from 'sharp';
import type { ChallengeAction } from '../../../src/capture/flow.ts';
import { acrHigh, connectAgency, consentAndReturn, cookieOf, createAgencyKeys, interactionJson, startSignIn, verifyFace, type Agency } from '../../helpers/agency.ts';
import { describeWithData, face } from '../../helpers/data.ts';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.ts';
import { citizenPhoto, liveCamera, warmLiveCitizen } from '../../helpers/live.ts';
import { framed, runStream, scripted, streamUrl, type StreamCamera } from '../../helpers/stream.ts';
import WebSocket from 'ws';

describeWithData('streamed capture', () => {
  let gw: TestGateway;
  let agency: Agency;
  const nationalId = 'LM19610805';
  const otherId = 'OB19610806';

  beforeAll(async () => {
    gw = await startTestGateway({ capture: { stream: { promptDelayMs: [300, 700], neutralMs: 600, deadlineMs: 12_000 } } });
    await gw.enroll(nationalId, citizenPhoto());
    await gw.enroll(otherId, face('obama', 'obama_1.jpg'));
    const keys = await createAgencyKeys('stream-office');
    await gw.registerAgency({ clientId: keys.clientId, jwks: keys.jwks, scopes: ['openid', 'profile', 'national_id'] });
    agency = await connectAgency(gw.issuer, keys);
  }, 120_000);
  beforeAll(warmLiveCitizen, 180_000);
  afterAll(() => gw?.close());

  it('signs a live citizen in at substantial: look straight, one prompted turn, a verdict and the agency', async () => {
    const s = await startSignIn(agency);
    const { start, run } = await verifyFace(s, nationalId);
    expect(start.status).toBe(201);
    // The start answer does not say which actions will come: the prompts do, one at a time.
    expect(start.json).not.toHaveProperty('actions');
    expect(start.json).toMatchObject({ steps: 1, stream: expect.stringMatching(/\/stream$/) });
    expect(run.error).toBeUndefined();
    expect(run.prompts.map((p) => p.action)).toEqual(['look_straight', expect.stringMatching(/^turn_(left|right)$/)]);
    expect(run.verdict).toMatchObject({ status: 'verified', redirectTo: expect.any(String) });
    const back = await consentAndReturn(s, run.verdict!.redirectTo!);
    expect(back.location).toContain('code=');
  }, 90_000);

  it('signs a live citizen in at high: two actions, each prompted after the previous step', async () => {
    const s = await startSignIn(agency, { acr: acrHigh });
    const { run } = await verifyFace(s, nationalId);
    expect(run.error).toBeUndefined();
    expect(run.prompts).toHaveLength(3);
    expect(run.prompts[2].at).toBeGreaterThan(run.prompts[1].at);
    expect(run.verdict).toMatchObject({ status: 'verified' });
  }, 90_000);

  it('does not sign in another citizen\'s ID with the live citizen\'s face (not_verified)', async () => {
    const s = await startSignIn(agency);
    const { run } = await verifyFace(s, otherId);
    expect(run.verdict).toMatchObject({ status: 'rejected', feedback: [{ code: 'not_verified' }] });
  }, 90_000);

  it('answers a stream started again after a verified decision with that verdict (the first never reached the page), and the sign-in finishes', async () => {
    const s = await startSignIn(agency);
    const first = await verifyFace(s, nationalId, undefined, { retries: 1 });
    expect(first.run.verdict).toMatchObject({ status: 'verified', redirectTo: expect.any(String) });
    const decided = () => gw.database.db('audit_events').where({ type: 'capture.decided', interaction_uid: first.it.uid }).count({ n: '*' });
    const decidedBefore = await decided();
    // The page lost that verdict (the connection or the instance went away): "Try again" streams again.
    const again = (await first.stream(scripted([]))).run;
    expect(again.error).toBeUndefined();
    expect(again.messages.map((m) => m.type)).toEqual(['verdict']);
    expect(again.verdict).toMatchObject({ status: 'verified', redirectTo: first.run.verdict!.redirectTo });
    const resumed = await gw.database.db('audit_events').where({ type: 'capture.resumed' }).orderBy('id', 'desc').first();
    expect(JSON.parse(resumed.details)).toMatchObject({ captureId: first.captureId });
    expect(await decided()).toEqual(decidedBefore); // the same decision, not a new one
    const back = await consentAndReturn(s, again.verdict!.redirectTo!);
    expect(back.location).toContain('code=');
  }, 120_000);

  it('refuses a turn shown before its prompt: knowing the actions in advance gains nothing', async () => {
    const s = await startSignIn(agency);
    const cam = await liveCamera();
    let anticipated = false;
    // This client turns both ways before any prompt (it cannot know which comes), then follows.
    const camera: StreamCamera = {
      next: async () => {
        if (!anticipated) { anticipated = true; await cam.follow('turn_right'); }
        return cam.next();
      },
      follow: (a: ChallengeAction) => cam.follow(a),
    };
    const { run } = await verifyFace(s, nationalId, camera);
    expect(run.verdict?.status).not.toBe('verified');
    const audit = await gw.database.db('audit_events').where({ type: 'capture.decided' }).orderBy('id', 'desc').first();
    const checks = JSON.parse(audit.details).checks as Array<{ name: string; reason?: string }>;
    expect(checks.at(-1)).toMatchObject({ name: 'challenge', reason: expect.stringMatching(/action_before_prompt|unrequested_action/) });
  }, 90_000);

  /** A capture started and its stream's address, for the protocol cases. */
  async function opened() {
    const s = await startSignIn(agency);
    const it = await interactionJson(s, s.landed.url);
    const start = await s.browser.request(`${s.issuer}${it.endpoints.capture}`, {
      method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': it.csrf },
      body: JSON.stringify({ nationalId }),
    });
    const { captureId } = start.json as { captureId: string };
    return { url: streamUrl(s.issuer, it.endpoints.capture, captureId), cookie: cookieOf(s), csrf: it.csrf, origin: s.issuer };
  }
  /** A faceless picture; each (v, width) once in the file (the same bytes twice are a replay). */
  const blank = (v: number, width = 320) => sharp({ create: { width, height: 240, channels: 3, background: { r: v, g: v, b: v } } }).jpeg().toBuffer();

  it('refuses frames out of order, and a frame larger than the limit', async () => {
    const o = await opened();
    const skip = await runStream({ ...o, camera: { next: async () => undefined }, onMessage: (m, ws) => {
      if (m.type === 'ready') ws.send(framed(1, Buffer.from('x')));
    } });
    expect(skip.error).toMatchObject({ code: 'frame_out_of_order' });
    expect(skip.closed.code).toBe(1008);
    const o2 = await opened();
    const big = await runStream({ ...o2, camera: { next: async () => undefined }, onMessage: (m, ws) => {
      if (m.type === 'ready') ws.send(framed(0, Buffer.alloc(gw.config.capture.stream.maxFrameBytes + 1)));
    } });
    expect(big.error).toMatchObject({ code: 'frame_too_large' });
  }, 60_000);

  it('refuses frames faster than a camera delivers them, past a small burst', async () => {
    const o = await opened();
    const list = await Promise.all(Array.from({ length: 8 }, (_, i) => blank(40 + i)));
    const refused: string[] = [];
    const run = await runStream({ ...o, camera: { next: async () => undefined }, onMessage: (m, ws) => {
      if (m.type === 'ready') list.forEach((f, i) => ws.send(framed(i, f)));
      if (m.type === 'refused') { refused.push(m.code); if (refused.length === 8 - gw.config.capture.stream.burstFrames) ws.close(); }
    } });
    expect(refused.length).toBe(8 - gw.config.capture.stream.burstFrames);
    expect(new Set(refused)).toEqual(new Set(['frame_too_fast']));
    expect(run.verdict).toBeUndefined();
  }, 60_000);

  it('refuses a start without the page\'s CSRF token, and a stream opened from another site', async () => {
    const o = await opened();
    const run = await runStream({ ...o, csrf: 'forged', camera: scripted([]) });
    expect(run.error).toMatchObject({ code: 'csrf_invalid' });
    await expect(runStream({ ...o, origin: 'https://evil.example', camera: scripted([]) })).rejects.toMatchObject({ status: 403 });
    await expect(runStream({ ...o, cookie: '', camera: scripted([]) })).rejects.toMatchObject({ status: 404 });
  }, 60_000);

  it('decides on what it has at the deadline; frames after the verdict go nowhere', async () => {
    const o = await opened();
    // Faceless frames: no look-straight frame ever passes, so the deadline ends the capture.
    let v = 10;
    const run = await runStream({ ...o, intervalMs: 250, camera: { next: () => blank(v++ % 250, 336) } });
    expect(run.verdict).toMatchObject({ status: 'retry', feedback: [{ code: 'no_face' }] });
    expect(run.messages.some((m) => m.type === 'hint')).toBe(true);
    expect(run.closed.code).toBe(1000);
  }, 60_000);

  it('spends a submission when the client leaves after an action was prompted (the prompts cannot be probed for free)', async () => {
    const o = await opened();
    const cam = await liveCamera();
    const run = await runStream({ ...o, camera: cam, onMessage: (m, ws) => { if (m.type === 'prompt' && m.action !== 'look_straight') ws.close(); } });
    expect(run.verdict).toBeUndefined();
    const captureId = decodeURIComponent(o.url.split('/').at(-2)!);
    const until = Date.now() + 10_000;
    let row: { submissions: number; attempts_used: number } | undefined;
    while (Date.now() < until && !(row?.submissions)) {
      row = await gw.database.db('capture_sessions').where({ id: captureId }).first();
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(row).toMatchObject({ submissions: 1, attempts_used: 0 });
    const audit = await gw.database.db('audit_events').where({ type: 'capture.abandoned' }).orderBy('id', 'desc').first();
    expect(JSON.parse(audit.details)).toMatchObject({ captureId, prompted: 1 });
  }, 60_000);

  it('keeps one stream per capture at a time', async () => {
    const o = await opened();
    const first = new WebSocket(o.url, { headers: { origin: o.origin, cookie: o.cookie } });
    await new Promise((r) => first.on('open', r));
    const second = await runStream({ ...o, camera: scripted([]) });
    expect(second.error).toMatchObject({ code: 'capture_busy' });
    first.close();
  }, 60_000);
});

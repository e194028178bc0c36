// The capture API's answers to bad and replayed input (docs/capture-api.md): stable 4xx codes,
// no partial data, and the flow's limits: attempts, expiry, reuse, another interaction's capture.
// Frames are streamed (helpers/stream.ts): each submission is one stream of a capture, and its
// answer a verdict or an error message, whose code has the status the HTTP answer would have had.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import sharp from 'sharp';
import WebSocket from 'ws';
import type { ServerMessage } from '../../../src/capture/stream.ts';
import { errorCatalogue } from '../../../src/shared/errors.ts';
import { acrHigh, connectAgency, cookieOf, createAgencyKeys, framesBody, interactionJson, startSignIn, verifyFace, type Agency } from '../../helpers/agency.ts';
import { describeWithData, face } from '../../helpers/data.ts';
import { cameraShot, freshBytes } from '../../helpers/derive.ts';
import { citizenPhoto, liveCamera, warmLiveCitizen } from '../../helpers/live.ts';
import { onPostgres } from '../../helpers/db.ts';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.ts';
import { framed, runStream, scripted, streamUrl, type StreamCamera, type StreamRun } from '../../helpers/stream.ts';

describe('capture API', () => {
  let gw: TestGateway;
  let agency: Agency;
  let blank: Buffer;
  /** A faceless picture with bytes never sent before (the same bytes twice are a replay): as many as a test needs, all one size. */
  const freshBlank = async () => freshBytes(blank);
  /** A shared photo re-encoded to bytes never sent before: the same face, a new file. */
  let quality = 95;
  const fresh = (photo: Buffer) => sharp(photo).jpeg({ quality: quality-- }).toBuffer();
  /** As many faceless pictures as a capture takes at least. */
  const blanks = () => Promise.all(Array.from({ length: 3 }, freshBlank));

  beforeAll(async () => {
    // Shorter prompt delays and look-straight step than the defaults: the same protocol, quicker.
    gw = await startTestGateway({ biometrics: { image: { maxBytes: 400_000 } }, capture: { stream: { promptDelayMs: [300, 700], neutralMs: 600 } } });
    const keys = await createAgencyKeys('pension-office');
    await gw.registerAgency({ clientId: keys.clientId, jwks: keys.jwks, scopes: ['openid', 'profile', 'national_id'] });
    agency = await connectAgency(gw.issuer, keys);
    blank = await sharp({ create: { width: 320, height: 240, channels: 3, background: '#808080' } }).jpeg().toBuffer();
  });
  afterAll(() => gw?.close());

  /** A fresh interaction and its JSON form. */
  async function open() {
    const s = await startSignIn(agency);
    const it = await interactionJson(s, s.landed.url);
    const url = (path: string) => `${gw.issuer}${path}`;
    const json = (path: string, body: unknown, csrf = it.csrf) => s.browser.request(url(path), {
      method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', ...(csrf ? { 'x-csrf-token': csrf } : {}) },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    /** The retired batch endpoint. */
    const frames = (captureId: string, body: BodyInit, csrf = it.csrf, uid = it.uid) => s.browser.request(url(`/interaction/${uid}/capture/${captureId}/frames`), {
      method: 'POST', headers: { accept: 'application/json', 'x-csrf-token': csrf }, body,
    });
    /** One submission: the capture's stream, from this interaction's page (its cookie and CSRF token). */
    const stream = (captureId: string, camera: Uint8Array[] | StreamCamera, options: Partial<Parameters<typeof runStream>[0]> = {}) => runStream({
      url: streamUrl(gw.issuer, it.endpoints.capture, captureId), origin: gw.issuer, cookie: cookieOf(s), csrf: it.csrf,
      camera: Array.isArray(camera) ? scripted(camera) : camera, ...options,
    });
    const start = async () => (await json(it.endpoints.capture, { nationalId: 'AB123456' })).json as { captureId: string; minFrames: number; maxFrames: number };
    return { s, it, json, frames, stream, start };
  }
  const code = (hop: { json?: unknown }) => (hop.json as { error?: { code: string } }).error?.code;
  /** A stream's error as the HTTP answer would read it: [status, code]. */
  const failed = (run: StreamRun) => (run.error ? [errorCatalogue[run.error.code].status, run.error.code] : ['no error', run.verdict]);
  const session = (captureId: string) => gw.database.db('capture_sessions').where({ id: captureId }).first();
  /** The audit trail's decision of a capture's last submission. */
  const decisionOf = async (captureId: string) => (await gw.database.db('audit_events').where({ type: 'capture.decided' }).orderBy('id', 'desc'))
    .map((r) => JSON.parse(r.details) as { captureId: string; frames: number; status: string })
    .find((d) => d.captureId === captureId);
  /** A WebSocket on a stream, driven by hand from its opening on: the messages and the close code. */
  const rawStream = (url: string, cookie: string, onOpen: (ws: WebSocket) => void) => new Promise<{ messages: ServerMessage[]; code: number }>((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { origin: gw.issuer, cookie } });
    const messages: ServerMessage[] = [];
    ws.on('open', () => onOpen(ws));
    ws.on('message', (data) => messages.push(JSON.parse(String(data)) as ServerMessage));
    ws.on('close', (closed) => resolve({ messages, code: closed }));
    ws.on('error', reject);
  });

  it('answers the interaction as JSON with its csrf token and endpoints', async () => {
    const { it: interaction } = await open();
    expect(interaction).toMatchObject({ prompt: 'login', client: { name: 'Agency pension-office' }, csrf: expect.any(String) });
    expect(Object.keys(interaction.endpoints)).toEqual(expect.arrayContaining(['capture', 'quality', 'verify', 'consent', 'abort']));
  });

  it('refuses an unknown interaction with interaction_not_found', async () => {
    const { s } = await open();
    const hop = await s.browser.request(`${gw.issuer}/interaction/not-a-real-uid`, { headers: { accept: 'application/json' } });
    expect([hop.status, code(hop)]).toEqual([404, 'interaction_not_found']);
  });

  it('refuses a post without the CSRF token', async () => {
    const { it: interaction, json } = await open();
    const hop = await json(interaction.endpoints.capture, { nationalId: 'AB123456' }, '');
    expect([hop.status, code(hop)]).toEqual([403, 'csrf_invalid']);
  });

  it('refuses a malformed national ID and stores nothing', async () => {
    const { it: interaction, json } = await open();
    const before = await gw.database.db('capture_sessions').count({ n: '*' });
    const hop = await json(interaction.endpoints.capture, { nationalId: '<script>' });
    expect([hop.status, code(hop)]).toEqual([400, 'invalid_national_id']);
    expect(await gw.database.db('capture_sessions').count({ n: '*' })).toEqual(before);
  });

  it('refuses a fourth capture in one sign-in with too_many_captures', async () => {
    const { start, it: interaction, json } = await open();
    for (let i = 0; i < gw.config.capture.maxCapturesPerInteraction; i++) expect((await start()).captureId).toEqual(expect.any(String));
    const hop = await json(interaction.endpoints.capture, { nationalId: 'AB123456' });
    expect([hop.status, code(hop)]).toEqual([429, 'too_many_captures']);
  });

  it('refuses broken JSON with invalid_input', async () => {
    const { it: interaction, json } = await open();
    const hop = await json(interaction.endpoints.capture, '{"nationalId":');
    expect([hop.status, code(hop)]).toEqual([400, 'invalid_input']);
  });

  // A capture takes several frames (presence is judged over them); each bad one is new bytes.
  it.each([
    ['a text file', (i: number) => Buffer.from(`hello, this is not an image ${i}`), 415, 'unsupported_image'],
    ['a truncated JPEG', (i: number) => blank.subarray(0, (blank.length >> 1) + i), 400, 'corrupt_image'],
    ['an image over the byte limit', (i: number) => Buffer.concat([blank, Buffer.alloc(500_000 + i)]), 413, 'image_too_large'],
  ])('refuses %s, and counts the submission', async (_name, bytes, status, expected) => {
    const { stream, start } = await open();
    const { captureId, minFrames } = await start();
    const run = await stream(captureId, Array.from({ length: minFrames }, (_, i) => bytes(i)));
    expect(failed(run)).toEqual([status, expected]);
    expect(run.verdict).toBeUndefined();
    expect(run.closed.code).toBe(1000);
    // Bad input counts as a submission (a client cannot probe without limit), not as an attempt.
    expect(await session(captureId)).toMatchObject({ state: 'open', submissions: 1, attempts_used: 0 });
  });

  it('refuses a stream that ends after one frame: a single picture cannot show presence', async () => {
    const { stream, start } = await open();
    const { captureId, minFrames } = await start();
    expect(minFrames).toBeGreaterThanOrEqual(3);
    const run = await stream(captureId, [await freshBlank()]);
    expect(failed(run)).toEqual([400, 'too_few_frames']);
    // Refused before anything is evaluated: the capture is as it was.
    expect(await session(captureId)).toMatchObject({ state: 'open', submissions: 0 });
  });

  it('takes at most stream.maxFrames frames, then decides; refuses a stream without frames or with a message that is not a frame', async () => {
    const { stream, start } = await open();
    const { captureId } = await start();
    const { maxFrames } = gw.config.capture.stream;
    // A camera with more frames than a capture takes: the server decides on the first maxFrames.
    const offered = await Promise.all(Array.from({ length: maxFrames + 5 }, freshBlank));
    const many = await stream(captureId, offered, { intervalMs: 110 });
    const checking = many.messages.findIndex((m) => m.type === 'checking');
    expect(checking).toBeGreaterThan(0);
    expect(many.messages.filter((m) => m.type === 'ack')).toHaveLength(maxFrames);
    expect(many.messages.slice(checking).filter((m) => m.type === 'ack')).toHaveLength(0);
    expect(many.verdict).toMatchObject({ status: 'retry', feedback: [{ code: 'no_face' }] });
    expect(await decisionOf(captureId)).toMatchObject({ frames: maxFrames, status: 'retry' });

    const none = await stream(captureId, []);
    expect(failed(none)).toEqual([400, 'too_few_frames']);
    // Not a frame (under the 4-byte sequence number), or a text message that is neither start nor end.
    const short = await stream(captureId, { next: async () => undefined }, { onMessage: (m, ws) => { if (m.type === 'ready') ws.send(Buffer.from([0, 1])); } });
    expect([failed(short), short.closed.code]).toEqual([[400, 'invalid_input'], 1008]);
    const text = await stream(captureId, { next: async () => undefined }, { onMessage: (m, ws) => { if (m.type === 'ready') ws.send('frame=1'); } });
    expect([failed(text), text.closed.code]).toEqual([[400, 'invalid_input'], 1008]);
  }, 60_000);

  it('refuses a frame before the start message, a sequence number that is not the next one, and a second start', async () => {
    // The server alone orders and times the frames: each carries the next sequence number, after ready.
    const { it: interaction, s, stream, start } = await open();
    const { captureId } = await start();
    const url = streamUrl(gw.issuer, interaction.endpoints.capture, captureId);
    const early = await rawStream(url, cookieOf(s), (ws) => {
      ws.send(framed(0, blank));
      ws.send(JSON.stringify({ type: 'start', csrf: interaction.csrf }));
    });
    expect([early.messages, early.code]).toEqual([[expect.objectContaining({ type: 'error', code: 'invalid_input' })], 1008]);
    const [a, b] = await blanks();
    const again = await stream(captureId, { next: async () => undefined }, { onMessage: (m, ws) => {
      if (m.type === 'ready') { ws.send(framed(0, a)); ws.send(framed(0, b)); }
    } });
    expect([failed(again), again.closed.code]).toEqual([[400, 'frame_out_of_order'], 1008]);
    const twice = await stream(captureId, { next: async () => undefined }, { onMessage: (m, ws) => {
      if (m.type === 'ready') ws.send(JSON.stringify({ type: 'start', csrf: interaction.csrf }));
    } });
    expect([failed(twice), twice.closed.code]).toEqual([[400, 'invalid_input'], 1008]);
    // None of these was a submission.
    expect(await session(captureId)).toMatchObject({ state: 'open', submissions: 0 });
  });

  it('asks for a retry when a frame has no face', async () => {
    const { stream, start } = await open();
    const { captureId } = await start();
    const run = await stream(captureId, await blanks());
    expect(run.verdict).toMatchObject({ status: 'retry', feedback: [{ code: 'no_face' }], attemptsLeft: 3 });
  });

  // One SQLite connection: read-only for it is read-only for the gateway (outage.test.ts covers both databases).
  (onPostgres ? it.skip : it)('answers a stream whose decision the database cannot record with a retryable service_unavailable, and spends nothing', async () => {
    const { stream, start } = await open();
    const { captureId } = await start();
    await gw.database.db.raw('PRAGMA query_only = ON');
    let run: StreamRun;
    try {
      run = await stream(captureId, await blanks());
    } finally {
      await gw.database.db.raw('PRAGMA query_only = OFF');
    }
    expect(run.error).toEqual({ type: 'error', code: 'service_unavailable', message: errorCatalogue.service_unavailable.message, retryAfterSeconds: 5 });
    // The next stream of the same capture is its first submission.
    expect((await stream(captureId, await blanks())).verdict).toMatchObject({ status: 'retry', attemptsLeft: 3 });
  });

  it('refuses a capture of another interaction, an unknown one and an expired one', async () => {
    const a = await open();
    const b = await open();
    const { captureId } = await a.start();
    // Another interaction's page, on its own stream path with the other's capture…
    const foreign = await b.stream(captureId, [blank]);
    expect(failed(foreign)).toEqual([404, 'capture_not_found']);
    // …or on the capture's own stream path with its own cookie: refused at the upgrade.
    await expect(a.stream(captureId, [blank], { cookie: cookieOf(b.s) })).rejects.toMatchObject({ status: 404 });
    const unknown = await a.stream('no-such-capture', [blank]);
    expect(failed(unknown)).toEqual([404, 'capture_not_found']);
    await gw.database.db('capture_sessions').where({ id: captureId }).update({ expires_at: Date.now() - 1 });
    const expired = await a.stream(captureId, [blank]);
    expect(failed(expired)).toEqual([410, 'capture_expired']);
  });

  it('answers the retired batch endpoint with stream_required, and an unknown interaction with interaction_not_found', async () => {
    const { frames, start } = await open();
    const { captureId } = await start();
    const batch = await frames(captureId, framesBody(await blanks()));
    expect([batch.status, code(batch)]).toEqual([410, 'stream_required']);
    const unknown = await frames(captureId, framesBody([blank]), undefined, 'not-a-real-uid');
    expect([unknown.status, code(unknown)]).toEqual([404, 'interaction_not_found']);
    // Nothing was submitted.
    expect(await session(captureId)).toMatchObject({ state: 'open', submissions: 0 });
  });

  it('closes a capture after its last submission', async () => {
    const { stream, start } = await open();
    const { captureId } = await start();
    let last: StreamRun | undefined;
    for (let i = 0; i < gw.config.capture.maxSubmissions; i++) last = await stream(captureId, await blanks());
    expect(last!.verdict).toMatchObject({ status: 'rejected', attemptsLeft: 0 });
    const after = await stream(captureId, await blanks());
    expect(failed(after)).toEqual([409, 'capture_closed']);
  }, 60_000);

  it('answers the quality preview with guidance', async () => {
    const { s, it: interaction } = await open();
    const hop = await s.browser.request(`${gw.issuer}${interaction.endpoints.quality}`, {
      method: 'POST', headers: { accept: 'application/json', 'x-csrf-token': interaction.csrf }, body: framesBody([blank]),
    });
    expect(hop.json).toMatchObject({ ok: false, feedback: [{ code: 'no_face' }] });
  });

  it('limits the quality preview: a few a second per sign-in, one on the pool at a time (previews never starve verifications)', async () => {
    const { s, it: interaction } = await open();
    const { perSignInPerSecond } = gw.config.capture.preview;
    const preview = () => s.browser.request(`${gw.issuer}${interaction.endpoints.quality}`, {
      method: 'POST', headers: { accept: 'application/json', 'x-csrf-token': interaction.csrf }, body: framesBody([blank]),
    });
    const burst = await Promise.all(Array.from({ length: perSignInPerSecond * 2 }, preview));
    const statuses = burst.map((h) => h.status);
    expect(statuses).toContain(200);
    expect(burst.filter((h) => h.status === 429).map(code)).toEqual(Array(statuses.filter((x) => x === 429).length).fill('preview_limited'));
    expect(statuses.filter((x) => x === 429).length).toBeGreaterThanOrEqual(perSignInPerSecond);
    // A second later the sign-in has its previews back.
    await new Promise((r) => setTimeout(r, 1100));
    expect((await preview()).status).toBe(200);
  });

  it('refuses consent before the citizen is verified', async () => {
    const { it: interaction, json } = await open();
    const hop = await json(interaction.endpoints.consent, { decision: 'allow' });
    expect([hop.status, code(hop)]).toEqual([400, 'invalid_input']);
  });

  it('sends the citizen back to the agency with access_denied on abort', async () => {
    const { it: interaction, json, s } = await open();
    const hop = await json(interaction.endpoints.abort, {});
    const back = await s.browser.follow((hop.json as { redirectTo: string }).redirectTo, gw.issuer);
    expect(new URL(back.location!).searchParams.get('error')).toBe('access_denied');
  });

  describeWithData('with a genuine citizen', () => {
    // As a JPEG: this gateway's byte limit (400 kB) is below the PNG's size.
    beforeAll(async () => {
      await gw.enroll('KH19861226', await sharp(citizenPhoto()).jpeg({ quality: 95 }).toBuffer());
      await warmLiveCitizen();
    }, 180_000);

    it('closes a capture once verified: the same frames cannot be replayed into it', async () => {
      const s = await startSignIn(agency);
      // The live citizen following the prompts, every frame it sent kept.
      const cam = await liveCamera();
      const sent: Buffer[] = [];
      const recorder: StreamCamera = { next: async () => { const f = await cam.next(); sent.push(f); return f; }, follow: (a) => cam.follow(a) };
      const first = await verifyFace(s, 'KH19861226', recorder);
      expect(first.submit.json).toMatchObject({ status: 'verified' });
      expect(sent.length).toBeGreaterThanOrEqual(3);
      const again = await first.stream(sent);
      // A stream opened again answers the decision already made (its verdict may have been lost on
      // the way: docs/capture-api.md), at once: none of the frames reached a decision.
      expect(again.run.messages.map((m) => m.type)).toEqual(['verdict']);
      expect(again.submit.json).toEqual(first.submit.json);
      // The answer never carries the scores (the audit trail does: below).
      expect(JSON.stringify(first.run.messages)).not.toMatch(/score|threshold/);
    }, 90_000);

    it.each([['substantial', undefined], ['high', acrHigh]])('answers the form without JavaScript at %s with camera_required, starting nothing', async (_level, acr) => {
      const s = await startSignIn(agency, acr ? { acr } : {});
      const it1 = await interactionJson(s, s.landed.url);
      const form = framesBody([await fresh(citizenPhoto())]);
      form.append('csrf', it1.csrf);
      form.append('nationalId', 'kh-1986 1226');
      const hop = await s.browser.request(`${gw.issuer}${it1.endpoints.verify}`, { method: 'POST', body: form, headers: { accept: 'text/html' } });
      expect(hop.status).toBe(422);
      expect(hop.body).toContain('data-code="camera_required"');
      expect(await gw.database.db('capture_sessions').where({ interaction_uid: it1.uid })).toHaveLength(0);
      expect(await gw.database.db('audit_events').where({ type: 'capture.decided', interaction_uid: it1.uid })).toHaveLength(0);
    });

    it('rejects after the attempts are used up, and says so', async () => {
      const s = await startSignIn(agency);
      // Another person's still photo, as new bytes each time: not live, a failed attempt each time.
      const photos = () => Promise.all(Array.from({ length: 4 }, () => cameraShot(face('rose_leslie', 'rose_leslie_1.jpg'))));
      const first = await verifyFace(s, 'KH19861226', await photos());
      const answers = [first.submit.json];
      for (let i = 1; i < gw.config.capture.maxAttempts; i++) answers.push((await first.stream(await photos())).submit.json);
      expect(answers.map((a) => (a as { attemptsLeft: number }).attemptsLeft)).toEqual([2, 1, 0]);
      expect(answers.every((a) => (a as { status: string }).status === 'rejected')).toBe(true);
      // A presence failure says so (never blaming the ID number).
      expect(answers.map((a) => (a as { feedback: Array<{ code: string }> }).feedback.map((f) => f.code))).toEqual([['not_live'], ['not_live'], ['not_live']]);
      expect(await session(first.captureId)).toMatchObject({ state: 'rejected', attempts_used: 3 });
      const after = await first.stream(await photos());
      expect([after.submit.status, (after.submit.json as { error?: { code: string } }).error?.code]).toEqual([409, 'capture_closed']);
    }, 90_000);

    it('keeps the decision in the audit trail with scores, never in the answer', async () => {
      const rows = await gw.database.db('audit_events').where({ type: 'capture.decided' });
      expect(rows.length).toBeGreaterThan(0);
      const details = JSON.parse(rows[0].details);
      expect(details.checks.length).toBeGreaterThan(0);
      // The streamed verification's decision has the match's score and threshold.
      const verified = rows.map((r) => JSON.parse(r.details) as { status: string; checks: object[] }).find((d) => d.status === 'verified');
      expect(verified?.checks).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'match', score: expect.any(Number), threshold: expect.any(Number) })]));
      expect(JSON.stringify(rows)).not.toMatch(/KH19861226/);
    });
  });
});

// The capture API's answers to bad and replayed input (docs/capture-api.md): stable 4xx codes,
// no partial data, and the flow's limits: attempts, expiry, reuse, another interaction's capture.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import sharp from 'sharp';
import { acrHigh, connectAgency, createAgencyKeys, framesBody, interactionJson, startSignIn, verifyFace, type Agency } from '../../helpers/agency.ts';
import { describeWithData, face } from '../../helpers/data.ts';
import { cameraShot } from '../../helpers/derive.ts';
import { citizenPhoto, liveFrames, warmLiveCitizen } from '../../helpers/live.ts';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.ts';

describe('capture API', () => {
  let gw: TestGateway;
  let agency: Agency;
  let blank: Buffer;
  let shade = 0;
  /** A faceless picture with bytes never sent before (the same bytes twice are a replay). */
  const freshBlank = () => { const v = 100 + (shade++ % 100); return sharp({ create: { width: 320, height: 240, channels: 3, background: { r: v, g: v, b: v } } }).jpeg().toBuffer(); };
  /** A shared photo re-encoded to bytes never sent before: the same face, a new file. */
  let quality = 95;
  const fresh = (photo: Buffer) => sharp(photo).jpeg({ quality: quality-- }).toBuffer();
  /** As many faceless pictures as a capture takes at least. */
  const blanks = () => Promise.all(Array.from({ length: 3 }, freshBlank));

  beforeAll(async () => {
    gw = await startTestGateway({ biometrics: { image: { maxBytes: 400_000 } } });
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
    const frames = (captureId: string, body: BodyInit, csrf = it.csrf) => s.browser.request(url(`${it.endpoints.capture}/${captureId}/frames`), {
      method: 'POST', headers: { accept: 'application/json', 'x-csrf-token': csrf }, body,
    });
    const start = async () => (await json(it.endpoints.capture, { nationalId: 'AB123456' })).json as { captureId: string; minFrames: number; maxFrames: number };
    return { s, it, json, frames, start };
  }
  const code = (hop: { json?: unknown }) => (hop.json as { error?: { code: string } }).error?.code;

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
  ])('refuses %s', async (_name, bytes, status, expected) => {
    const { frames, start } = await open();
    const { captureId, minFrames } = await start();
    const hop = await frames(captureId, framesBody(Array.from({ length: minFrames }, (_, i) => bytes(i))));
    expect([hop.status, code(hop)]).toEqual([status, expected]);
  });

  it('refuses one frame: a single picture cannot show presence', async () => {
    const { frames, start } = await open();
    const { captureId, minFrames } = await start();
    expect(minFrames).toBeGreaterThanOrEqual(3);
    const hop = await frames(captureId, framesBody([await freshBlank()]));
    expect([hop.status, code(hop)]).toEqual([400, 'too_few_frames']);
  });

  it('refuses too many frames and a body without frames', async () => {
    const { frames, start } = await open();
    const { captureId, maxFrames } = await start();
    const many = await frames(captureId, framesBody(Array.from({ length: maxFrames + 1 }, () => blank)));
    expect([many.status, code(many)]).toEqual([400, 'too_many_frames']);
    const none = await frames(captureId, framesBody([]));
    expect([none.status, code(none)]).toEqual([400, 'too_few_frames']);
    const notMultipart = await frames(captureId, 'frame=1');
    expect([notMultipart.status, code(notMultipart)]).toEqual([400, 'invalid_input']);
  });

  it('refuses timestamps that are not one non-decreasing number per frame', async () => {
    const { frames, start } = await open();
    const { captureId } = await start();
    for (const bad of ['not json', '[1,2]', '[5]'.replace('5', '-1'), '{"a":1}']) {
      const body = framesBody([blank]);
      body.append('timestamps', bad);
      const hop = await frames(captureId, body);
      expect([bad, hop.status, code(hop)]).toEqual([bad, 400, 'invalid_input']);
    }
  });

  it('asks for a retry when a frame has no face', async () => {
    const { frames, start } = await open();
    const { captureId } = await start();
    const hop = await frames(captureId, framesBody(await blanks()));
    expect(hop.json).toMatchObject({ status: 'retry', feedback: [{ code: 'no_face' }], attemptsLeft: 3 });
  });

  it('refuses a capture of another interaction, an unknown one and an expired one', async () => {
    const a = await open();
    const b = await open();
    const { captureId } = await a.start();
    const foreign = await b.frames(captureId, framesBody([blank]));
    expect([foreign.status, code(foreign)]).toEqual([404, 'capture_not_found']);
    const unknown = await a.frames('no-such-capture', framesBody([blank]));
    expect([unknown.status, code(unknown)]).toEqual([404, 'capture_not_found']);
    await gw.database.db('capture_sessions').where({ id: captureId }).update({ expires_at: Date.now() - 1 });
    const expired = await a.frames(captureId, framesBody([blank]));
    expect([expired.status, code(expired)]).toEqual([410, 'capture_expired']);
  });

  it('closes a capture after its last submission', async () => {
    const { frames, start } = await open();
    const { captureId } = await start();
    let last;
    for (let i = 0; i < gw.config.capture.maxSubmissions; i++) last = await frames(captureId, framesBody(await blanks()));
    expect(last!.json).toMatchObject({ status: 'rejected', attemptsLeft: 0 });
    const after = await frames(captureId, framesBody(await blanks()));
    expect([after.status, code(after)]).toEqual([409, 'capture_closed']);
  });

  it('answers the quality preview with guidance', async () => {
    const { s, it: interaction } = await open();
    const hop = await s.browser.request(`${gw.issuer}${interaction.endpoints.quality}`, {
      method: 'POST', headers: { accept: 'application/json', 'x-csrf-token': interaction.csrf }, body: framesBody([blank]),
    });
    expect(hop.json).toMatchObject({ ok: false, feedback: [{ code: 'no_face' }] });
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
      const first = await verifyFace(s, 'KH19861226', liveFrames);
      expect(first.submit.json).toMatchObject({ status: 'verified' });
      const again = await s.browser.request(`${gw.issuer}${first.it.endpoints.capture}/${first.captureId}/frames`, {
        method: 'POST', headers: { accept: 'application/json', 'x-csrf-token': first.it.csrf }, body: framesBody(await liveFrames(first.actions)),
      });
      expect([again.status, code(again)]).toEqual([409, 'capture_closed']);
    });

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
      const it1 = await interactionJson(s, s.landed.url);
      const start = await s.browser.request(`${gw.issuer}${it1.endpoints.capture}`, {
        method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': it1.csrf },
        body: JSON.stringify({ nationalId: 'KH19861226' }),
      });
      const { captureId } = start.json as { captureId: string };
      const answers = [];
      // Another person's still photo, as new bytes each time: not live, a failed attempt each time.
      for (let i = 0; i < gw.config.capture.maxAttempts; i++) {
        const photos = await Promise.all(Array.from({ length: 4 }, () => cameraShot(face('rose_leslie', 'rose_leslie_1.jpg'))));
        const hop = await s.browser.request(`${gw.issuer}${it1.endpoints.capture}/${captureId}/frames`, {
          method: 'POST', headers: { accept: 'application/json', 'x-csrf-token': it1.csrf }, body: framesBody(photos),
        });
        answers.push(hop.json);
      }
      expect(answers.map((a) => (a as { attemptsLeft: number }).attemptsLeft)).toEqual([2, 1, 0]);
      expect(answers.every((a) => (a as { status: string }).status === 'rejected')).toBe(true);
    });

    it('keeps the decision in the audit trail with scores, never in the answer', async () => {
      const rows = await gw.database.db('audit_events').where({ type: 'capture.decided' });
      expect(rows.length).toBeGreaterThan(0);
      const details = JSON.parse(rows[0].details);
      expect(details.checks.length).toBeGreaterThan(0);
      expect(JSON.stringify(rows)).not.toMatch(/KH19861226/);
    });
  });
});

// The citizen's side of a remote onboarding over HTTP (as an app would drive it, JSON): the start
// with her national ID, the document photo, then the live capture at high streamed from her camera.
import { expect } from '@jest/globals';
import type { Db } from '../../src/db/knex.ts';
import { insertCitizen } from '../../src/registry/citizens.ts';
import { createBrowser } from './browser.ts';
import { runStream, type StreamCamera, type StreamRun } from './stream.ts';

export type OnboardingRecord = { nationalId: string; givenName: string; familyName: string; birthdate: string; documentNumber?: string };

/** A registry record without a face template (what onboarding is for). */
export async function registerWithoutPhoto(db: Db, r: OnboardingRecord): Promise<string> {
  const c = await insertCitizen(db, { nationalId: r.nationalId, givenName: r.givenName, familyName: r.familyName, birthdate: r.birthdate }, Date.now);
  if (r.documentNumber) await db('citizens').where({ id: c.id }).update({ document_number: r.documentNumber });
  return c.id;
}

type Page = { id: string; state: string; csrf: string; attemptsLeft: number; endpoints: { capture: string; document: string }; error?: { code: string } };
const json = { accept: 'application/json' };

/** Starts an onboarding for `nationalId`: the browser (its cookie) and the session's page. */
export async function beginOnboarding(issuer: string, nationalId: string) {
  const browser = createBrowser();
  const start = await browser.request(`${issuer}/onboarding`, { headers: json });
  expect(start.status).toBe(200);
  const { csrf } = start.json as { csrf: string };
  const begun = await browser.request(`${issuer}/onboarding`, {
    method: 'POST', headers: { ...json, 'content-type': 'application/json', 'x-csrf-token': csrf }, body: JSON.stringify({ nationalId }),
  });
  expect(begun.status).toBe(200);
  const page = async (): Promise<Page> => (await browser.request(`${issuer}${(begun.json as { redirectTo: string }).redirectTo}`, { headers: json })).json as Page;
  return { browser, page };
}

/** Sends a document photo: 200 (the session moves to the capture) or the refusal's status and code. */
export async function sendDocument(issuer: string, o: Awaited<ReturnType<typeof beginOnboarding>>, photo: Uint8Array) {
  const p = await o.page();
  const form = new FormData();
  form.set('csrf', p.csrf);
  form.set('document', new Blob([Buffer.from(photo)], { type: 'image/jpeg' }), 'document.jpg');
  const res = await o.browser.request(`${issuer}${p.endpoints.document}`, { method: 'POST', headers: json, body: form });
  return { status: res.status, body: res.json as { redirectTo?: string; error?: { code: string }; state?: string; attemptsLeft?: number } };
}

/** The live capture at high, from `camera`, to its end. */
export async function captureLive(issuer: string, o: Awaited<ReturnType<typeof beginOnboarding>>, camera: StreamCamera): Promise<StreamRun> {
  const p = await o.page();
  const start = await o.browser.request(`${issuer}${p.endpoints.capture}`, {
    method: 'POST', headers: { ...json, 'content-type': 'application/json', 'x-csrf-token': p.csrf }, body: '{}',
  });
  expect(start.status).toBe(201);
  const { stream } = start.json as { stream: string };
  const cookie = [...o.browser.jar].map(([k, v]) => `${k}=${v}`).join('; ');
  return runStream({ url: `${issuer.replace(/^http/, 'ws')}${stream}`, origin: issuer, cookie, csrf: p.csrf, camera });
}

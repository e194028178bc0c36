// The citizen's side of a proof of life (CIBA): she opens the one-time link in her own browser,
// chooses Start (or "this was not me"), and does the capture at high from her live camera.
import { expect } from '@jest/globals';
import { acrHigh } from './agency.ts';
import { createBrowser } from './browser.ts';
import { liveCamera } from './live.ts';
import { againAfterRetry, runStream } from './stream.ts';

/** The citizen opens the link in her browser: the link's page, then her choice. */
export async function openProofLink(issuer: string, link: string, decision: 'start' | 'deny' = 'start') {
  const browser = createBrowser();
  const landing = await browser.request(link, { headers: { accept: 'application/json' } });
  expect(landing.status).toBe(200);
  const it = landing.json as { csrf: string; bindingMessage: string; client: { name: string }; claims: string[]; endpoints: { claim: string } };
  const chosen = await browser.request(`${issuer}${it.endpoints.claim}`, {
    method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': it.csrf },
    body: JSON.stringify({ t: new URL(link).searchParams.get('t'), decision }),
  });
  return { browser, landing: it, chosen: chosen as typeof chosen & { json: { redirectTo: string } } };
}

/** …and proves she is alive: the capture page's capture, streamed from her camera at high. */
export async function proveLifeAt(issuer: string, link: string) {
  const { browser, landing, chosen } = await openProofLink(issuer, link);
  const page = (await browser.request(`${issuer}${chosen.json.redirectTo}`, { headers: { accept: 'application/json' } })).json as {
    id: string; csrf: string; acr: string; bindingMessage: string; endpoints: { capture: string; deny: string; done: string };
  };
  // No ID is typed: the capture is for the citizen the agency named.
  const start = await browser.request(`${issuer}${page.endpoints.capture}`, {
    method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': page.csrf }, body: '{}',
  });
  expect(start.status).toBe(201);
  const { stream, steps, acr } = start.json as { stream: string; steps: number; acr: string };
  expect({ steps, acr }).toEqual({ steps: 2, acr: acrHigh });
  const cookie = [...browser.jar].map(([k, v]) => `${k}=${v}`).join('; ');
  const once = async () => runStream({ url: `${issuer.replace(/^http/, 'ws')}${stream}`, origin: issuer, cookie, csrf: page.csrf, camera: await liveCamera() });
  const run = await againAfterRetry(await once(), once, (r) => r, 2);
  return { browser, landing, page, run };
}

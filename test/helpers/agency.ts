// An independent agency for end-to-end tests: its own key pair, openid-client 6 as the relying
// party (PAR, PKCE S256, DPoP, private_key_jwt), and the browser-side walk through the interaction.
import { errorCatalogue } from '../../src/shared/errors.ts';
import { exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import * as client from 'openid-client';
import { createBrowser, type Hop } from './browser.ts';
import { liveCamera } from './live.ts';
import { againAfterRetry, runStream, scripted, streamUrl, type StreamCamera, type StreamRun } from './stream.ts';

export const acrSubstantial = 'http://eidas.europa.eu/LoA/substantial';
export const acrHigh = 'http://eidas.europa.eu/LoA/high';
export const redirectUri = 'https://agency.example/callback';

export type Agency = { clientId: string; jwks: { keys: object[] }; privateKey: CryptoKey; kid: string; redirectUri: string; config: client.Configuration };

/** Generates the agency's key pair (PS256) and its public JWKS. */
export async function createAgencyKeys(clientId: string, callback = redirectUri) {
  const { privateKey, publicKey } = await generateKeyPair('PS256');
  const kid = `${clientId}-key-1`;
  return { clientId, redirectUri: callback, privateKey: privateKey as CryptoKey, kid, jwks: { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'PS256', use: 'sig' }] } };
}

/** Discovers the gateway as the agency would (after it is registered there). */
export async function connectAgency(issuer: string, keys: Awaited<ReturnType<typeof createAgencyKeys>>): Promise<Agency> {
  const config = await client.discovery(new URL(issuer), keys.clientId, { id_token_signed_response_alg: 'PS256' },
    client.PrivateKeyJwt(keys.privateKey, { [client.modifyAssertion]: (h) => { h.kid = keys.kid; } }),
    { execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks] });
  return { ...keys, config };
}

export type SignIn = Awaited<ReturnType<typeof startSignIn>>;

/** PAR with PKCE and DPoP, then the browser opens the authorization URL and lands on the interaction. */
export async function startSignIn(agency: Agency, options: { acr?: string; scope?: string; browser?: ReturnType<typeof createBrowser>; params?: Record<string, string> } = {}) {
  const browser = options.browser ?? createBrowser();
  const verifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const state = client.randomState();
  const DPoP = client.getDPoPHandle(agency.config, await client.randomDPoPKeyPair('ES256'));
  const url = await client.buildAuthorizationUrlWithPAR(agency.config, {
    redirect_uri: agency.redirectUri, scope: options.scope ?? 'openid profile national_id', state, nonce,
    acr_values: options.acr ?? acrSubstantial,
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    ...options.params,
  }, { DPoP });
  const issuer = new URL(agency.config.serverMetadata().issuer).origin;
  const landed = await browser.follow(url.href, issuer);
  return { browser, verifier, nonce, state, DPoP, issuer, landed };
}

/** The interaction's JSON form (uid, prompt, csrf, endpoints). */
export async function interactionJson(s: Pick<SignIn, 'browser'>, interactionUrl: string) {
  const hop = await s.browser.request(interactionUrl, { headers: { accept: 'application/json' } });
  return hop.json as { uid: string; prompt: string; acr: string; claims: string[]; csrf: string; client: { name: string }; endpoints: Record<string, string> };
}

/** Posts frames as multipart (the retired batch submission, and the no-JavaScript form). */
export function framesBody(frames: Uint8Array[], type = 'image/jpeg', timestamps?: number[]): FormData {
  const form = new FormData();
  frames.forEach((f, i) => form.append('frame', new Blob([new Uint8Array(f)], { type }), `frame-${i}.jpg`));
  if (timestamps) form.append('timestamps', JSON.stringify(timestamps));
  return form;
}

/** The cookie header the browser would send to the gateway. */
export const cookieOf = (s: Pick<SignIn, 'browser'>) => [...s.browser.jar].map(([k, v]) => `${k}=${v}`).join('; ');

/**
 * Starts a capture for `nationalId` and streams it (helpers/stream.ts) from `camera`: by default
 * the live citizen following the prompts; a list of frames is sent as it is, whatever the prompts.
 * Returns the start answer, the stream's run, and `submit`: the verdict or error as the JSON
 * answer of a request would read (`status` the error's HTTP status, 200 for a verdict).
 * `retries`: with the live citizen, how many more streams a `retry` verdict may take.
 */
export async function verifyFace(s: SignIn, nationalId: string, camera?: Uint8Array[] | StreamCamera, options: { intervalMs?: number; retries?: number } = {}) {
  const it = await interactionJson(s, s.landed.url);
  const start = await s.browser.request(`${s.issuer}${it.endpoints.capture}`, {
    method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': it.csrf },
    body: JSON.stringify({ nationalId }),
  });
  const { captureId } = start.json as { captureId: string };
  // A refused start (a lockout…) is the answer: no stream to open.
  if (start.status !== 201) {
    const error = (start.json as { error: { code: keyof typeof errorCatalogue; message: string; retryAt?: string } }).error;
    const refused = { messages: [], prompts: [], closed: { code: 0, reason: 'start refused' }, error: { type: 'error' as const, ...error } };
    return { it, start, run: refused as StreamRun, submit: { status: start.status, json: { error } }, captureId, stream: async () => ({ run: refused as StreamRun, submit: { status: start.status, json: { error } } }) };
  }
  const stream = async (cam?: Uint8Array[] | StreamCamera) => {
    const run = await runStream({
      url: streamUrl(s.issuer, it.endpoints.capture, captureId), origin: s.issuer, cookie: cookieOf(s), csrf: it.csrf,
      camera: Array.isArray(cam) ? scripted(cam) : cam ?? await liveCamera(), ...options,
    });
    const { type: _v, ...verdict } = run.verdict ?? { type: 'verdict' };
    const submit = run.error
      ? { status: errorCatalogue[run.error.code].status, json: { error: { code: run.error.code, message: run.error.message, retryAt: run.error.retryAt } } }
      : { status: 200, json: verdict as { status: string; feedback: Array<{ code: string; message: string }>; attemptsLeft: number; redirectTo?: string; stepUp?: { steps: number } } };
    return { run, submit };
  };
  const { run, submit } = camera ? await stream(camera) : await againAfterRetry(await stream(), () => stream(), (r) => r.run, options.retries ?? 0);
  return { it, start, run, submit, captureId, stream };
}

/** After `verified`: follow to consent, allow, and return the hop at the agency's redirect_uri. */
export async function consentAndReturn(s: SignIn, redirectTo: string): Promise<Hop & { url: string }> {
  const atConsent = await s.browser.follow(redirectTo, s.issuer);
  if (atConsent.location && !atConsent.location.startsWith(s.issuer)) return atConsent;
  const it = await interactionJson(s, atConsent.url);
  if (it.prompt !== 'consent') throw new Error(`expected consent, got ${it.prompt}`);
  const decided = await s.browser.request(`${s.issuer}${it.endpoints.consent}`, {
    method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': it.csrf },
    body: JSON.stringify({ decision: 'allow' }),
  });
  return s.browser.follow((decided.json as { redirectTo: string }).redirectTo, s.issuer);
}

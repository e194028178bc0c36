// The agency and the citizen's user agent of a complete Facegate sign-in over real HTTP, shared by
// the benchmarks (bench/cluster.ts; the same steps as bench/oidc.ts): openid-client 6 as the
// agency (PAR, PKCE S256, DPoP, private_key_jwt), a cookie jar following the redirects, the
// streamed capture over the WebSocket, consent, token and userinfo. Imports no Jest helper (a
// bench cannot load @jest/globals): test/helpers/browser.ts and stream.ts only.
import { performance } from 'node:perf_hooks';
import { exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import * as client from 'openid-client';
import type { ServerMessage } from '../../src/capture/stream.ts';
import { acrSubstantial } from '../../src/oidc/acr.ts';
import type { Agency } from '../../test/helpers/agency.ts';
import { createBrowser } from '../../test/helpers/browser.ts';
import { runStream, type StreamCamera } from '../../test/helpers/stream.ts';

export type { Agency };
export type Browser = ReturnType<typeof createBrowser>;

/** Adds `ms` to `steps[name]` for the time `fn` takes. */
export const timed = async <T>(steps: Record<string, number>, name: string, fn: () => Promise<T>): Promise<T> => {
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    steps[name] = (steps[name] ?? 0) + performance.now() - t0;
  }
};

/** The agency's key pair (PS256) and its public JWKS. */
export async function createAgencyKeys(clientId: string, callback = 'https://agency.example/callback') {
  const { privateKey, publicKey } = await generateKeyPair('PS256');
  const kid = `${clientId}-key-1`;
  return { clientId, redirectUri: callback, privateKey: privateKey as CryptoKey, kid, jwks: { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'PS256', use: 'sig' }] } };
}
export type AgencyKeys = Awaited<ReturnType<typeof createAgencyKeys>>;

/** Discovers the provider as the agency would (after it is registered there); `timeoutMs` bounds each request. */
export async function connectAgency(issuer: string, keys: AgencyKeys, options: { timeoutMs?: number } = {}): Promise<Agency> {
  const config = await client.discovery(new URL(issuer), keys.clientId, { id_token_signed_response_alg: 'PS256' },
    client.PrivateKeyJwt(keys.privateKey, { [client.modifyAssertion]: (h) => { h.kid = keys.kid; } }),
    { execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks] });
  if (options.timeoutMs) {
    const ms = options.timeoutMs;
    config[client.customFetch] = (url, init) => fetch(url, { ...init, signal: AbortSignal.timeout(ms) } as RequestInit);
  }
  return { ...keys, config };
}

/** The interaction's JSON form (uid, prompt, csrf, endpoints). */
export async function interactionJson(s: { browser: Browser }, interactionUrl: string) {
  const hop = await s.browser.request(interactionUrl, { headers: { accept: 'application/json' } });
  if (hop.status !== 200) throw new Error(`interaction JSON: ${hop.status} ${hop.body.slice(0, 200)}`);
  return hop.json as { uid: string; prompt: string; acr: string; claims: string[]; csrf: string; client: { name: string }; endpoints: Record<string, string> };
}

/** The cookie header the browser would send to the gateway (the stream's upgrade carries it). */
export const cookieOf = (s: { browser: Browser }) => [...s.browser.jar].map(([k, v]) => `${k}=${v}`).join('; ');

export type Code = { callback: URL; verifier: string; nonce: string; state: string; DPoP: client.DPoPHandle; at: number };

/** PAR with PKCE, a nonce and a DPoP key; a fresh browser (cookie jar) for the citizen. */
export async function authorizationRequest(agency: Agency, steps: Record<string, number>, browser: Browser = createBrowser()) {
  const { verifier, nonce, state, DPoP, challenge } = await timed(steps, 'client prep', async () => {
    const verifier = client.randomPKCECodeVerifier();
    return {
      verifier, nonce: client.randomNonce(), state: client.randomState(),
      DPoP: client.getDPoPHandle(agency.config, await client.randomDPoPKeyPair('ES256')),
      challenge: await client.calculatePKCECodeChallenge(verifier),
    };
  });
  const url = await timed(steps, 'PAR', () => client.buildAuthorizationUrlWithPAR(agency.config, {
    redirect_uri: agency.redirectUri, scope: 'openid profile national_id', state, nonce, acr_values: acrSubstantial,
    code_challenge: challenge, code_challenge_method: 'S256',
  }, { DPoP })).catch((err: Error) => {
    // openid-client's "unexpected HTTP response status code" keeps the response as its cause.
    const status = (err.cause as { status?: number } | undefined)?.status;
    throw new StepError('PAR', `${err.message}${status ? ` (${status})` : ''}`, !status || status >= 500);
  });
  const issuer = new URL(agency.config.serverMetadata().issuer).origin;
  return { browser, verifier, nonce, state, DPoP, issuer, url };
}

export function codeFrom(location: string | undefined, agency: Agency, r: Omit<Code, 'callback' | 'at'>): Code {
  if (!location || !location.startsWith(agency.redirectUri)) throw new Error(`expected a redirect to ${agency.redirectUri}, got ${location ?? 'none'}`);
  const callback = new URL(location);
  if (!callback.searchParams.get('code')) throw new Error(`no code at the redirect_uri: ${callback.search}`);
  return { callback, verifier: r.verifier, nonce: r.nonce, state: r.state, DPoP: r.DPoP, at: Date.now() };
}

/** What one streamed capture showed the client (ms, performance.now() on this process's clock). */
export type StreamStats = {
  /** Frames the server acked before checking (the ones it decides on), and refused (too fast, or after checking). */
  acked: number; refused: number;
  /** Opening the socket → ready (upgrade, start, capture opened). */
  readyMs: number;
  /** Sending the last acked frame → the verdict message. */
  lastFrameToVerdictMs: number;
  /** checking → the verdict message: the decision, with the analyses still running. */
  checkingToVerdictMs: number;
  /** The server went to checking by itself (not after our end). */
  serverDecided: boolean;
};

/** A camera that sends `frames` in order, then `end`; it records when each went and what came back. */
export function recordingCamera(frames: readonly Uint8Array[]) {
  const sentAt: number[] = [];
  const at: Partial<Record<'open' | 'ready' | 'end' | 'checking' | 'verdict', number>> = { open: performance.now() };
  let lastAcked = -1;
  let acked = 0;
  let refused = 0;
  const camera: StreamCamera = {
    next: async () => {
      const f = frames[sentAt.length];
      if (f) sentAt.push(performance.now());
      else at.end ??= performance.now(); // runStream sends end now, unless checking came first
      return f;
    },
  };
  const onMessage = (m: ServerMessage) => {
    const now = performance.now();
    if (m.type === 'ready') at.ready = now;
    else if (m.type === 'ack' && at.checking === undefined) { acked++; lastAcked = Math.max(lastAcked, m.seq); }
    else if (m.type === 'refused') refused++;
    else if (m.type === 'checking') at.checking = now;
    else if (m.type === 'verdict') at.verdict = now;
  };
  const stats = (): StreamStats => ({
    acked, refused, readyMs: (at.ready ?? NaN) - at.open!,
    lastFrameToVerdictMs: (at.verdict ?? NaN) - (sentAt[lastAcked] ?? NaN),
    checkingToVerdictMs: (at.verdict ?? NaN) - (at.checking ?? NaN),
    serverDecided: at.checking !== undefined && (at.end === undefined || at.checking < at.end),
  });
  return { camera, onMessage, stats };
}

export type SignInOptions = {
  /** The camera's pace: one frame every this many ms (default 150; the server allows one per 100 ms on average). */
  frameIntervalMs?: number;
  /** Headers the citizen's user agent adds to every request and to the stream's upgrade (e.g. X-Forwarded-For from a CDN hop). */
  headers?: Record<string, string>;
  /** Bounds each HTTP request of the citizen's user agent. */
  timeoutMs?: number;
  /** Why a capture was not verified (from the audit trail), for the error message. */
  explain?: (captureId: string) => Promise<string>;
  /** Frame sets for streams after the first, when a stream ends without a verdict (its instance died): new bytes each. */
  retryFrames?: () => Promise<readonly Uint8Array[]>;
  /** Streams one capture may open when a stream ends without a verdict or error (default 1: no retry). */
  streamAttempts?: number;
};

export type FacegateCode = Code & { stream: StreamStats; streams: number };

/** An error of one step of a sign-in: which step, and whether the client may simply try again. */
export class StepError extends Error {
  constructor(readonly step: string, message: string, readonly retryable: boolean) {
    super(`${step}: ${message}`);
  }
}

/** A Facegate sign-in up to the code at the redirect_uri; every step timed into `steps`. */
export async function facegateCode(agency: Agency, nationalId: string, frames: readonly Uint8Array[], steps: Record<string, number>, options: SignInOptions = {}): Promise<FacegateCode> {
  const browser = createBrowser({ headers: options.headers, timeoutMs: options.timeoutMs });
  const r = await authorizationRequest(agency, steps, browser);
  const landed = await timed(steps, 'authorize', () => r.browser.follow(r.url.href, r.issuer));
  if (landed.status !== 200) throw new StepError('authorize', `expected the interaction page, got ${landed.status} ${landed.location ?? ''}`, landed.status >= 500);
  const it = await timed(steps, 'interaction JSON', () => interactionJson(r, landed.url));
  if (it.prompt !== 'login') throw new Error(`expected the login prompt, got ${it.prompt}`);
  const start = await timed(steps, 'capture start', () => r.browser.request(`${r.issuer}${it.endpoints.capture}`, {
    method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': it.csrf },
    body: JSON.stringify({ nationalId }),
  }));
  if (start.status !== 201) throw new StepError('capture start', `${start.status} ${start.body.slice(0, 200)}`, start.status >= 500 || start.status === 409);
  const { captureId, stream, steps: actions } = start.json as { captureId: string; stream: string; steps: number };
  if (actions !== 0) throw new Error(`capture start: ${actions} actions, expected none (capture.substantial.actions 0)`);
  let set = frames;
  let streams = 0;
  const attempts = Math.max(1, options.streamAttempts ?? 1);
  for (;;) {
    streams++;
    const cam = recordingCamera(set);
    const run = await timed(steps, 'stream', () => runStream({
      url: `${r.issuer.replace(/^http/, 'ws')}${stream}`, origin: r.issuer, cookie: cookieOf(r), csrf: it.csrf,
      camera: cam.camera, intervalMs: options.frameIntervalMs ?? 150, onMessage: cam.onMessage, headers: options.headers,
    }).catch((err: Error & { status?: number }) => {
      throw new StepError('stream', `upgrade failed: ${err.message}`, !err.status || err.status >= 500);
    }));
    const verdict = run.verdict;
    if (verdict?.status === 'verified' && verdict.redirectTo) {
      const back = await timed(steps, 'consent + redirects', async () => {
        const atConsent = await r.browser.follow(verdict.redirectTo!, r.issuer);
        const ci = await interactionJson(r, atConsent.url);
        if (ci.prompt !== 'consent') throw new Error(`expected the consent prompt, got ${ci.prompt}`);
        const decided = await r.browser.request(`${r.issuer}${ci.endpoints.consent}`, {
          method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': ci.csrf },
          body: JSON.stringify({ decision: 'allow' }),
        });
        if (decided.status !== 200) throw new StepError('consent', `${decided.status} ${decided.body.slice(0, 200)}`, decided.status >= 500);
        return r.browser.follow((decided.json as { redirectTo: string }).redirectTo, r.issuer);
      });
      // An outage on the way back (the resumed authorization answered 503) is retryable, not a wrong answer.
      if (back.status >= 500) throw new StepError('consent + redirects', `${back.status} at ${new URL(back.url).pathname.split('/')[1]}`, true);
      return { ...codeFrom(back.location, agency, r), stream: cam.stats(), streams };
    }
    // A close without a verdict or an error is a network failure (docs/capture-api.md): the
    // instance died or the connection dropped. A new stream on the same capture, new frames.
    const dropped = !verdict && !run.error;
    if (dropped && streams < attempts && options.retryFrames) {
      set = await options.retryFrames();
      continue;
    }
    const what = run.error ? `error ${run.error.code}` : verdict
      ? `${verdict.status} ${verdict.feedback.map((f) => f.code).join(',')}${options.explain ? ` (${await options.explain(captureId)})` : ''}`
      : `closed ${run.closed.code} ${run.closed.reason}`;
    throw new StepError('stream', `not verified: ${what}`, dropped || run.error?.code === 'internal_error' || run.error?.code === 'service_unavailable' || run.error?.code === 'capture_busy');
  }
}

/** The token request with the checks every sign-in must pass; returns the tokens. */
export async function exchange(agency: Agency, code: Code) {
  const tokens = await client.authorizationCodeGrant(agency.config, code.callback, {
    pkceCodeVerifier: code.verifier, expectedNonce: code.nonce, expectedState: code.state, idTokenExpected: true,
  }, undefined, { DPoP: code.DPoP });
  if (tokens.token_type.toLowerCase() !== 'dpop') throw new Error(`token_type ${tokens.token_type}, expected DPoP`);
  const claims = tokens.claims();
  if (!claims) throw new Error('no ID token');
  if (claims.acr !== acrSubstantial) throw new Error(`ID token acr ${String(claims.acr)}`);
  if (!Array.isArray(claims.amr) || !claims.amr.includes('face')) throw new Error(`ID token amr ${JSON.stringify(claims.amr)}`);
  return { tokens, claims };
}

/** One whole Facegate sign-in, through userinfo; returns the per-step times and the stream's. */
export async function signIn(agency: Agency, nationalId: string, frames: readonly Uint8Array[], options: SignInOptions = {}) {
  const steps: Record<string, number> = {};
  const t0 = performance.now();
  const code = await facegateCode(agency, nationalId, frames, steps, options);
  const { tokens, claims } = await timed(steps, 'token', () => exchange(agency, code)).catch((err: Error) => {
    // A lost answer cannot be retried: the code is spent (a second use revokes what it issued).
    throw new StepError('token', err.message, true);
  });
  const info = await timed(steps, 'userinfo', () => client.fetchUserInfo(agency.config, tokens.access_token, claims.sub, { DPoP: code.DPoP }))
    .catch((err: Error) => { throw new StepError('userinfo', err.message, true); });
  if (info.national_id !== nationalId) throw new Error(`userinfo national_id ${String(info.national_id)}`);
  return { totalMs: performance.now() - t0, steps, stream: code.stream, streams: code.streams, sub: claims.sub, sid: String(claims.sid ?? '') };
}

// An independent agency for end-to-end tests: its own key pair, openid-client 6 as the relying
// party (PAR, PKCE S256, DPoP, private_key_jwt), and the browser-side walk through the interaction.
import type { ChallengeAction } from '../../src/capture/flow.ts';
import { exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import * as client from 'openid-client';
import { createBrowser, type Hop } from './browser.ts';

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
export async function startSignIn(agency: Agency, options: { acr?: string; scope?: string; browser?: ReturnType<typeof createBrowser> } = {}) {
  const browser = options.browser ?? createBrowser();
  const verifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const state = client.randomState();
  const DPoP = client.getDPoPHandle(agency.config, await client.randomDPoPKeyPair('ES256'));
  const url = await client.buildAuthorizationUrlWithPAR(agency.config, {
    redirect_uri: agency.redirectUri, scope: options.scope ?? 'openid profile national_id', state, nonce,
    acr_values: options.acr ?? acrSubstantial,
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
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

/** Posts frames as multipart, as the page does. */
export function framesBody(frames: Uint8Array[], type = 'image/jpeg', timestamps?: number[]): FormData {
  const form = new FormData();
  frames.forEach((f, i) => form.append('frame', new Blob([new Uint8Array(f)], { type }), `frame-${i}.jpg`));
  if (timestamps) form.append('timestamps', JSON.stringify(timestamps));
  return form;
}

/**
 * Starts a capture and submits frames; returns both answers. `frames` may be a function of the
 * actions the server asked for (e.g. `liveFrames` from helpers/live.ts: a live citizen performs them).
 */
export async function verifyFace(s: SignIn, nationalId: string, frames: Uint8Array[] | ((actions: ChallengeAction[]) => Promise<Uint8Array[]>)) {
  const it = await interactionJson(s, s.landed.url);
  const origin = s.issuer;
  const start = await s.browser.request(`${origin}${it.endpoints.capture}`, {
    method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': it.csrf },
    body: JSON.stringify({ nationalId }),
  });
  const { captureId, actions = [] } = start.json as { captureId: string; actions?: ChallengeAction[] };
  const body = framesBody(typeof frames === 'function' ? await frames(actions) : frames);
  const submit = await s.browser.request(`${origin}${it.endpoints.capture}/${captureId}/frames`, {
    method: 'POST', headers: { accept: 'application/json', 'x-csrf-token': it.csrf }, body,
  });
  return { it, start, submit, captureId, actions };
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

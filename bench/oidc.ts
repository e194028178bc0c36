// `npm run bench:oidc`: the gateway as an OpenID Provider, over real HTTP, in one run.
//
// What is measured (a real gateway from test/helpers/gateway.ts: HTTP on a free port, its own
// temporary SQLite file, or a PostgreSQL schema when FACEGATE_TEST_DATABASE_URL is set, and a
// 2-thread face worker pool; openid-client 6 as the agency, in this same process):
//  1. Complete sign-ins per second. One citizen enrolled with faces/obama/obama_1.jpg; ONE probe,
//     faces/obama/obama_2.jpg made with sharp into a 640x480 JPEG q85 selfie (see makeProbe: a
//     plain fit 'cover' of that 626x1200 portrait fails passive liveness). Each sign-in:
//     PAR (PKCE S256, DPoP, private_key_jwt) → authorize (the browser follows to the interaction
//     page) → GET the interaction JSON → POST capture → POST frames (the one JPEG) → follow to
//     consent, allow, follow back to the redirect_uri → token (authorizationCodeGrant, DPoP,
//     private_key_jwt, ID token signature checked) → userinfo (DPoP). A sign-in counts only when
//     it ends verified with a valid ID token (acr substantial, amr face) and a userinfo of the same
//     sub; anything else is a failure, reported with its message (and the exit code is 1).
//     After a warm-up, --n sign-ins (default 60) at --concurrency C (default 4): sign-ins/s,
//     mean/p50/p95 of a whole sign-in, and p50/p95/mean per step.
//     Also the process's CPU use over the run (cores busy: gateway, face workers and client all
//     share the 2 cores), CPU-ms per sign-in (steadier than sign-ins/s when other jobs share the
//     machine), how busy the main thread's event loop was, and the server-side time per endpoint.
//  2. The frames endpoint: its HTTP latency from the sign-ins above (at C > 1 that holds the wait
//     for one of the 2 workers); then --sequential (default 20) sign-ins one at a time interleaved
//     with the face engine alone (--engine-runs 30 sequential
//     `gateway.analyzer.analyze(probe, { grade: 'capture' })` calls on the idle pool: the worker
//     round trip and the engine's own timings.total), so both see the same machine noise.
//     frames p50 (one at a time) − engine p50 (and the median of the paired differences) is the
//     HTTP/multipart/session/database/audit part of the endpoint. Two ceilings put the sign-in
//     rate in context: engine-bound (2 workers / engine p50: only face analysis costs anything)
//     and CPU-bound (cores / CPU-ms per sign-in: what 2 idle cores would allow).
//  3. The token endpoint alone, Facegate against a bare oidc-provider 9 in the same process: its
//     default in-memory adapter, a static account, no koa app around it, but the same client profile
//     (the same buildAgencyMetadata output: private_key_jwt, PAR required, DPoP-bound tokens, PKCE,
//     PS256 ID tokens with a 3072-bit key like the gateway's; the same scopes/claims/acr policy
//     config). Its interaction is completed programmatically: a koa middleware on
//     /interaction/:uid answers the login prompt (interactionResult with the account, acr, amr)
//     and the consent prompt (a Grant with the missing scope/claims) and redirects back, so the
//     browser's redirects end at the redirect_uri with a code. Codes are prepared beforehand (for
//     Facegate with full sign-ins through consent; for the bare provider PAR + that auto
//     interaction), in batches that stop growing after 40 s because codes live 60 s; then ONLY
//     the token requests are timed (authorizationCodeGrant with DPoP + private_key_jwt, the same
//     client-side work and checks), at the same concurrency; batches alternate which provider
//     goes first. Reported: requests/s and p50/p95 for each, the server-side time of POST /token
//     for each (diagnostics_channel, as in 1.), and the ratios facegate/bare: latency (p50
//     facegate / p50 bare: > 1 means that much slower per request), throughput (req/s facegate /
//     req/s bare: < 1 means that share of the bare rate) and server-side p50 (the same without the
//     client's identical share of each request, so it is further from 1). The difference is
//     what the gateway adds around oidc-provider: the knex adapter (SQLite/PostgreSQL reads and
//     writes of the code, grant, client, replay jti and access token), findAccount from the
//     registry, and the koa app (request log, metrics, helmet, error handler).
//
// How to read it: this is a shared 2-core machine and the client (RSA/EC signing, ID token
// checks) runs in the same process as both providers, so absolute numbers are noisy and
// machine-specific (other jobs on the machine halve sign-ins/s; the load average is printed at
// the start and the end, and "cores busy" shows what this process got); compare the ratios
// measured within one run, and CPU-ms per sign-in, not sign-ins/s across runs.
// Flags: --n 60 --concurrency 4 --warmup 5 --codes 100 (token requests per provider)
// --batch 25 (codes per batch) --engine-runs 30 --sequential 20 --json (stdout: only the JSON line).
// PostgreSQL: FACEGATE_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run bench:oidc
// (a schema of its own, dropped at the end); the database used is printed at the top.
// Default output: the table on stdout, then one JSON line. Library notices go to stderr.
import { createHmac, randomBytes } from 'node:crypto';
import { subscribe } from 'node:diagnostics_channel';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { type Configuration } from 'oidc-provider';
import * as client from 'openid-client';
import sharp from 'sharp';
import { acrSubstantial, createInteractionPolicy } from '../src/oidc/acr.ts';
import { buildAgencyMetadata } from '../src/oidc/clients.ts';
import { signingAlgs } from '../src/oidc/keys.ts';
import { agencyProfile } from '../src/oidc/provider.ts';
import { connectAgency, createAgencyKeys, framesBody, interactionJson, type Agency } from '../test/helpers/agency.ts';
import { createBrowser } from '../test/helpers/browser.ts';
import { freshBytes } from '../test/helpers/derive.ts';
import { startTestGateway, type TestGateway } from '../test/helpers/gateway.ts';

const { values: args } = parseArgs({
  options: {
    n: { type: 'string', default: '60' },
    concurrency: { type: 'string', default: '4' },
    warmup: { type: 'string', default: '5' },
    codes: { type: 'string', default: '100' },
    batch: { type: 'string', default: '25' },
    'engine-runs': { type: 'string', default: '30' },
    sequential: { type: 'string', default: '20' },
    json: { type: 'boolean', default: false },
  },
});
const positive = (name: string, v: string | undefined) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${v}`);
  return n;
};
const N = positive('n', args.n);
const C = positive('concurrency', args.concurrency);
const WARMUP = Number(args.warmup) >= 0 ? Math.floor(Number(args.warmup)) : 5;
const CODES = positive('codes', args.codes);
const BATCH = positive('batch', args.batch);
const ENGINE_RUNS = positive('engine-runs', args['engine-runs']);
const SEQUENTIAL = Number(args.sequential) >= 0 ? Math.floor(Number(args.sequential)) : 20;
const jsonOnly = args.json;
const BATCH_WINDOW_MS = 40_000; // codes live 60 s: a batch stops growing after this

// oidc-provider prints its notices with console.info (stdout): keep stdout for the report.
console.info = (...a: unknown[]) => console.error(...a);
console.log = (...a: unknown[]) => console.error(...a);
const out = (line = '') => { if (!jsonOnly) process.stdout.write(`${line}\n`); };
const progress = (line: string) => { if (!jsonOnly) process.stderr.write(`  … ${line}\n`); };

const dataDir = resolve(process.env.FACEGATE_TEST_DATA ?? join(process.cwd(), '..', 'shared', 'data'));
const face = (identity: string, file: string) => readFileSync(join(dataDir, 'faces', identity, file));

// ---------------------------------------------------------------- statistics
const quantile = (values: number[], q: number) => {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const mean = (values: number[]) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN);
const round = (v: number, d = 1) => (Number.isFinite(v) ? Math.round(v * 10 ** d) / 10 ** d : null);
const summary = (values: number[]) => ({ mean: round(mean(values)), p50: round(quantile(values, 0.5)), p95: round(quantile(values, 0.95)) });
const fmt = (v: number | null, w = 8, d = 1) => (v === null ? 'n/a' : v.toFixed(d)).padStart(w);

/** Runs `count` tasks with at most `concurrency` in flight; stops starting new ones once `until()` says so. */
async function runPool<T>(count: number, concurrency: number, task: (i: number) => Promise<T>, until: () => boolean = () => false) {
  const results: ({ ok: true; value: T } | { ok: false; error: Error })[] = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count && !until()) {
      const i = next++;
      try {
        results[i] = { ok: true, value: await task(i) };
      } catch (err) {
        results[i] = { ok: false, error: err instanceof Error ? err : new Error(String(err)) };
      }
    }
  }));
  return { results: results.filter(Boolean), wallMs: performance.now() - start };
}

const timed = async <T>(steps: Record<string, number>, name: string, fn: () => Promise<T>): Promise<T> => {
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    steps[name] = (steps[name] ?? 0) + performance.now() - t0;
  }
};

// ---------------------------------------------------------------- server-side time per endpoint
// Both providers run in this process: node:diagnostics_channel sees every request each HTTP
// server handles, from its arrival to the end of its response. Under concurrency this also holds
// the waits for the one event loop that the gateway, the bare provider and the client share.
const serverSide = { label: '', ports: new Map<number, string>(), times: new Map<string, number[]>() };
const arrivals = new WeakMap<IncomingMessage, { at: number; key: string }>();

function endpointOf(req: IncomingMessage, who: string): string {
  const path = (req.url ?? '').split('?')[0];
  if (path === '/request') return 'PAR';
  if (path === '/auth') return 'authorize';
  if (path.startsWith('/auth/')) return 'authorize (resume)';
  if (path === '/token') return 'token';
  if (path === '/me') return 'userinfo';
  const rest = /^\/interaction\/[^/]+(\/.*)?$/.exec(path);
  if (!rest) return path;
  if (who === 'bare') return 'interaction (auto)';
  if (!rest[1]) return (req.headers.accept ?? '').includes('json') ? 'interaction JSON' : 'interaction page';
  if (rest[1] === '/capture') return 'capture start';
  if (/^\/capture\/[^/]+\/frames$/.test(rest[1])) return 'frames';
  return rest[1].slice(1);
}

subscribe('http.server.request.start', (message) => {
  const { request, server } = message as { request: IncomingMessage; server: Server };
  const who = serverSide.ports.get((server.address() as AddressInfo | null)?.port ?? 0);
  if (!serverSide.label || !who) return;
  arrivals.set(request, { at: performance.now(), key: `${serverSide.label}|${who}|${request.method} ${endpointOf(request, who)}` });
});
subscribe('http.server.response.finish', (message) => {
  const arrival = arrivals.get((message as { request: IncomingMessage }).request);
  if (!arrival) return;
  const list = serverSide.times.get(arrival.key) ?? [];
  list.push(performance.now() - arrival.at);
  serverSide.times.set(arrival.key, list);
});

/** Server-side times recorded under `label` for `who`, by endpoint. */
function serverTimes(label: string, who: string) {
  return [...serverSide.times].filter(([k]) => k.startsWith(`${label}|${who}|`)).map(([k, v]) => ({ endpoint: k.split('|')[2], count: v.length, ...summary(v), totalMs: v.reduce((a, b) => a + b, 0) }));
}

// ---------------------------------------------------------------- the agency side
type Code = { callback: URL; verifier: string; nonce: string; state: string; DPoP: client.DPoPHandle; at: number };

async function authorizationRequest(agency: Agency, steps: Record<string, number>) {
  const browser = createBrowser();
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
  }, { DPoP }));
  const issuer = new URL(agency.config.serverMetadata().issuer).origin;
  return { browser, verifier, nonce, state, DPoP, issuer, url };
}

function codeFrom(location: string | undefined, agency: Agency, r: Omit<Code, 'callback' | 'at'>): Code {
  if (!location || !location.startsWith(agency.redirectUri)) throw new Error(`expected a redirect to ${agency.redirectUri}, got ${location ?? 'none'}`);
  const callback = new URL(location);
  if (!callback.searchParams.get('code')) throw new Error(`no code at the redirect_uri: ${callback.search}`);
  return { callback, verifier: r.verifier, nonce: r.nonce, state: r.state, DPoP: r.DPoP, at: Date.now() };
}

/** A Facegate sign-in up to the code at the redirect_uri; every step timed into `steps`. */
async function facegateCode(agency: Agency, nationalId: string, probe: Buffer, steps: Record<string, number>): Promise<Code> {
  const r = await authorizationRequest(agency, steps);
  const landed = await timed(steps, 'authorize', () => r.browser.follow(r.url.href, r.issuer));
  if (landed.status !== 200) throw new Error(`authorize: expected the interaction page, got ${landed.status} ${landed.location ?? ''}`);
  const it = await timed(steps, 'interaction JSON', () => interactionJson(r, landed.url));
  if (it.prompt !== 'login') throw new Error(`expected the login prompt, got ${it.prompt}`);
  const start = await timed(steps, 'capture start', () => r.browser.request(`${r.issuer}${it.endpoints.capture}`, {
    method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': it.csrf },
    body: JSON.stringify({ nationalId }),
  }));
  if (start.status !== 201) throw new Error(`capture start: ${start.status} ${start.body.slice(0, 200)}`);
  const { captureId } = start.json as { captureId: string };
  const submit = await timed(steps, 'frames', () => r.browser.request(`${r.issuer}${it.endpoints.capture}/${captureId}/frames`, {
    method: 'POST', headers: { accept: 'application/json', 'x-csrf-token': it.csrf }, body: framesBody([freshBytes(probe)]),
  }));
  const result = submit.json as { status?: string; redirectTo?: string; feedback?: { code: string }[] } | undefined;
  if (result?.status !== 'verified' || !result.redirectTo) {
    throw new Error(`frames: not verified (${submit.status} ${result?.status ?? submit.body.slice(0, 200)} ${JSON.stringify(result?.feedback ?? [])})`);
  }
  const back = await timed(steps, 'consent + redirects', async () => {
    const atConsent = await r.browser.follow(result.redirectTo!, r.issuer);
    const ci = await interactionJson(r, atConsent.url);
    if (ci.prompt !== 'consent') throw new Error(`expected the consent prompt, got ${ci.prompt}`);
    const decided = await r.browser.request(`${r.issuer}${ci.endpoints.consent}`, {
      method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': ci.csrf },
      body: JSON.stringify({ decision: 'allow' }),
    });
    return r.browser.follow((decided.json as { redirectTo: string }).redirectTo, r.issuer);
  });
  return codeFrom(back.location, agency, r);
}

/** The bare provider: PAR, then the browser follows through the auto-completing interactions. */
async function bareCode(agency: Agency, steps: Record<string, number>): Promise<Code> {
  const r = await authorizationRequest(agency, steps);
  const back = await timed(steps, 'authorize + auto interaction', () => r.browser.follow(r.url.href, r.issuer));
  return codeFrom(back.location, agency, r);
}

/** The token request with the checks every sign-in must pass; returns the tokens. */
async function exchange(agency: Agency, code: Code) {
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

/** One whole Facegate sign-in, through userinfo; returns the per-step times. */
async function signIn(agency: Agency, nationalId: string, probe: Buffer) {
  const steps: Record<string, number> = {};
  const t0 = performance.now();
  const code = await facegateCode(agency, nationalId, probe, steps);
  const { tokens, claims } = await timed(steps, 'token', () => exchange(agency, code));
  const info = await timed(steps, 'userinfo', () => client.fetchUserInfo(agency.config, tokens.access_token, claims.sub, { DPoP: code.DPoP }));
  if (info.national_id !== nationalId) throw new Error(`userinfo national_id ${String(info.national_id)}`);
  return { totalMs: performance.now() - t0, steps };
}

// ---------------------------------------------------------------- the bare oidc-provider
async function startBareProvider(keys: Awaited<ReturnType<typeof createAgencyKeys>>) {
  const server: Server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const signing = await Promise.all(signingAlgs.map(async (alg) => {
    const { privateKey } = await generateKeyPair(alg, { extractable: true, modulusLength: 3072 });
    return { ...(await exportJWK(privateKey)), kid: `bare-${alg}`, alg, use: 'sig' };
  }));
  const { facegate_sector: _sector, ...metadata } = buildAgencyMetadata({
    clientId: keys.clientId, name: 'Bare agency', redirectUris: [keys.redirectUri], jwks: keys.jwks, scopes: ['openid', 'profile', 'national_id'],
  });
  const salt = randomBytes(32).toString('base64url');
  const configuration: Configuration = {
    clients: [metadata as Configuration['clients'] extends (infer T)[] | undefined ? T : never],
    jwks: { keys: signing } as Configuration['jwks'],
    findAccount: async (_ctx, id) => ({
      accountId: id,
      claims: async () => ({ sub: id, given_name: 'Test', family_name: 'Citizen bare', birthdate: '1961-08-04', national_id: 'BARE0001' }),
    }),
    cookies: { keys: [randomBytes(32).toString('base64url')], long: { httpOnly: true, sameSite: 'lax' }, short: { httpOnly: true, sameSite: 'lax' } },
    ...agencyProfile(randomBytes(32)),
    pairwiseIdentifier: async (_ctx, accountId, c) => createHmac('sha256', salt).update(`${c.sectorIdentifier}\n${accountId}`).digest('base64url'),
    ttl: { AuthorizationCode: 60, AccessToken: 600, IdToken: 600, Interaction: 600, Session: 1800, Grant: 1800 },
    interactions: { policy: createInteractionPolicy(acrSubstantial), url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  };
  const provider = new Provider(issuer, configuration);
  // The interaction, completed by the server itself: login as the one account, then consent.
  provider.use(async (ctx, next) => {
    if (!/^\/interaction\/[^/]+$/.test(ctx.path)) return next();
    const d = await provider.interactionDetails(ctx.req, ctx.res);
    let result: Parameters<Provider['interactionResult']>[2];
    if (d.prompt.name === 'login') {
      result = { login: { accountId: 'citizen-bare', acr: acrSubstantial, amr: ['face', 'user'], remember: false } };
    } else {
      const grant = d.grantId ? await provider.Grant.find(d.grantId) : new provider.Grant({ accountId: d.session!.accountId, clientId: String(d.params.client_id) });
      const missing = d.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
      if (missing.missingOIDCScope) grant!.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant!.addOIDCClaims(missing.missingOIDCClaims);
      result = { consent: { grantId: await grant!.save() } };
    }
    const to = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: d.prompt.name !== 'login' });
    ctx.status = 303;
    ctx.redirect(to);
  });
  server.on('request', provider.callback());
  return {
    issuer,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

// ---------------------------------------------------------------- main
/**
 * The one probe, 640x480 JPEG q85, framed like a selfie at arm's length: the photo scaled so the
 * face box is 58% of the frame height, the 640x480 window centred on the face, the sides that the
 * narrow portrait does not cover filled by repeating its edge pixels (sharp extend 'copy').
 * Not a plain `fit: 'cover'`: obama_2.jpg is a 626x1200 portrait, so covering 640 wide scales it
 * up and the face fills ~85% of the frame height; then the passive liveness crop (box x2.7,
 * clipped to the frame) has almost no context and scores ~0.36 < 0.5, and every sign-in is
 * rejected as not_verified (a centre crop also cuts the face off: face_cut_off). Checked before the run.
 */
async function makeProbe(gw: TestGateway, photo: Buffer) {
  const found = await gw.gateway.analyzer.analyze(photo, { grade: 'capture', embed: false, liveness: false });
  if (!found.face) throw new Error('no face in the source photo of the probe');
  const { width, height } = found.image;
  const { x1, y1, x2, y2 } = found.face.box;
  const scale = Math.min(1, (0.58 * 480) / (y2 - y1));
  const [w, h] = [Math.round(width * scale), Math.round(height * scale)];
  const clamp = (v: number, max: number) => Math.round(Math.max(0, Math.min(max, v)));
  const left = clamp(((x1 + x2) / 2) * scale - 320, Math.max(0, w - 640));
  const top = clamp(((y1 + y2) / 2) * scale - 240, Math.max(0, h - 480));
  const [cw, ch] = [Math.min(640, w), Math.min(480, h)];
  const window = await sharp(photo).rotate().removeAlpha().resize(w, h, { fit: 'fill' }).extract({ left, top, width: cw, height: ch }).toBuffer();
  const [padX, padY] = [640 - cw, 480 - ch];
  const probe = await sharp(window)
    .extend({ left: Math.floor(padX / 2), right: Math.ceil(padX / 2), top: Math.floor(padY / 2), bottom: Math.ceil(padY / 2), extendWith: 'copy' })
    .jpeg({ quality: 85 }).toBuffer();
  const check = await gw.gateway.analyzer.analyze(probe, { grade: 'capture' });
  const threshold = gw.config.biometrics.liveness.threshold;
  if (!check.quality.ok) throw new Error(`the probe fails the capture quality checks: ${check.quality.codes.join(', ')}`);
  if ((check.face?.liveness ?? 0) < threshold) throw new Error(`the probe fails passive liveness: ${check.face?.liveness} < ${threshold}`);
  return { probe, liveness: check.face!.liveness!, faceHeight: Math.round(check.face!.box.y2 - check.face!.box.y1), scale };
}

function describeDatabase(gw: TestGateway): string {
  const { url, schema } = gw.database.database as { url: string; schema?: string };
  if (url.startsWith('sqlite:')) return `SQLite file ${url.slice('sqlite:'.length)}`;
  const u = new URL(url);
  u.password = '';
  return `PostgreSQL ${u.href} schema ${schema ?? 'public'}`;
}

async function main() {
  if (!existsSync(join(dataDir, 'faces'))) throw new Error(`no shared face photos at ${dataDir} (set FACEGATE_TEST_DATA)`);
  const began = performance.now();
  const errors: { phase: string; message: string }[] = [];
  const note = (phase: string, results: { ok: boolean; error?: Error }[]) => {
    for (const r of results) if (!r.ok) errors.push({ phase, message: r.error!.message });
  };

  // One client address runs every sign-in: lift the per-IP limits, which would otherwise (rightly) stop a load test.
  const gw = await startTestGateway({ risk: { ip: { startsPerMinute: 1_000_000, failuresPerHour: 1_000_000 } } });
  cleanups.push(() => gw.close());
  const { probe, liveness: probeLiveness, faceHeight, scale: probeScale } = await makeProbe(gw, face('obama', 'obama_2.jpg'));
  // Several citizens with the same registry photo, taken in turn: a real load is many citizens, and
  // one ID may have at most risk.lockout.maxFailures attempts in flight (then capture_busy).
  const citizens = Array.from({ length: 2 * C + 2 }, (_, i) => `OB1961080${i}`.slice(0, 10) + String.fromCharCode(65 + i));
  for (const id of citizens) await gw.enroll(id, face('obama', 'obama_1.jpg'));
  let turn = 0;
  const next = () => citizens[turn++ % citizens.length];
  const fgKeys = await createAgencyKeys('pension-office');
  await gw.registerAgency({ clientId: fgKeys.clientId, jwks: fgKeys.jwks, scopes: ['openid', 'profile', 'national_id'] });
  const fg = await connectAgency(gw.issuer, fgKeys);
  const bareKeys = await createAgencyKeys('bare-office');
  const bare = await startBareProvider(bareKeys);
  cleanups.unshift(() => bare.close());
  serverSide.ports.set(Number(new URL(gw.issuer).port), 'facegate');
  serverSide.ports.set(Number(new URL(bare.issuer).port), 'bare');
  const bareAgency = await connectAgency(bare.issuer, bareKeys);

  const cpu = cpus();
  const machine = { cpu: cpu[0]?.model ?? 'unknown', cores: cpu.length, availableParallelism: availableParallelism(), node: process.version, platform: `${process.platform} ${process.arch}`, loadavg: loadavg().map((v) => round(v, 2)) };
  const database = describeDatabase(gw);
  out('Facegate OIDC benchmark (one run; compare the ratios within it)');
  out(`machine   ${machine.cpu}, ${machine.cores} cores (os.cpus), ${machine.platform}, load average ${machine.loadavg.join(' ')}`);
  out(`node      ${machine.node}`);
  out(`database  ${database}`);
  out(`gateway   ${gw.issuer}, face pool 2 worker threads; bare oidc-provider ${bare.issuer} (in-memory adapter)`);
  out(`probe     faces/obama/obama_2.jpg ×${probeScale.toFixed(2)} → 640x480 around the face (face ${faceHeight} px tall), JPEG q85, ${(probe.length / 1024).toFixed(1)} KiB, liveness ${probeLiveness.toFixed(2)}; enrolled faces/obama/obama_1.jpg`);
  out(`settings  --n ${N} --concurrency ${C} --warmup ${WARMUP} --codes ${CODES} --batch ${BATCH} --engine-runs ${ENGINE_RUNS} --sequential ${SEQUENTIAL}`);
  out();

  // 1. complete sign-ins
  progress(`warm-up: ${WARMUP} sign-ins`);
  note('warm-up sign-in', (await runPool(WARMUP, C, () => signIn(fg, next(), probe))).results);
  progress(`${N} sign-ins at concurrency ${C}`);
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  serverSide.label = 'signins';
  const run = await runPool(N, C, () => signIn(fg, next(), probe));
  serverSide.label = '';
  const cpuUsed = process.cpuUsage(cpu0);
  const busyCores = (cpuUsed.user + cpuUsed.system) / 1000 / run.wallMs;
  const mainThread = performance.eventLoopUtilization(elu0).utilization;
  note('sign-in', run.results);
  const ok = run.results.flatMap((r) => (r.ok ? [r.value] : []));
  const stepNames = ['client prep', 'PAR', 'authorize', 'interaction JSON', 'capture start', 'frames', 'consent + redirects', 'token', 'userinfo'];
  const steps = Object.fromEntries(stepNames.map((s) => [s, summary(ok.map((v) => v.steps[s] ?? 0))]));
  const whole = summary(ok.map((v) => v.totalMs));
  const signInsPerSec = ok.length / (run.wallMs / 1000);
  const cpuMsPerSignIn = (cpuUsed.user + cpuUsed.system) / 1000 / Math.max(1, ok.length);
  const cpuLine = `   CPU: ${busyCores.toFixed(2)} of ${cpu.length} cores busy (gateway + face workers + client, this process), ${cpuMsPerSignIn.toFixed(0)} CPU-ms per sign-in; main thread ${(100 * mainThread).toFixed(0)}% busy`;

  out(`1. Complete sign-ins (PAR → authorize → interaction → capture → frames → consent → token → userinfo)`);
  out(`   ${ok.length}/${N} verified with a valid ID token, ${N - ok.length} failed; ${(run.wallMs / 1000).toFixed(1)} s wall at concurrency ${C}`);
  out(`   → ${signInsPerSec.toFixed(2)} sign-ins/s; whole sign-in mean ${fmt(whole.mean, 0)} ms, p50 ${fmt(whole.p50, 0)} ms, p95 ${fmt(whole.p95, 0)} ms`);
  out(cpuLine);
  out(`   ${'step'.padEnd(22)}${'p50 ms'.padStart(8)}${'p95 ms'.padStart(8)}${'mean ms'.padStart(9)}${'% of mean'.padStart(11)}`);
  for (const s of stepNames) {
    const v = steps[s];
    out(`   ${s.padEnd(22)}${fmt(v.p50)}${fmt(v.p95)}${fmt(v.mean, 9)}${fmt(whole.mean ? (100 * (v.mean ?? 0)) / whole.mean : null, 10)}%`);
  }
  const perEndpoint = serverTimes('signins', 'facegate').sort((a, b) => b.totalMs - a.totalMs);
  const serverPerSignIn = perEndpoint.reduce((a, e) => a + e.totalMs, 0) / Math.max(1, ok.length);
  out(`   server side, per endpoint (arrival → end of response; includes waits for the shared event loop):`);
  out(`   ${'endpoint'.padEnd(28)}${'per sign-in'.padStart(12)}${'p50 ms'.padStart(8)}${'p95 ms'.padStart(8)}${'ms/sign-in'.padStart(12)}`);
  for (const e of perEndpoint) {
    out(`   ${e.endpoint.padEnd(28)}${(e.count / Math.max(1, ok.length)).toFixed(1).padStart(12)}${fmt(e.p50)}${fmt(e.p95)}${fmt(e.totalMs / Math.max(1, ok.length), 12)}`);
  }
  out(`   server side in all: ${serverPerSignIn.toFixed(0)} of the ${whole.mean?.toFixed(0) ?? 'n/a'} ms of a sign-in; the rest is the client (openid-client: signing, DPoP proofs, ID token checks; fetch) and waiting`);
  out();

  // 2. the frames endpoint against the engine alone
  // The engine alone on the idle pool, interleaved with sign-ins one at a time (their frames POST
  // never waits for a worker), so both see the same machine noise.
  progress(`engine alone (${ENGINE_RUNS} analyses) interleaved with ${SEQUENTIAL} sign-ins one at a time`);
  const engineRoundTrip: number[] = [];
  const engineOwn: number[] = [];
  const seqFrames: number[] = [];
  const paired: number[] = [];
  const seqResults: { ok: boolean; error?: Error }[] = [];
  for (let i = 0; i < Math.max(ENGINE_RUNS, SEQUENTIAL); i++) {
    let engineMs = NaN;
    if (i < ENGINE_RUNS) {
      const t0 = performance.now();
      const a = await gw.gateway.analyzer.analyze(probe, { grade: 'capture' });
      engineMs = performance.now() - t0;
      engineRoundTrip.push(engineMs);
      engineOwn.push(a.timings.total);
    }
    if (i < SEQUENTIAL) {
      try {
        const r = await signIn(fg, next(), probe);
        seqFrames.push(r.steps.frames);
        if (Number.isFinite(engineMs)) paired.push(r.steps.frames - engineMs);
        seqResults.push({ ok: true });
      } catch (err) {
        seqResults.push({ ok: false, error: err instanceof Error ? err : new Error(String(err)) });
      }
    }
  }
  note('sequential sign-in', seqResults);
  const frames = steps.frames;
  const sequentialFrames = summary(seqFrames);
  const engine = { roundTrip: summary(engineRoundTrip), own: summary(engineOwn) };
  const overhead = sequentialFrames.p50 !== null && engine.roundTrip.p50 !== null ? sequentialFrames.p50 - engine.roundTrip.p50 : null;
  const pairedOverhead = round(quantile(paired, 0.5));
  const ceiling = engine.roundTrip.p50 ? (2 * 1000) / engine.roundTrip.p50 : NaN;
  const cpuCeiling = (cpu.length * 1000) / cpuMsPerSignIn;
  out(`2. Frames endpoint (one 640x480 JPEG per POST)`);
  out(`   HTTP, in the sign-ins above        p50 ${fmt(frames.p50, 7)} ms   p95 ${fmt(frames.p95, 7)} ms${C > 1 ? `   (concurrency ${C}: includes waiting for one of 2 workers)` : ''}`);
  out(`   HTTP, ${String(SEQUENTIAL).padEnd(2)} sign-ins one at a time    p50 ${fmt(sequentialFrames.p50, 7)} ms   p95 ${fmt(sequentialFrames.p95, 7)} ms   (interleaved with the engine runs)`);
  out(`   engine via the pool, sequential    p50 ${fmt(engine.roundTrip.p50, 7)} ms   p95 ${fmt(engine.roundTrip.p95, 7)} ms   (worker round trip, ${ENGINE_RUNS} runs)`);
  out(`   engine's own timings.total         p50 ${fmt(engine.own.p50, 7)} ms   p95 ${fmt(engine.own.p95, 7)} ms`);
  out(`   frames p50 (one at a time) − engine p50 = ${fmt(overhead, 0)} ms (median of the paired differences ${fmt(pairedOverhead, 0)} ms):`);
  out(`     the endpoint's HTTP, multipart, interaction/session lookups, database and audit work`);
  out(`   ceilings: engine-bound 2 workers / ${fmt(engine.roundTrip.p50, 0)} ms = ${ceiling.toFixed(1)} sign-ins/s; CPU-bound ${cpu.length} cores / ${cpuMsPerSignIn.toFixed(0)} CPU-ms per sign-in = ${cpuCeiling.toFixed(1)} sign-ins/s`);
  out(`   achieved ${signInsPerSec.toFixed(2)} sign-ins/s = ${((100 * signInsPerSec) / ceiling).toFixed(0)}% of the engine-bound and ${((100 * signInsPerSec) / cpuCeiling).toFixed(0)}% of the CPU-bound ceiling (this process got ${busyCores.toFixed(2)} cores)`);
  out();

  // 3. token endpoint only: Facegate against the bare oidc-provider
  progress('warm-up of the bare provider');
  note('bare warm-up', (await runPool(Math.max(WARMUP, 3), C, async () => exchange(bareAgency, await bareCode(bareAgency, {})))).results);
  const tokenMs = { facegate: [] as number[], bare: [] as number[] };
  const tokenWall = { facegate: 0, bare: 0 };
  const tokenFailures = { facegate: 0, bare: 0 };
  const prepared = { facegate: 0, bare: 0 };
  let oldestCodeS = 0;
  const tokenBatch = async (who: 'facegate' | 'bare', size: number) => {
    const agency = who === 'facegate' ? fg : bareAgency;
    const batchStart = performance.now();
    const prep = await runPool(size, C, () => (who === 'facegate' ? facegateCode(fg, next(), probe, {}) : bareCode(bareAgency, {})),
      () => performance.now() - batchStart > BATCH_WINDOW_MS);
    note(`${who} code preparation`, prep.results);
    const codes = prep.results.flatMap((r) => (r.ok ? [r.value] : []));
    prepared[who] += codes.length;
    oldestCodeS = Math.max(oldestCodeS, (Date.now() - Math.min(...codes.map((c) => c.at))) / 1000);
    serverSide.label = 'token';
    const timedRun = await runPool(codes.length, C, async (i) => {
      const t0 = performance.now();
      await exchange(agency, codes[i]);
      return performance.now() - t0;
    });
    serverSide.label = '';
    note(`${who} token`, timedRun.results);
    tokenWall[who] += timedRun.wallMs;
    for (const r of timedRun.results) if (r.ok) tokenMs[who].push(r.value); else tokenFailures[who]++;
    return codes.length;
  };
  for (let done = 0, b = 0; done < CODES; b++) {
    const size = Math.min(BATCH, CODES - done);
    progress(`token batch ${b + 1}: ${size} codes per provider`);
    const order = b % 2 === 0 ? (['facegate', 'bare'] as const) : (['bare', 'facegate'] as const);
    let got = 0;
    for (const who of order) got = Math.max(got, await tokenBatch(who, size));
    if (got === 0) break;
    done += got;
  }
  const tok = (who: 'facegate' | 'bare') => ({
    requests: tokenMs[who].length, failures: tokenFailures[who], codesPrepared: prepared[who],
    perSec: round(tokenMs[who].length / (tokenWall[who] / 1000), 1), ...summary(tokenMs[who]),
  });
  const serverToken = (who: string) => {
    const e = serverTimes('token', who).find((t) => t.endpoint === 'POST token');
    return e ? { count: e.count, mean: e.mean, p50: e.p50, p95: e.p95 } : { count: 0, mean: null, p50: null, p95: null };
  };
  const token = { facegate: { ...tok('facegate'), serverMs: serverToken('facegate') }, bare: { ...tok('bare'), serverMs: serverToken('bare') } };
  const ratio = (a: number | null, b: number | null) => (a !== null && b ? round(a / b, 2) : null);
  const ratios = {
    latencyP50: ratio(token.facegate.p50, token.bare.p50), throughput: ratio(token.facegate.perSec, token.bare.perSec),
    serverP50: ratio(token.facegate.serverMs.p50, token.bare.serverMs.p50),
  };
  out(`3. Token endpoint only (codes prepared beforehand; only authorizationCodeGrant timed, DPoP + private_key_jwt, concurrency ${C})`);
  out(`   ${''.padEnd(20)}${'req/s'.padStart(8)}${'p50 ms'.padStart(8)}${'p95 ms'.padStart(8)}${'mean ms'.padStart(9)}${'requests'.padStart(10)}${'failed'.padStart(8)}`);
  for (const [name, v] of [['Facegate', token.facegate], ['bare oidc-provider', token.bare]] as const) {
    out(`   ${name.padEnd(20)}${fmt(v.perSec)}${fmt(v.p50)}${fmt(v.p95)}${fmt(v.mean, 9)}${String(v.requests).padStart(10)}${String(v.failures).padStart(8)}`);
  }
  out(`   server side of POST /token       Facegate p50 ${fmt(token.facegate.serverMs.p50, 0)} ms, mean ${fmt(token.facegate.serverMs.mean, 0)} ms;  bare p50 ${fmt(token.bare.serverMs.p50, 0)} ms, mean ${fmt(token.bare.serverMs.mean, 0)} ms`);
  out(`   ratio facegate/bare: latency p50 ×${ratios.latencyP50 ?? 'n/a'} (> 1: slower per request), throughput ×${ratios.throughput ?? 'n/a'} (< 1: that share of the bare rate),`);
  out(`                        server-side p50 ×${ratios.serverP50 ?? 'n/a'} (the providers alone, without the client's identical share)`);
  out(`   oldest code when exchanged: ${oldestCodeS.toFixed(1)} s (codes live 60 s)`);
  out();

  const elapsedS = (performance.now() - began) / 1000;
  if (errors.length) {
    out(`ERRORS: ${errors.length}`);
    const counts = new Map<string, number>();
    for (const e of errors) counts.set(`${e.phase}: ${e.message}`, (counts.get(`${e.phase}: ${e.message}`) ?? 0) + 1);
    for (const [m, n] of counts) out(`   ${n}× ${m}`);
    process.exitCode = 1;
  } else {
    out('no errors');
  }
  out(`finished in ${elapsedS.toFixed(1)} s; load average now ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);

  const result = {
    machine, database, loadavgAtEnd: loadavg().map((v) => round(v, 2)),
    probe: { source: 'faces/obama/obama_2.jpg', size: '640x480', quality: 85, bytes: probe.length, scale: round(probeScale, 3), faceHeightPx: faceHeight, liveness: round(probeLiveness, 3) },
    settings: { n: N, concurrency: C, warmup: WARMUP, codes: CODES, batch: BATCH, engineRuns: ENGINE_RUNS, sequential: SEQUENTIAL },
    signIns: {
      ok: ok.length, failed: N - ok.length, wallS: round(run.wallMs / 1000, 2), perSec: round(signInsPerSec, 2), wholeMs: whole, stepsMs: steps,
      serverSideMs: Object.fromEntries(perEndpoint.map((e) => [e.endpoint, { perSignIn: round(e.count / Math.max(1, ok.length), 2), p50: e.p50, p95: e.p95, msPerSignIn: round(e.totalMs / Math.max(1, ok.length)) }])),
      serverSideMsPerSignIn: round(serverPerSignIn),
      busyCores: round(busyCores, 2), cpuMsPerSignIn: round(cpuMsPerSignIn), mainThreadBusy: round(mainThread, 2),
    },
    frames: {
      httpMs: { p50: frames.p50, p95: frames.p95 }, sequentialHttpMs: { p50: sequentialFrames.p50, p95: sequentialFrames.p95 },
      engineRoundTripMs: engine.roundTrip, engineOwnMs: engine.own, overheadP50Ms: round(overhead ?? NaN), overheadPairedMedianMs: pairedOverhead,
      engineCeilingPerSec: round(ceiling, 1), ofEngineCeiling: round(signInsPerSec / ceiling, 2), cpuCeilingPerSec: round(cpuCeiling, 1), ofCpuCeiling: round(signInsPerSec / cpuCeiling, 2),
    },
    token: { ...token, ratios, oldestCodeS: round(oldestCodeS) },
    errors: errors.length, errorMessages: [...new Set(errors.map((e) => `${e.phase}: ${e.message}`))].slice(0, 10),
    elapsedS: round(elapsedS),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** Closes what main() started (the bare provider, then the gateway), even when it failed. */
const cleanups: (() => Promise<void>)[] = [];
try {
  await main();
} finally {
  for (const close of cleanups) await close();
}

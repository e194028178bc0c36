// `npm run bench:oidc`: the gateway as an OpenID Provider, over real HTTP, in one run.
//
// What is measured (a real gateway from test/helpers/gateway.ts: HTTP on a free port, its own
// temporary SQLite file, or a PostgreSQL schema when FACEGATE_TEST_DATABASE_URL is set, and a
// 2-thread face worker pool; openid-client 6 as the agency, in this same process):
//  1. Complete sign-ins per second. Citizens enrolled with faces/lin_manuel_miranda/
//     lin_manuel_miranda_1.png, the person of the shared selfie video; the gateway's
//     capture.substantial.actions is set to 0 (no head turn: the capture is the look-straight step
//     alone, decided on natural motion, one scene, liveness and the match). Each sign-in:
//     PAR (PKCE S256, DPoP, private_key_jwt) → authorize (the browser follows to the interaction
//     page) → GET the interaction JSON → POST capture → the streamed capture (test/helpers/stream.ts
//     runStream: the WebSocket on the answer's `stream` path with the page's Origin and the
//     interaction cookies, `start` with the CSRF token, then after `ready` one frame every
//     FRAME_INTERVAL_MS (150 ms): consecutive frames of video/lin_manuel_miranda_selfie.mjpeg as a
//     camera snapshotting every 150 ms sees the 15 fps video (every VIDEO_STEP-th, 2: 133 ms of
//     motion per frame), from a window whose every frame passes capture quality (a random one per
//     sign-in), each through bench/pad-corpus.ts sensor() with its own noise (sigma 2), so never
//     the same bytes twice; after
//     FRAMES_PER_CAPTURE (8) frames `end`. The server decides by itself once it has
//     capture.stream.neutralFrames (3) frames and neutralMs (800 ms) of look-straight, so a sign-in
//     one at a time sends ~6 frames; under load, when the analyses lag, up to 8 then `end`) →
//     `checking`, `verdict` → follow redirectTo to consent, allow, follow back to the redirect_uri
//     → token (authorizationCodeGrant, DPoP, private_key_jwt, ID token signature checked) →
//     userinfo (DPoP). The frames are made before each phase, outside its timing (sensor() runs on
//     the main thread). A sign-in counts only when its verdict is verified and it ends with a valid
//     ID token (acr substantial, amr face) and a userinfo of the same sub; anything else is a
//     failure, reported with its message (for a verdict, the check that failed, from the audit
//     trail) and the exit code is 1.
//     After a warm-up, --n sign-ins (default 60) at --concurrency C (default 4): sign-ins/s,
//     mean/p50/p95 of a whole sign-in, and p50/p95/mean per step ('stream': the WebSocket from
//     opening to the server's close after the verdict; at least the ~800 ms look-straight step).
//     Also the process's CPU use over the run (cores busy: gateway, face workers and client all
//     share the 2 cores), CPU-ms per sign-in (steadier than sign-ins/s when other jobs share the
//     machine), how busy the main thread's event loop was, and the server-side time per HTTP
//     endpoint (the stream is a WebSocket, not an HTTP request: its times are in 2.).
//  2. The stream against the engine alone. The stream's length is mostly the pace of the frames;
//     what the server costs shows after the last frame: last frame → verdict (from sending the
//     last frame the server acked before `checking` to the verdict message: that frame's analysis,
//     started on arrival, then the decision on the analyses already made: attempt limits, replay
//     store, EXIF read, presence, liveness and match, device lookup, the chained audit append, the
//     end of the login step) and checking → verdict (the decision alone, with any analyses still
//     running). From the sign-ins above (at C > 1 that holds the wait for one of the 2 workers:
//     C streams send 6.7 frames/s each), then --sequential (default 20) sign-ins one at a time
//     interleaved with the face engine alone (--engine-runs 30 sequential
//     `gateway.analyzer.analyze(frame, { grade: 'capture' })` calls on the idle pool, on frames
//     made like the stream's: the worker round trip and the engine's own timings.total), so both
//     see the same machine noise. last frame → verdict p50 (one at a time) − engine p50 (and the
//     median of the paired differences) is what the stream and the decision add to the last
//     frame's analysis. Three ceilings put the sign-in rate in context: engine-bound (2 workers /
//     (frames analysed per sign-in × engine p50): only face analysis costs anything), CPU-bound
//     (cores / CPU-ms per sign-in: what 2 idle cores would allow) and pace-bound (C / a whole
//     sign-in one at a time: the stream cannot be shorter than its look-straight step, so C
//     sign-ins in flight cannot go faster than that, however idle the machine).
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
// --batch 25 (codes per batch) --engine-runs 30 --sequential 20 --seed 1 (the frames' windows and
// noise) --json (stdout: only the JSON line). FACEGATE_TEST_DATA overrides ../shared/data.
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
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import Provider, { type Configuration } from 'oidc-provider';
import * as client from 'openid-client';
import { splitMjpeg } from '../src/biometrics/mjpeg.ts';
import type { ServerMessage } from '../src/capture/stream.ts';
import { acrSubstantial, createInteractionPolicy } from '../src/oidc/acr.ts';
import { buildAgencyMetadata } from '../src/oidc/clients.ts';
import { signingAlgs } from '../src/oidc/keys.ts';
import { agencyProfile } from '../src/oidc/provider.ts';
import { startTestGateway, type TestGateway } from '../test/helpers/gateway.ts';
import {
  authorizationRequest, codeFrom, connectAgency, createAgencyKeys, exchange, facegateCode as facegateCodeWith, signIn as signInWith, timed,
  type Agency, type Code, type SignInOptions, type StreamStats,
} from './lib/signin.ts';
import { mean, quantile, round } from './lib/stats.ts';
import { rng, sensor } from './pad-corpus.ts';

const { values: args } = parseArgs({
  options: {
    n: { type: 'string', default: '60' },
    concurrency: { type: 'string', default: '4' },
    warmup: { type: 'string', default: '5' },
    codes: { type: 'string', default: '100' },
    batch: { type: 'string', default: '25' },
    'engine-runs': { type: 'string', default: '30' },
    sequential: { type: 'string', default: '20' },
    seed: { type: 'string', default: '1' },
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
const SEED = Number.isInteger(Number(args.seed)) ? Number(args.seed) : 1;
const jsonOnly = args.json;
const BATCH_WINDOW_MS = 40_000; // codes live 60 s: a batch stops growing after this
/** The camera's pace: one frame every this many ms (the server allows one per 100 ms on average). */
const FRAME_INTERVAL_MS = 150;
/** Frames one capture sends at most, then `end`: the server usually decides before (6 frames in 800 ms). */
const FRAMES_PER_CAPTURE = 8;
/**
 * The sensor noise of each frame (sigma, gray levels), as bench:capture's camera: at 3 (bench:pad's
 * corpus) about 1 genuine frame in 4 reads not live, at 2 about 1 in 8 (docs/calibration.md).
 */
const SENSOR_SIGMA = 2;
/**
 * Video frames per frame sent: the video is 15 fps, a snapshot every 150 ms sees every second frame.
 * With every frame (66 ms of motion per frame sent) 1 capture of 6 frames in 30 had its landmarks
 * too near one homography (natural motion, median 0.029 < 0.03: not_live); with every second, 0 in 70.
 */
const VIDEO_STEP = 2;

// oidc-provider prints its notices with console.info (stdout): keep stdout for the report.
console.info = (...a: unknown[]) => console.error(...a);
console.log = (...a: unknown[]) => console.error(...a);
const out = (line = '') => { if (!jsonOnly) process.stdout.write(`${line}\n`); };
const progress = (line: string) => { if (!jsonOnly) process.stderr.write(`  … ${line}\n`); };

const dataDir = resolve(process.env.FACEGATE_TEST_DATA ?? join(process.cwd(), '..', 'shared', 'data'));
const face = (identity: string, file: string) => readFileSync(join(dataDir, 'faces', identity, file));
const VIDEO = 'video/lin_manuel_miranda_selfie.mjpeg';
const ENROLLED = 'faces/lin_manuel_miranda/lin_manuel_miranda_1.png';

// ---------------------------------------------------------------- statistics
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
// bench/lib/signin.ts (shared with bench:cluster): openid-client as the agency, the cookie jar, the stream.

/** Why a capture was not verified: the check that did not pass, from its capture.decided audit event. */
let explainCapture: (captureId: string) => Promise<string> = async () => '';
const signInOptions: SignInOptions = { frameIntervalMs: FRAME_INTERVAL_MS, explain: (id) => explainCapture(id) };
const signIn = (agency: Agency, nationalId: string, frames: readonly Uint8Array[]) => signInWith(agency, nationalId, frames, signInOptions);
const facegateCode = (agency: Agency, nationalId: string, frames: readonly Uint8Array[], steps: Record<string, number>) =>
  facegateCodeWith(agency, nationalId, frames, steps, signInOptions);

/** The bare provider: PAR, then the browser follows through the auto-completing interactions. */
async function bareCode(agency: Agency, steps: Record<string, number>): Promise<Code> {
  const r = await authorizationRequest(agency, steps);
  const back = await timed(steps, 'authorize + auto interaction', () => r.browser.follow(r.url.href, r.issuer));
  return codeFrom(back.location, agency, r);
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
  const handle = provider.callback();
  server.on('request', (req, res) => void handle(req, res));
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
 * The shared selfie video (15 fps, 640x480) as the citizen's camera: its frames analysed once on
 * the pool, then the windows of FRAMES_PER_CAPTURE frames VIDEO_STEP apart that all pass capture quality
 * (without actions the decision judges every frame at the full gate: one turned or cut-off frame
 * would make the capture a retry). captures(n) makes n frame sets, each from a window drawn at
 * random, each frame through sensor() (gaussian noise, a camera's JPEG at q80-91) with its own
 * noise; seeded by --seed and a running count, so a run can be repeated and no two frames are the
 * same bytes (the same bytes twice, in any capture within 24 h, are a replay).
 */
async function videoCamera(gw: TestGateway) {
  const video = splitMjpeg(readFileSync(join(dataDir, VIDEO))).map((f) => Buffer.from(f));
  const span = (FRAMES_PER_CAPTURE - 1) * VIDEO_STEP + 1;
  if (video.length < span) throw new Error(`${VIDEO}: ${video.length} frames, fewer than ${span}`);
  const analysed = [];
  for (const f of video) analysed.push(await gw.gateway.analyzer.analyze(f, { grade: 'capture' }));
  const passes = analysed.map((a) => a.quality.ok && !!a.face);
  const windowAt = (from: number) => Array.from({ length: FRAMES_PER_CAPTURE }, (_, k) => from + k * VIDEO_STEP);
  const starts = video.map((_, i) => i).filter((i) => i + span <= video.length && windowAt(i).every((k) => passes[k]));
  if (!starts.length) throw new Error(`${VIDEO}: no ${FRAMES_PER_CAPTURE} frames ${VIDEO_STEP} apart all pass capture quality`);
  const threshold = gw.config.biometrics.liveness.threshold;
  const { width, height } = analysed[0].image;
  let made = 0;
  let bytes = 0;
  let frames = 0;
  const one = async () => {
    const r = rng(SEED * 1_000_003 + made++);
    const from = starts[Math.floor(r() * starts.length)];
    const set: Buffer[] = [];
    for (const k of windowAt(from)) set.push(await sensor(video[k], r, SENSOR_SIGMA));
    bytes += set.reduce((n, f) => n + f.length, 0);
    frames += set.length;
    return set;
  };
  return {
    size: `${width}x${height}`, frames: video.length, passQuality: passes.filter(Boolean).length,
    live: analysed.filter((a) => (a.face?.liveness ?? 0) >= threshold).length, windows: starts.length,
    meanKiB: () => bytes / Math.max(1, frames) / 1024,
    /** `n` captures' frames; 4 made at a time (sharp decodes and encodes on its own threads meanwhile). */
    async captures(n: number): Promise<Buffer[][]> {
      const out: Buffer[][] = [];
      for (let i = 0; i < n; i += 4) out.push(...(await Promise.all(Array.from({ length: Math.min(4, n - i) }, () => one()))));
      return out;
    },
  };
}

/** The check that did not pass in the capture.decided event of a capture, and its reason. */
async function decidedReason(gw: TestGateway, captureId: string): Promise<string> {
  const rows = await gw.database.db('audit_events').where({ type: 'capture.decided' }).orderBy('id', 'desc').limit(200);
  for (const row of rows as { code: string | null; details: unknown }[]) {
    const d = (typeof row.details === 'string' ? JSON.parse(row.details) : row.details) as { captureId?: string; checks?: { name: string; outcome: string; reason?: string }[]; risk?: { action?: string } };
    if (d.captureId !== captureId) continue;
    const failed = d.checks?.find((c) => c.outcome !== 'pass');
    return failed ? `${failed.name}${failed.reason ? `: ${failed.reason}` : ''}` : `${row.code ?? 'no code'}${d.risk?.action && d.risk.action !== 'allow' ? `, risk ${d.risk.action}` : ''}`;
  }
  return 'no decision recorded';
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

  // One client address runs every sign-in: lift the per-IP limits, which would otherwise (rightly)
  // stop a load test (capture starts, failures, and streams open at once: C of them). Substantial
  // without its head turn: the capture is the look-straight step (see the header).
  const gw = await startTestGateway({
    risk: { ip: { startsPerMinute: 1_000_000, failuresPerHour: 1_000_000 } },
    capture: { substantial: { actions: 0 }, stream: { maxStreamsPerIp: Math.max(4, C) } },
  });
  cleanups.push(() => gw.close());
  explainCapture = (captureId) => decidedReason(gw, captureId);
  const [enrolledDir, enrolledFile] = ENROLLED.split('/').slice(1);
  const camera = await videoCamera(gw);
  const streamConfig = gw.config.capture.stream;
  // Several citizens with the same registry photo, taken in turn: a real load is many citizens, and
  // one ID may have at most risk.lockout.maxFailures attempts in flight (then capture_busy).
  const citizens = Array.from({ length: 2 * C + 2 }, (_, i) => `LM1976011${i}`.slice(0, 10) + String.fromCharCode(65 + i));
  for (const id of citizens) await gw.enroll(id, face(enrolledDir, enrolledFile));
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
  out(`frames    ${VIDEO} (${camera.frames} frames ${camera.size}, ${camera.passQuality} pass capture quality, ${camera.live} live on their own): ${camera.windows} windows of ${FRAMES_PER_CAPTURE} frames ${VIDEO_STEP} apart that all pass; sensor noise sigma ${SENSOR_SIGMA}, JPEG q80-91`);
  out(`stream    a frame every ${FRAME_INTERVAL_MS} ms, ${FRAMES_PER_CAPTURE} at most then end; no actions (capture.substantial.actions ${gw.config.capture.substantial.actions}); the server decides after ${streamConfig.neutralFrames} frames and ${streamConfig.neutralMs} ms; enrolled ${ENROLLED}`);
  out(`settings  --n ${N} --concurrency ${C} --warmup ${WARMUP} --codes ${CODES} --batch ${BATCH} --engine-runs ${ENGINE_RUNS} --sequential ${SEQUENTIAL} --seed ${SEED}`);
  out();

  // 1. complete sign-ins (each phase's frames made before it: sensor() runs on the main thread)
  progress(`warm-up: ${WARMUP} sign-ins`);
  const warmFrames = await camera.captures(WARMUP);
  note('warm-up sign-in', (await runPool(WARMUP, C, (i) => signIn(fg, next(), warmFrames[i]))).results);
  progress(`frames for ${N} sign-ins`);
  const runFrames = await camera.captures(N);
  progress(`${N} sign-ins at concurrency ${C}`);
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  serverSide.label = 'signins';
  const run = await runPool(N, C, (i) => signIn(fg, next(), runFrames[i]));
  serverSide.label = '';
  const cpuUsed = process.cpuUsage(cpu0);
  const busyCores = (cpuUsed.user + cpuUsed.system) / 1000 / run.wallMs;
  const mainThread = performance.eventLoopUtilization(elu0).utilization;
  note('sign-in', run.results);
  const ok = run.results.flatMap((r) => (r.ok ? [r.value] : []));
  const stepNames = ['client prep', 'PAR', 'authorize', 'interaction JSON', 'capture start', 'stream', 'consent + redirects', 'token', 'userinfo'];
  const steps = Object.fromEntries(stepNames.map((s) => [s, summary(ok.map((v) => v.steps[s] ?? 0))]));
  const whole = summary(ok.map((v) => v.totalMs));
  const signInsPerSec = ok.length / (run.wallMs / 1000);
  const cpuMsPerSignIn = (cpuUsed.user + cpuUsed.system) / 1000 / Math.max(1, ok.length);
  const cpuLine = `   CPU: ${busyCores.toFixed(2)} of ${cpu.length} cores busy (gateway + face workers + client, this process), ${cpuMsPerSignIn.toFixed(0)} CPU-ms per sign-in; main thread ${(100 * mainThread).toFixed(0)}% busy`;

  const streams = ok.map((v) => v.stream);
  const framesPerSignIn = mean(streams.map((v) => v.acked));
  out(`1. Complete sign-ins (PAR → authorize → interaction → capture → stream → consent → token → userinfo)`);
  out(`   ${ok.length}/${N} verified with a valid ID token, ${N - ok.length} failed; ${(run.wallMs / 1000).toFixed(1)} s wall at concurrency ${C}`);
  out(`   → ${signInsPerSec.toFixed(2)} sign-ins/s; whole sign-in mean ${fmt(whole.mean, 0)} ms, p50 ${fmt(whole.p50, 0)} ms, p95 ${fmt(whole.p95, 0)} ms`);
  out(cpuLine);
  out(`   stream: ${framesPerSignIn.toFixed(1)} frames decided on per sign-in (mean), ${streams.filter((v) => v.serverDecided).length}/${streams.length} decided by the server before the end message`);
  out(`   ${'step'.padEnd(22)}${'p50 ms'.padStart(8)}${'p95 ms'.padStart(8)}${'mean ms'.padStart(9)}${'% of mean'.padStart(11)}`);
  for (const s of stepNames) {
    const v = steps[s];
    out(`   ${s.padEnd(22)}${fmt(v.p50)}${fmt(v.p95)}${fmt(v.mean, 9)}${fmt(whole.mean ? (100 * (v.mean ?? 0)) / whole.mean : null, 10)}%`);
  }
  const perEndpoint = serverTimes('signins', 'facegate').sort((a, b) => b.totalMs - a.totalMs);
  const serverPerSignIn = perEndpoint.reduce((a, e) => a + e.totalMs, 0) / Math.max(1, ok.length);
  out(`   server side, per HTTP endpoint (arrival → end of response; includes waits for the shared event loop; the stream is in 2.):`);
  out(`   ${'endpoint'.padEnd(28)}${'per sign-in'.padStart(12)}${'p50 ms'.padStart(8)}${'p95 ms'.padStart(8)}${'ms/sign-in'.padStart(12)}`);
  for (const e of perEndpoint) {
    out(`   ${e.endpoint.padEnd(28)}${(e.count / Math.max(1, ok.length)).toFixed(1).padStart(12)}${fmt(e.p50)}${fmt(e.p95)}${fmt(e.totalMs / Math.max(1, ok.length), 12)}`);
  }
  out(`   server side in all: ${serverPerSignIn.toFixed(0)} of the ${whole.mean?.toFixed(0) ?? 'n/a'} ms of a sign-in; the rest is the stream (${fmt(steps.stream.mean, 0)} ms mean), the client (openid-client: signing, DPoP proofs, ID token checks; fetch) and waiting`);
  out();

  // 2. the stream against the engine alone
  // The engine alone on the idle pool, interleaved with sign-ins one at a time (their frames, one
  // stream at a time, hardly wait for a worker), so both see the same machine noise.
  progress(`frames for ${ENGINE_RUNS} engine runs and ${SEQUENTIAL} sign-ins`);
  const engineFrames = (await camera.captures(Math.ceil(ENGINE_RUNS / FRAMES_PER_CAPTURE))).flat();
  const seqFrames = await camera.captures(SEQUENTIAL);
  progress(`engine alone (${ENGINE_RUNS} analyses) interleaved with ${SEQUENTIAL} sign-ins one at a time`);
  const engineRoundTrip: number[] = [];
  const engineOwn: number[] = [];
  const seqWhole: number[] = [];
  const seqStream: number[] = [];
  const seqStats: StreamStats[] = [];
  const paired: number[] = [];
  const seqResults: { ok: boolean; error?: Error }[] = [];
  for (let i = 0; i < Math.max(ENGINE_RUNS, SEQUENTIAL); i++) {
    let engineMs = NaN;
    if (i < ENGINE_RUNS) {
      const t0 = performance.now();
      const a = await gw.gateway.analyzer.analyze(engineFrames[i], { grade: 'capture' });
      engineMs = performance.now() - t0;
      engineRoundTrip.push(engineMs);
      engineOwn.push(a.timings.total);
    }
    if (i < SEQUENTIAL) {
      try {
        const r = await signIn(fg, next(), seqFrames[i]);
        seqWhole.push(r.totalMs);
        seqStream.push(r.steps.stream);
        seqStats.push(r.stream);
        if (Number.isFinite(engineMs)) paired.push(r.stream.lastFrameToVerdictMs - engineMs);
        seqResults.push({ ok: true });
      } catch (err) {
        seqResults.push({ ok: false, error: err instanceof Error ? err : new Error(String(err)) });
      }
    }
  }
  note('sequential sign-in', seqResults);
  const of = (list: StreamStats[], k: 'lastFrameToVerdictMs' | 'checkingToVerdictMs' | 'readyMs') => summary(list.map((v) => v[k]).filter(Number.isFinite));
  const stream = {
    step: steps.stream, lastFrame: of(streams, 'lastFrameToVerdictMs'), checking: of(streams, 'checkingToVerdictMs'), ready: of(streams, 'readyMs'),
  };
  const sequential = {
    whole: summary(seqWhole), step: summary(seqStream), lastFrame: of(seqStats, 'lastFrameToVerdictMs'), checking: of(seqStats, 'checkingToVerdictMs'),
    ready: of(seqStats, 'readyMs'), frames: mean(seqStats.map((v) => v.acked)),
  };
  const engine = { roundTrip: summary(engineRoundTrip), own: summary(engineOwn) };
  const overhead = sequential.lastFrame.p50 !== null && engine.roundTrip.p50 !== null ? sequential.lastFrame.p50 - engine.roundTrip.p50 : null;
  const pairedOverhead = round(quantile(paired, 0.5));
  const ceiling = engine.roundTrip.p50 ? (2 * 1000) / (framesPerSignIn * engine.roundTrip.p50) : NaN;
  const cpuCeiling = (cpu.length * 1000) / cpuMsPerSignIn;
  const paceCeiling = sequential.whole.p50 ? (C * 1000) / sequential.whole.p50 : NaN;
  const share = (v: number) => (Number.isFinite(v) && v > 0 ? `${((100 * signInsPerSec) / v).toFixed(0)}%` : 'n/a');
  const row = (label: string, v: { p50: number | null; p95: number | null }, extra = '') => out(`   ${label.padEnd(36)}p50 ${fmt(v.p50, 7)} ms   p95 ${fmt(v.p95, 7)} ms${extra ? `   ${extra}` : ''}`);
  out(`2. Streamed capture against the engine alone (a ${camera.size} frame every ${FRAME_INTERVAL_MS} ms, each analysed on arrival)`);
  row('stream, in the sign-ins above', stream.step, `(open → close; ${framesPerSignIn.toFixed(1)} frames per sign-in)`);
  row('  open → ready', stream.ready);
  row('  last frame → verdict', stream.lastFrame, C > 1 ? `(concurrency ${C}: includes waiting for one of 2 workers)` : '');
  row('  checking → verdict', stream.checking);
  row(`stream, ${SEQUENTIAL} sign-ins one at a time`, sequential.step, `(${sequential.frames.toFixed(1)} frames per sign-in; interleaved with the engine runs)`);
  row('  open → ready', sequential.ready);
  row('  last frame → verdict', sequential.lastFrame);
  row('  checking → verdict', sequential.checking);
  row('engine via the pool, sequential', engine.roundTrip, `(worker round trip, ${ENGINE_RUNS} runs)`);
  row("engine's own timings.total", engine.own);
  out(`   last frame → verdict p50 (one at a time) − engine p50 = ${fmt(overhead, 0)} ms (median of the paired differences ${fmt(pairedOverhead, 0)} ms):`);
  out(`     what follows the last frame's analysis: the WebSocket messages, the decision's attempt limits, replay store, EXIF`);
  out(`     read, device lookup, checks on the analyses, flow save and chained audit, and the end of the login step`);
  out(`   ceilings: engine-bound 2 workers / (${framesPerSignIn.toFixed(1)} frames × ${fmt(engine.roundTrip.p50, 0)} ms) = ${ceiling.toFixed(1)} sign-ins/s; CPU-bound ${cpu.length} cores / ${cpuMsPerSignIn.toFixed(0)} CPU-ms per sign-in = ${cpuCeiling.toFixed(1)} sign-ins/s;`);
  out(`             pace-bound ${C} at a time / ${fmt(sequential.whole.p50, 0)} ms (a whole sign-in one at a time, p50) = ${paceCeiling.toFixed(1)} sign-ins/s`);
  out(`   achieved ${signInsPerSec.toFixed(2)} sign-ins/s = ${share(ceiling)} of the engine-bound, ${share(cpuCeiling)} of the CPU-bound and ${share(paceCeiling)} of the pace-bound ceiling (this process got ${busyCores.toFixed(2)} cores)`);
  out();

  // 3. token endpoint only: Facegate against the bare oidc-provider
  progress('warm-up of the bare provider');
  note('bare warm-up', (await runPool(Math.max(WARMUP, 3), C, async () => exchange(bareAgency, await bareCode(bareAgency, {})))).results);
  // Every database statement the gateway runs for a token request (the audit row each grant writes
  // after its answer included): what the knex adapter costs. Counted on extra codes after the timed
  // batches: a 'query' listener is work on the gateway's event loop the timed requests must not pay.
  const statements = { requests: 0, byKind: new Map<string, number>() };
  const countStatement = (q: { sql?: string }) => {
    const sql = String(q.sql ?? '').replace(/\s+/g, ' ').trim();
    const verb = sql.split(' ')[0]?.toLowerCase() ?? '?';
    const table = /\b(?:from|into|update)\s+[`"]?([a-z_]+)[`"]?/i.exec(sql)?.[1] ?? '';
    const key = `${verb} ${table}`.trim();
    statements.byKind.set(key, (statements.byKind.get(key) ?? 0) + 1);
  };
  const tokenMs = { facegate: [] as number[], bare: [] as number[] };
  const tokenWall = { facegate: 0, bare: 0 };
  const tokenFailures = { facegate: 0, bare: 0 };
  const prepared = { facegate: 0, bare: 0 };
  let oldestCodeS = 0;
  const tokenBatch = async (who: 'facegate' | 'bare', size: number) => {
    const agency = who === 'facegate' ? fg : bareAgency;
    const sets = who === 'facegate' ? await camera.captures(size) : []; // before the codes' clock starts
    const batchStart = performance.now();
    const prep = await runPool(size, C, (i) => (who === 'facegate' ? facegateCode(fg, next(), sets[i], {}) : bareCode(bareAgency, {})),
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
  {
    progress('statements of a token request (untimed)');
    const size = BATCH;
    const sets = await camera.captures(size);
    const prep = await runPool(size, C, (i) => facegateCode(fg, next(), sets[i], {}));
    note('statement-count code preparation', prep.results);
    const codes = prep.results.flatMap((r) => (r.ok ? [r.value] : []));
    gw.database.db.on('query', countStatement);
    const counted = await runPool(codes.length, C, (i) => exchange(fg, codes[i]));
    await delay(100); // the audit rows written after the last answers
    gw.database.db.off('query', countStatement);
    note('statement-count token', counted.results);
    statements.requests = counted.results.filter((r) => r.ok).length;
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
  const tokenStatements = Object.fromEntries([...statements.byKind].map(([k, n]) => [k, round(n / Math.max(1, statements.requests), 2)]));
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
  const perToken = [...statements.byKind].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${round(n / Math.max(1, statements.requests), 1)}`);
  const statementsPerToken = round([...statements.byKind.values()].reduce((a, b) => a + b, 0) / Math.max(1, statements.requests), 1);
  out(`   Facegate's database statements per token request: ${statementsPerToken} (${perToken.join(', ')})`);
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
    frames: {
      source: VIDEO, enrolled: ENROLLED, size: camera.size, videoFrames: camera.frames, passQuality: camera.passQuality, liveOnTheirOwn: camera.live,
      windows: camera.windows, perCaptureMax: FRAMES_PER_CAPTURE, videoStep: VIDEO_STEP, intervalMs: FRAME_INTERVAL_MS, sensorSigma: SENSOR_SIGMA, meanKiB: round(camera.meanKiB()),
      substantialActions: gw.config.capture.substantial.actions, neutralFrames: streamConfig.neutralFrames, neutralMs: streamConfig.neutralMs,
    },
    settings: { n: N, concurrency: C, warmup: WARMUP, codes: CODES, batch: BATCH, engineRuns: ENGINE_RUNS, sequential: SEQUENTIAL, seed: SEED },
    signIns: {
      ok: ok.length, failed: N - ok.length, wallS: round(run.wallMs / 1000, 2), perSec: round(signInsPerSec, 2), wholeMs: whole, stepsMs: steps,
      serverSideMs: Object.fromEntries(perEndpoint.map((e) => [e.endpoint, { perSignIn: round(e.count / Math.max(1, ok.length), 2), p50: e.p50, p95: e.p95, msPerSignIn: round(e.totalMs / Math.max(1, ok.length)) }])),
      serverSideMsPerSignIn: round(serverPerSignIn),
      busyCores: round(busyCores, 2), cpuMsPerSignIn: round(cpuMsPerSignIn), mainThreadBusy: round(mainThread, 2),
    },
    stream: {
      stepMs: { p50: stream.step.p50, p95: stream.step.p95 }, readyMs: stream.ready, lastFrameToVerdictMs: stream.lastFrame, checkingToVerdictMs: stream.checking,
      framesPerSignIn: round(framesPerSignIn, 2), serverDecided: streams.filter((v) => v.serverDecided).length, refusedFrames: streams.reduce((n, v) => n + v.refused, 0),
      sequential: {
        ok: seqStats.length, wholeMs: sequential.whole, stepMs: { p50: sequential.step.p50, p95: sequential.step.p95 }, readyMs: sequential.ready,
        lastFrameToVerdictMs: sequential.lastFrame, checkingToVerdictMs: sequential.checking, framesPerSignIn: round(sequential.frames, 2),
      },
      engineRoundTripMs: engine.roundTrip, engineOwnMs: engine.own, overheadP50Ms: round(overhead ?? NaN), overheadPairedMedianMs: pairedOverhead,
      engineCeilingPerSec: round(ceiling, 1), ofEngineCeiling: round(signInsPerSec / ceiling, 2), cpuCeilingPerSec: round(cpuCeiling, 1), ofCpuCeiling: round(signInsPerSec / cpuCeiling, 2),
      paceCeilingPerSec: round(paceCeiling, 1), ofPaceCeiling: round(signInsPerSec / paceCeiling, 2),
    },
    token: { ...token, ratios, oldestCodeS: round(oldestCodeS), facegateStatementsPerRequest: tokenStatements },
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

// The gateway as an operator runs it (`npm start`: scripts/start.mjs and its start-up bundle, in a child process): the start
// line with its URLs, health, readiness, metrics, security headers, JSON logs without personal
// data, the demo agency signing a citizen in through the real protocol, graceful shutdown, and
// refusal of development secrets in production.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBrowser } from '../../helpers/browser.ts';
import { cookieOf, interactionJson } from '../../helpers/agency.ts';
import { describeWithData, facePath } from '../../helpers/data.ts';
import { liveCamera, warmLiveCitizen } from '../../helpers/live.ts';
import { runStream } from '../../helpers/stream.ts';

const freePort = () => new Promise<number>((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => { const { port } = s.address() as { port: number }; s.close(() => resolve(port)); });
});

type Proc = { child: ChildProcess; lines: string[]; exit: Promise<number | null> };

function start(env: Record<string, string>): Proc {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FACEGATE_') && k !== 'DATABASE_URL' && k !== 'NODE_ENV'));
  const child = spawn(process.execPath, ['scripts/start.mjs'], { env: { ...clean, NODE_OPTIONS: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const collect = (b: Buffer) => lines.push(...b.toString().split('\n').filter(Boolean));
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, lines, exit };
}

async function until(lines: string[], pattern: RegExp, ms = 45_000): Promise<void> {
  const end = Date.now() + ms;
  while (!lines.some((l) => pattern.test(l))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${pattern}: ${lines.join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const run = (cmd: string[], env: Record<string, string>) => new Promise<{ code: number | null; out: string }>((resolve) => {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FACEGATE_') && k !== 'DATABASE_URL' && k !== 'NODE_ENV'));
  const child = spawn('./bin/facegate', cmd, { env: { ...clean, NODE_OPTIONS: '', ...env } });
  let out = '';
  child.stdout.on('data', (b) => { out += b; });
  child.stderr.on('data', (b) => { out += b; });
  child.on('exit', (code) => resolve({ code, out }));
});

describe('the gateway process', () => {
  let dir: string;
  let port: number;
  let base: string;
  let proc: Proc;
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'facegate-proc-'));
    port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = { PORT: String(port), HOST: '127.0.0.1', FACEGATE_ISSUER: base, DATABASE_URL: `sqlite:${join(dir, 'gw.sqlite')}`, FACEGATE_WORKERS: '1' };
    proc = start(env);
    await until(proc.lines, /Facegate listening/);
  });
  afterAll(async () => {
    if (proc.child.exitCode === null) { proc.child.kill('SIGKILL'); await proc.exit; }
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs one start line naming the gateway, the demo agency and the enrollment page, which answer, and the development secrets', async () => {
    const started = proc.lines.filter((l) => l.includes('Facegate listening'));
    expect(started).toHaveLength(1);
    const { msg } = JSON.parse(started[0]) as { msg: string };
    expect(msg).toBe(`Facegate listening: gateway ${base} · demo agency ${base}/demo · enrollment ${base}/demo/enroll (development secrets in use: not for production)`);
    for (const url of [`${base}/demo`, `${base}/demo/enroll`]) expect((await fetch(url)).status).toBe(200);
  });

  it('answers health, readiness and metrics', async () => {
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(`${base}/readyz`)).json()).toMatchObject({ status: 'ready', checks: { database: 'ok', models: 'ok' } });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('facegate_http_request_duration_seconds');
    expect(metrics).toContain('facegate_process_cpu_seconds_total');
  });

  it('publishes discovery with the agency profile and only PS256/ES256 keys', async () => {
    const meta = await (await fetch(`${base}/.well-known/openid-configuration`)).json() as Record<string, unknown>;
    expect(meta).toMatchObject({
      issuer: base, require_pushed_authorization_requests: true, token_endpoint_auth_methods_supported: ['private_key_jwt'],
      code_challenge_methods_supported: ['S256'], subject_types_supported: ['pairwise'], response_types_supported: ['code'],
      acr_values_supported: ['http://eidas.europa.eu/LoA/substantial', 'http://eidas.europa.eu/LoA/high'],
    });
    expect(meta.id_token_signing_alg_values_supported).toEqual(['PS256', 'ES256']);
    const { keys } = await (await fetch(`${base}/jwks`)).json() as { keys: Array<{ alg: string; d?: string }> };
    expect(new Set(keys.map((k) => k.alg))).toEqual(new Set(['PS256', 'ES256']));
    expect(keys.every((k) => k.d === undefined)).toBe(true);
  });

  it('serves pages under a strict content security policy', async () => {
    const res = await fetch(`${base}/demo`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect((await fetch(`${base}/static/sign-in.js`)).status).toBe(200);
  });

  describeWithData('the demo agency', () => {
    // The live citizen's camera is made once per file (the selfie video classified): a few seconds.
    beforeAll(warmLiveCitizen, 180_000);

    it('signs an enrolled citizen in through the real protocol and shows the verified ID token', async () => {
      // The live citizen's registry photo (helpers/live.ts citizenPhoto).
      const enrolled = await run(['registry', 'add', '--national-id', 'DEMO1234', '--given-name', 'Lin-Manuel', '--family-name', 'Miranda',
        '--birthdate', '1980-01-16', '--photo', facePath('lin_manuel_miranda', 'lin_manuel_miranda_1.png'), '--json'], env);
      expect(enrolled.code).toBe(0);
      const browser = createBrowser();
      const landed = await browser.follow(`${base}/demo/login?level=substantial`, base);
      const it1 = await interactionJson({ browser }, landed.url);
      const start = await browser.request(`${base}${it1.endpoints.capture}`, {
        method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': it1.csrf }, body: JSON.stringify({ nationalId: 'DEMO1234' }),
      });
      expect(start.status).toBe(201);
      const { captureId, steps, stream } = start.json as { captureId: string; steps: number; stream: string };
      expect(start.json).not.toHaveProperty('actions');
      expect([steps, stream]).toEqual([1, `${it1.endpoints.capture}/${encodeURIComponent(captureId)}/stream`]);
      // The frames go over the capture's stream on the process's own port (ws:// on the issuer),
      // from the live citizen's camera following the prompts as they come.
      const streamed = await runStream({
        url: `${base.replace(/^http/, 'ws')}${stream}`, origin: base, cookie: cookieOf({ browser }), csrf: it1.csrf, camera: await liveCamera(),
      });
      expect(streamed.error).toBeUndefined();
      expect(streamed.prompts.map((p) => p.action)).toEqual(['look_straight', expect.stringMatching(/^turn_(left|right)$/)]);
      expect(streamed.verdict).toMatchObject({ status: 'verified', redirectTo: expect.any(String) });
      expect(streamed.closed.code).toBe(1000);
      const atConsent = await browser.follow(streamed.verdict!.redirectTo!, base);
      const it2 = await interactionJson({ browser }, atConsent.url);
      const form = new URLSearchParams({ csrf: it2.csrf, decision: 'allow' });
      const decided = await browser.request(`${base}${it2.endpoints.consent}`, { method: 'POST', body: form, headers: { accept: 'text/html' } });
      expect(decided.status).toBe(303);
      const result = await browser.follow(decided.location!, base);
      expect(result.status).toBe(200);
      expect(result.body).toContain('Signed in');
      expect(result.body).toContain('http://eidas.europa.eu/LoA/substantial');
      expect(result.body).toContain('DEMO1234');
    }, 90_000);

    it('never writes the national ID or the names into its logs', () => {
      const log = proc.lines.join('\n');
      expect(log).not.toContain('DEMO1234');
      expect(log).not.toContain('Miranda');
      expect(log).not.toContain('Lin-Manuel');
    });
  });

  it('writes JSON log lines with a request id for each request', () => {
    const requests = proc.lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string; requestId?: string }).filter((l) => l.msg === 'request');
    expect(requests.length).toBeGreaterThan(3);
    expect(requests.every((l) => typeof l.requestId === 'string')).toBe(true);
  });

  it('shuts down gracefully on SIGTERM', async () => {
    proc.child.kill('SIGTERM');
    expect(await proc.exit).toBe(0);
    expect(proc.lines.some((l) => l.includes('"msg":"stopped"'))).toBe(true);
  });
});

describe('production settings', () => {
  it('refuses to start on the development secrets', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'facegate-prod-'));
    const proc = start({ NODE_ENV: 'production', FACEGATE_ISSUER: 'https://id.example.gov', PORT: String(await freePort()), DATABASE_URL: `sqlite:${join(dir, 'p.sqlite')}` });
    expect(await proc.exit).toBe(1);
    expect(proc.lines.join('\n')).toMatch(/development secrets/);
    rmSync(dir, { recursive: true, force: true });
  });
});

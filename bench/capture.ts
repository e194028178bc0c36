// `npm run bench:capture [-- --runs 20 --seed 1 --levels substantial,high --no-shots]`: sign-ins
// through the real page in Chromium, as a cooperative citizen: the demo agency, the ID, "Start the
// camera", the page's instructions followed by a canvas camera drawing the shared selfie video's
// frames with per-run sensor noise (bench/pad-corpus.ts camera()), consent, back at the agency.
// Per level: the share verified on the first try (no "Try again" by the citizen; a step-up the
// page runs by itself still counts as first try, and is counted apart), the share whose first
// capture verified, and the time from pressing Start to the agency's page (median, p90).
// Then, not timed, one sign-in per level at 360 px and 1280 px wide in English and French with a
// screenshot of every stage, into test-artifacts/capture/<level>-<lang>-<width>/. Each run signs
// in a citizen of its own (the same registry photo under a new ID), so one failure never locks
// the next run out. Last line: JSON.
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import { openFaceEngine } from '../src/biometrics/engine.ts';
import { followingThePage, useCanvasCamera } from '../test/helpers/canvas-camera.ts';
import { baseArgs, chromiumPath } from '../test/helpers/chromium-path.ts';
import { startTestGateway, type TestGateway } from '../test/helpers/gateway.ts';
import { rng, selfieCitizen } from './pad-corpus.ts';

const { values } = parseArgs({ options: {
  runs: { type: 'string', default: '20' }, seed: { type: 'string', default: '1' },
  levels: { type: 'string', default: 'substantial,high' }, 'no-shots': { type: 'boolean', default: false },
} });
const runs = Number(values.runs), seed = Number(values.seed);
const levels = values.levels.split(',') as Array<'substantial' | 'high'>;
const dataDir = process.env.FACEGATE_TEST_DATA ?? join(import.meta.dirname, '..', '..', 'shared', 'data');
const shotsDir = resolve(process.cwd(), 'test-artifacts', 'capture');
const log = (s: string) => process.stderr.write(`${s}\n`);

const gw: TestGateway = await startTestGateway({ demo: { enabled: true } });
const photo = readFileSync(join(dataDir, 'faces', 'lin_manuel_miranda', 'lin_manuel_miranda_1.png'));
const engine = await openFaceEngine(gw.config.biometrics);
const citizen = await selfieCitizen(engine, dataDir, gw.config.capture.challenge);
const browser: Browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: baseArgs, timeout: 60_000 });

type Run = { level: string; firstTry: boolean; firstCapture: boolean; stepUp: boolean; ms?: number; end: string; decisions: string[] };

async function decisionsSince(id: number): Promise<Array<{ id: number; status: string; code: string | null; check?: string; reason?: string; risk?: string }>> {
  const rows = await gw.database.db('audit_events').where({ type: 'capture.decided' }).andWhere('id', '>', id).orderBy('id', 'asc');
  return rows.map((r: { id: number; code: string | null; details: unknown }) => {
    const d = (typeof r.details === 'string' ? JSON.parse(r.details) : r.details) as { status: string; checks?: Array<{ name: string; outcome: string; reason?: string; measured?: { scores?: number[] } }>; risk?: { action: string } };
    const failed = d.checks?.find((c) => c.outcome !== 'pass');
    const scores = failed?.measured?.scores ? ` ${failed.measured.scores.map((x) => x.toFixed(2)).join(',')}` : '';
    return { id: Number(r.id), status: d.status, code: r.code, check: failed?.name, reason: (failed?.reason ?? '') + scores || undefined, risk: d.risk?.action };
  });
}
const lastDecision = async () => Number((await gw.database.db('audit_events').max({ m: 'id' }))[0].m ?? 0);

/** One sign-in through the demo agency; screenshots of every stage when `shots` names a folder. */
async function signIn(level: 'substantial' | 'high', n: number, o: { lang: 'en' | 'fr'; width: number; shots?: string }): Promise<Run> {
  const nationalId = `BC${level === 'high' ? 'H' : 'S'}${String(seed).padStart(3, '0')}${String(n).padStart(4, '0')}${o.shots ? o.lang.toUpperCase() + o.width : ''}`;
  await gw.enroll(nationalId, photo);
  const context = await browser.newContext({
    locale: o.lang === 'fr' ? 'fr-FR' : 'en-GB', deviceScaleFactor: 1,
    viewport: o.width <= 400 ? { width: o.width, height: 640 } : { width: o.width, height: 800 },
  });
  // Every sign-in its own camera noise (the same bytes in two runs would be a replay).
  await useCanvasCamera(context, followingThePage(citizen.camera(rng(seed * 100_003 + ++cameras))));
  if (o.shots) {
    let last = '';
    await context.exposeBinding('__benchState', (_s, state: string) => { if (state !== last) { last = state; void shot(`state-${state}`); } });
    // A string, not a function: tsx (esbuild, keepNames) would wrap a function's inner names in a
    // helper the page does not have.
    await context.addInitScript(`(() => {
      const hook = function () {
        const form = document.getElementById('sign-in-form');
        const challenge = document.getElementById('challenge');
        if (!form) return;
        const report = function () {
          window.__benchState((form.getAttribute('data-state') || '') + (challenge && challenge.getAttribute('data-action') ? '-action' : ''));
        };
        const watch = new MutationObserver(report);
        watch.observe(form, { attributes: true, attributeFilter: ['data-state'] });
        if (challenge) watch.observe(challenge, { attributes: true, attributeFilter: ['data-action'] });
      };
      if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', hook); else hook();
    })();`);
  }
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  let k = 0;
  let shooting = Promise.resolve();
  const shot = (stage: string) => {
    if (!o.shots) return shooting;
    const file = join(o.shots, `${String(++k).padStart(2, '0')}-${stage}.png`);
    return (shooting = shooting.then(() => page.screenshot({ path: file, animations: 'disabled' }).then(() => undefined, () => undefined)));
  };
  const before = await lastDecision();
  let end = 'timeout';
  let ms: number | undefined;
  let restarts = 0;
  try {
    await page.goto(`${gw.issuer}/demo`);
    await shot('demo-agency');
    await page.click(`a[href="/demo/login?level=${level}"]`);
    await page.waitForSelector('#sign-in-form', { timeout: 60_000 });
    await shot('sign-in-page');
    await page.fill('#nationalId', nationalId);
    const t0 = Date.now();
    await page.click('#camera-start');
    const deadline = t0 + 90_000;
    while (Date.now() < deadline) {
      const now = await page.evaluate(() => ({
        consent: !!document.querySelector('button[name="decision"][value="allow"]'),
        state: document.getElementById('sign-in-form')?.getAttribute('data-state') ?? null,
        canStart: !!(document.getElementById('camera-start') as HTMLButtonElement | null)?.offsetParent,
      })).catch(() => undefined);
      if (now?.consent) { end = 'consent'; break; }
      if (now && (now.state === 'retry' || now.state === 'rejected') && now.canStart) {
        // The citizen presses "Try again" (at most twice): the sign-in goes on, not on the first try.
        if (restarts >= 2) { end = now.state; break; }
        restarts++;
        await page.waitForTimeout(1000);
        await page.click('#camera-start').catch(() => undefined);
      }
      if (now?.state === 'rejected' && !now.canStart) { end = 'rejected'; break; }
      await page.waitForTimeout(100);
    }
    if (end === 'consent') {
      await shot('consent');
      await page.click('button[name="decision"][value="allow"]');
      await page.waitForURL(`${gw.issuer}/demo/callback**`, { timeout: 60_000 });
      ms = Date.now() - t0;
      end = 'agency';
      await page.waitForSelector('table');
      await shot('agency-result');
    }
  } catch (err) {
    end = `error: ${(err as Error).message.split('\n')[0]}`;
  }
  await shooting;
  await context.close();
  const decided = await decisionsSince(before);
  return {
    level, end, ms, firstTry: end === 'agency' && restarts === 0, firstCapture: decided[0]?.status === 'verified',
    stepUp: decided.some((d) => d.code === 'challenge_required'),
    decisions: decided.map((d) => `${d.status}${d.code ? ` ${d.code}` : ''}${d.check ? ` (${d.check}${d.reason ? `: ${d.reason}` : ''})` : ''}${d.risk && d.risk !== 'allow' ? ` risk ${d.risk}` : ''}`),
  };
}

let cameras = 0;
const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : null; };
const report: Record<string, unknown> = {};
try {
  for (const level of levels) {
    const done: Run[] = [];
    for (let n = 0; n < runs; n++) {
      const run = await signIn(level, n, { lang: 'en', width: 412 });
      done.push(run);
      log(`${level} ${n + 1}/${runs}: ${run.end}${run.ms ? ` in ${run.ms} ms` : ''}${run.firstTry ? '' : ' (not first try)'} — ${run.decisions.join('; ')}`);
    }
    const times = done.filter((r) => r.ms !== undefined).map((r) => r.ms!);
    const failures: Record<string, number> = {};
    for (const r of done) for (const d of r.decisions) if (!d.startsWith('verified')) failures[d] = (failures[d] ?? 0) + 1;
    report[level] = {
      runs: done.length, firstTry: done.filter((r) => r.firstTry).length, firstTryShare: done.filter((r) => r.firstTry).length / done.length,
      firstCaptureShare: done.filter((r) => r.firstCapture).length / done.length, stepUps: done.filter((r) => r.stepUp).length,
      signedIn: times.length, medianMs: pct(times, 0.5), p90Ms: pct(times, 0.9), failures,
    };
  }
  const screenshots: string[] = [];
  if (!values['no-shots']) {
    rmSync(shotsDir, { recursive: true, force: true });
    for (const level of levels) {
      for (const lang of ['en', 'fr'] as const) {
        for (const width of [360, 1280]) {
          const dir = join(shotsDir, `${level}-${lang}-${width}`);
          mkdirSync(dir, { recursive: true });
          const run = await signIn(level, 0, { lang, width, shots: dir });
          log(`screenshots ${level} ${lang} ${width}: ${run.end} — ${run.decisions.join("; ")}`);
          screenshots.push(dir);
        }
      }
    }
  }
  report.screenshots = screenshots;
} finally {
  await browser.close();
  await gw.close();
}
process.stdout.write(`${JSON.stringify({ runs, seed, ...report })}\n`);
process.exit(0);

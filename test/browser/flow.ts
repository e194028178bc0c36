// The browser tests' shared steps: a gateway with the demo agency plus a Chromium per test, the
// sign-in page's stable contract (ids, data-state), driving a sign-in to its end, and the audit.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect } from '@jest/globals';
import type { Page } from 'playwright-core';
import { launchChromium, stageShots, waitForCamera, type LaunchOptions, type TestBrowser } from '../helpers/chromium.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { cameraDir } from '../helpers/mjpeg.ts';

export { acrHigh, acrSubstantial } from '../helpers/agency.ts';

/** The sign-in form's states (data-state on #sign-in-form), as the page contract lists them. */
export const pageStates = ['idle', 'camera', 'capturing', 'challenge', 'submitting', 'verified', 'retry', 'rejected', 'fallback'] as const;

/** One test's world: its gateway (demo agency on), its browser, its screenshots and what the page did. */
export type Scenario = {
  gw: TestGateway;
  tb: TestBrowser;
  page: Page;
  /** Every data-state the sign-in form took, in order (repeats collapsed). */
  states: string[];
  /** Whether Chromium was given a (fake) camera. */
  hasCamera: boolean;
  /** What each enumerateDevices() call of the pages answered (device kinds), for diagnosis. */
  enumerations: string[];
  shot(stage: string): Promise<void>;
  close(): Promise<void>;
};

/**
 * The per-file lifecycle of a browser test: a temporary folder for camera files (`dir()`), and
 * `open()`, an openScenario whose browser and gateway are closed after each test.
 */
export function useScenarios() {
  let files: ReturnType<typeof cameraDir> | undefined;
  let current: Scenario | undefined;
  beforeAll(() => { files = cameraDir(); });
  afterEach(async () => { await current?.close(); current = undefined; });
  afterAll(() => files?.remove());
  return {
    dir: (): string => files!.dir,
    async open(...args: Parameters<typeof openScenario>): Promise<Scenario> {
      current = await openScenario(...args);
      return current;
    },
  };
}

/**
 * Starts a gateway (real engine and database, demo agency enabled), enrolls the citizens, launches
 * Chromium, and records each data-state change of the sign-in form with a screenshot of it.
 */
export async function openScenario(test: string, options: LaunchOptions & {
  citizens?: Array<[nationalId: string, photo: Uint8Array]>;
  config?: Record<string, unknown>;
  /** The issuer's host (`localhost` for passkeys, whose RP ID cannot be an IP). */
  host?: 'localhost' | '127.0.0.1';
}): Promise<Scenario> {
  const gw = await startTestGateway({ demo: { enabled: true }, ...options.config }, { host: options.host });
  let tb: TestBrowser | undefined;
  try {
    for (const [id, photo] of options.citizens ?? []) await gw.enroll(id, photo);
    tb = await launchChromium(options);
  } catch (err) {
    await gw.close();
    throw err;
  }
  const { page } = tb;
  const shots = stageShots(test);
  const states: string[] = [];
  const enumerations: string[] = [];
  await tb.context.exposeBinding('__facegateDevices', (_source, kinds: string) => { enumerations.push(kinds); });
  let pending = Promise.resolve();
  const shot = (stage: string) => (pending = pending.then(() => shots.shot(page, stage)));
  await tb.context.exposeBinding('__facegateState', (_source, state: string) => {
    if (states.at(-1) === state) return;
    states.push(state);
    void shot(`state-${state}`);
  });
  await tb.context.addInitScript(() => {
    const report = (window as unknown as { __facegateState(s: string): void }).__facegateState;
    const hook = () => {
      const form = document.getElementById('sign-in-form');
      if (!form) return;
      report(form.getAttribute('data-state') ?? '(none)');
      new MutationObserver(() => report(form.getAttribute('data-state') ?? '(none)'))
        .observe(form, { attributes: true, attributeFilter: ['data-state'] });
    };
    const media = navigator.mediaDevices;
    if (media?.enumerateDevices) {
      const original = media.enumerateDevices.bind(media);
      media.enumerateDevices = () => original().then((list) => {
        (window as unknown as { __facegateDevices(k: string): void }).__facegateDevices(`${location.pathname}: ${list.map((d) => d.kind).join(',') || '(none)'}`);
        return list;
      });
    }
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', hook); else hook();
  });
  return {
    gw, tb, page, states, shot, hasCamera: Boolean(options.camera || options.canvas), enumerations,
    async close() {
      await pending.catch(() => undefined);
      // Beside the screenshots: what the page went through and what the server decided, each time.
      const decisions = await decidedCaptures(gw).catch(() => []);
      writeFileSync(join(shots.dir, 'story.json'), `${JSON.stringify({ states, enumerations, problems: tb.problems, decisions }, null, 2)}\n`);
      await tb.close();
      await gw.close();
    },
  };
}

/** Opens the demo agency and follows its sign-in link for `level` to Facegate's sign-in page. */
export async function openSignInFromDemo(s: Scenario, level: 'substantial' | 'high'): Promise<void> {
  await s.page.goto(`${s.gw.issuer}/demo`);
  if (s.hasCamera) await waitForCamera(s.page);
  await s.shot('demo-agency');
  await s.page.click(`a[href="/demo/login?level=${level}"]`);
  await s.page.waitForSelector('#sign-in-form', { timeout: 60_000 });
  await s.shot('sign-in-page');
  if (s.hasCamera && await s.page.getAttribute('#sign-in-form', 'data-state') === 'fallback') {
    // The page decided on load that there is no camera: say what Chromium enumerates now.
    const now = await s.page.evaluate(async () => (await navigator.mediaDevices.enumerateDevices()).map((d) => d.kind).join(','));
    throw new Error(`the sign-in page showed the no-camera fallback on load although Chromium has a fake camera (devices now: ${now}; enumerations seen: ${s.enumerations.join(' | ')})`);
  }
}

/** Types the national ID and starts the camera flow (capture is automatic from there). */
export async function startCamera(s: Scenario, nationalId: string): Promise<void> {
  await s.page.fill('#nationalId', nationalId);
  await s.shot('id-typed');
  await s.page.click('#camera-start');
}

/** What the page shows at one moment (read in one go; undefined while a navigation is under way). */
type Snapshot = { url: string; state: string | null; consent: boolean; canStart: boolean; status: string; codes: string[] };

async function snapshot(page: Page): Promise<Snapshot | undefined> {
  return page.evaluate(() => {
    const form = document.getElementById('sign-in-form');
    const start = document.getElementById('camera-start') as HTMLButtonElement | null;
    const status = document.getElementById('status');
    return {
      url: location.href,
      state: form ? form.getAttribute('data-state') : null,
      consent: !!document.querySelector('button[name="decision"][value="allow"]'),
      canStart: !!start && !start.disabled && start.offsetParent !== null,
      status: status ? (status.textContent ?? '').replace(/\s+/g, ' ').trim() : '',
      codes: status ? [...status.querySelectorAll('[data-code]')].map((e) => e.getAttribute('data-code') ?? '') : [],
    };
  }).catch(() => undefined);
}

/** How a driven sign-in ended: at the consent page, refused for good, retries used up, or the deadline. */
export type Ending = { end: 'consent' | 'rejected' | 'gave_up' | 'timeout'; last?: Snapshot; restarts: number; codes: string[] };

/**
 * Waits while the page captures and submits on its own, until the consent page appears or the form
 * says `rejected` with nothing more on offer. When the page stops on `retry` (or `rejected` with
 * attempts left) and offers its "Try again" button (#camera-start), the citizen presses it, at most
 * `restarts` times. Never judges by elapsed time: the deadline only ends a sign-in that would
 * otherwise go on for ever, and `stallMs` is how long a citizen reads the message before retrying.
 */
export async function driveToEnd(s: Scenario, options: { deadlineMs?: number; restarts?: number; stallMs?: number } = {}): Promise<Ending> {
  const { deadlineMs = 300_000, restarts: maxRestarts = 6, stallMs = 2_000 } = options;
  const deadline = Date.now() + deadlineMs;
  const codes = new Set<string>();
  let restarts = 0;
  let last: Snapshot | undefined;
  let sameSince = Date.now();
  let seen = s.states.length;
  while (Date.now() < deadline) {
    const now = await snapshot(s.page);
    if (now) {
      now.codes.forEach((c) => codes.add(c));
      if (now.consent) return { end: 'consent', last: now, restarts, codes: [...codes] };
      if (now.state === 'rejected' && !now.canStart) return { end: 'rejected', last: now, restarts, codes: [...codes] };
      if (!last || now.state !== last.state || now.status !== last.status || s.states.length !== seen) {
        sameSince = Date.now();
        seen = s.states.length;
      }
      last = now;
      const waiting = now.state === 'retry' || now.state === 'rejected' || now.state === 'idle';
      if (waiting && now.canStart && Date.now() - sameSince > stallMs) {
        if (restarts >= maxRestarts) return { end: 'gave_up', last: now, restarts, codes: [...codes] };
        restarts += 1;
        await s.page.click('#camera-start').catch(() => undefined);
        sameSince = Date.now();
      }
    }
    await s.page.waitForTimeout(500);
  }
  return { end: 'timeout', last, restarts, codes: [...codes] };
}

/** On the consent page: allows, follows back to the demo agency and reads the ID token it shows. */
export async function allowAndReadClaims(s: Scenario): Promise<Record<string, string>> {
  await s.page.click('button[name="decision"][value="allow"]');
  await s.page.waitForURL(`${s.gw.issuer}/demo/callback**`, { timeout: 60_000 });
  await s.page.waitForSelector('table');
  await s.shot('agency-result');
  return shownClaims(s.page);
}

/** The demo agency's result page as a map: the "ID token claims" table, name → shown value. */
export async function shownClaims(page: Page): Promise<Record<string, string>> {
  return page.evaluate(() => {
    const table = [...document.querySelectorAll('table')].find((t) => /ID token claims/i.test(t.caption?.textContent ?? ''));
    const out: Record<string, string> = {};
    for (const row of table ? [...table.querySelectorAll('tbody tr')] : []) {
      const name = row.querySelector('th')?.textContent?.trim();
      if (name) out[name] = row.querySelector('td')?.textContent?.trim() ?? '';
    }
    return out;
  });
}

/** One `capture.decided` audit row: status and code, and the checks the decision ran. */
export type Decided = {
  outcome: string; code: string | null; status: string;
  checks: Array<{ name: string; outcome: string; code?: string; reason?: string; score?: number; threshold?: number; measured?: unknown }>;
  /** The risk rule's action and reasons (e.g. a step-up to the challenge), when recorded. */
  risk?: { action: string; reasons: string[] };
};

/** The `capture.decided` rows of the audit trail, oldest first (details parsed). */
export async function decidedCaptures(gw: TestGateway): Promise<Decided[]> {
  const rows = await gw.database.db('audit_events').where({ type: 'capture.decided' }).orderBy('id', 'asc');
  return rows.map((r: { outcome: string; code: string | null; details: unknown }) => {
    const details = (typeof r.details === 'string' ? JSON.parse(r.details) : r.details) as { status: string; checks?: Decided['checks']; risk?: Decided['risk'] };
    return { outcome: r.outcome, code: r.code, status: details.status, checks: details.checks ?? [], risk: details.risk };
  });
}

/** The check that did not pass (the decision stops there), or undefined when all passed. */
export const failedCheck = (d: Decided) => d.checks.find((c) => c.outcome !== 'pass');

/**
 * Expects the sign-in to have ended as `expected` (and the page to have used only the contract's
 * states); otherwise fails with its story: the states the page took, its last status text and
 * codes, and each audit decision (status, failing check, scores, risk reasons).
 */
export async function expectEnding(s: Scenario, ending: Ending, expected: Ending['end']): Promise<void> {
  // Only the states of the page contract, whatever happened.
  expect(s.states.filter((x) => !(pageStates as readonly string[]).includes(x))).toEqual([]);
  if (ending.end === expected) return;
  const decisions = (await decidedCaptures(s.gw)).map((d) => {
    const failed = failedCheck(d);
    const scores = d.checks.filter((c) => typeof c.score === 'number').map((c) => `${c.name} ${c.score!.toFixed(3)}/${c.threshold}`);
    const why = failed ? ` ${failed.reason ?? ''}${failed.name === 'challenge' ? ` ${JSON.stringify(failed.measured)}` : ''}` : '';
    return `${d.status} ${d.code ?? ''}${failed ? ` (${failed.name}: ${failed.outcome} ${failed.code ?? ''}${why})` : ''}` +
      `${scores.length ? ` [${scores.join(', ')}]` : ''}${d.risk?.reasons.length ? ` risk ${d.risk.action}: ${d.risk.reasons.join(', ')}` : ''}`;
  });
  throw new Error([
    `the sign-in ended "${ending.end}", expected "${expected}" (after ${ending.restarts} retries by the citizen)`,
    `page states: ${s.states.join(' → ')}`,
    `last status: ${ending.last?.status ?? '(none)'}; codes seen: ${ending.codes.join(', ') || '(none)'}`,
    `audit decisions: ${decisions.join('; ') || '(none)'}`,
  ].join('\n'));
}

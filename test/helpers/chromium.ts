// Debian's Chromium driven by playwright-core for the browser tests: a fresh profile per launch, an
// optional fake camera (an .mjpeg file), page error and CSP watch, and a screenshot per stage.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from '@jest/globals';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { useCanvasCamera, type CanvasCamera } from './canvas-camera.ts';
import { baseArgs, chromiumPath } from './chromium-path.ts';

export { chromiumPath };
import { hasData, dataDir } from './data.ts';

export const hasChromium = existsSync(chromiumPath);
/** `FACEGATE_BROWSER_TESTS=required` (CI): a missing Chromium fails the browser tests instead of skipping them. */
export const browserTestsRequired = process.env.FACEGATE_BROWSER_TESTS === 'required';
/** Screenshots of every stage, one folder per test (ignored by git). */
export const artifactsDir = resolve(process.cwd(), 'test-artifacts', 'browser');

const missing = `Chromium is not installed at ${chromiumPath}: the browser tests cannot run. Install it with ` +
  '`sudo apt-get install -y chromium` (Debian/Ubuntu)';

/**
 * describe() for tests that drive a real browser over the shared photos. Without Chromium: fails
 * when FACEGATE_BROWSER_TESTS=required, else skips with a loud warning naming the install command.
 * Without the shared photos: skips, saying why (as describeWithData).
 */
export const describeWithBrowser = ((name: string, fn: () => void) => {
  if (!hasChromium && browserTestsRequired) {
    return describe(name, () => {
      it('needs Chromium (FACEGATE_BROWSER_TESTS=required)', () => { throw new Error(`${missing}.`); });
    });
  }
  if (!hasChromium) {
    const why = `${missing}, then run the tests again. Skipped "${name}".`;
    console.warn(`\n${'!'.repeat(100)}\n!! ${why}\n${'!'.repeat(100)}\n`);
    return describe.skip(`${name} [${why}]`, fn);
  }
  if (!hasData) {
    const why = `skipped "${name}": it needs the shared face photos, and there are none at ${dataDir} (set FACEGATE_TEST_DATA)`;
    console.warn(why);
    return describe.skip(`${name} [${why}]`, fn);
  }
  return describe(name, fn);
}) as typeof describe;

/** What a launch needs: the fake camera file (none: no camera device at all) and the permission. */
export type LaunchOptions = {
  /** An .mjpeg played (looped) as the only webcam; omitted: Chromium has no camera. */
  camera?: string;
  /** With a camera: `granted` (the default) answers the permission prompt yes, `denied` no. */
  cameraPermission?: 'granted' | 'denied';
  /** Accept-Language of the browser (default `en-GB`). */
  locale?: string;
  /** The window size (default 412×915, a phone). */
  viewport?: { width: number; height: number };
  /**
   * A camera the test draws into (canvasCamera()): getUserMedia answers a canvas's captureStream,
   * and each picture the page takes from the preview asks for the next frame. Instead of `camera`.
   */
  canvas?: CanvasCamera;
};

export type { CanvasCamera } from './canvas-camera.ts';

/** A browser for one test: its page, what went wrong on it so far, and `close()`. */
export type TestBrowser = {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Console errors, uncaught page errors and CSP violations seen on any page so far. */
  problems: string[];
  close(): Promise<void>;
};



/**
 * Launches Chromium with a fresh profile (playwright's launch makes a temp user-data-dir per launch
 * and deletes it on close) and one page. The fake camera flags are given only with `camera`.
 */
export async function launchChromium(options: LaunchOptions = {}): Promise<TestBrowser> {
  const { camera, cameraPermission = 'granted', locale = 'en-GB', viewport = { width: 412, height: 915 } } = options;
  const args = [...baseArgs];
  if (camera) {
    args.push('--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${camera}`);
    // The fake UI answers every media prompt yes; a refusal needs the prompt itself denied.
    args.push(cameraPermission === 'granted' ? '--use-fake-ui-for-media-stream' : '--deny-permission-prompts');
  }
  const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args, timeout: 60_000 });
  const problems: string[] = [];
  const grantCamera = Boolean(camera) && cameraPermission === 'granted';
  const { context, page } = await openContext(browser, { locale, viewport, canvas: options.canvas, grantCamera }, problems);
  return {
    browser, context, page, problems,
    async close() { await browser.close().catch(() => undefined); },
  };
}

/**
 * Another device in the same Chromium (its own cookies and storage, e.g. the phone of a handoff):
 * a new context with its window size, language and canvas camera (none: no camera), whose page
 * problems are added to `tb.problems`.
 */
export async function openDevice(
  tb: TestBrowser, options: Pick<LaunchOptions, 'locale' | 'viewport' | 'canvas'> = {},
): Promise<{ context: BrowserContext; page: Page }> {
  return openContext(tb.browser, { locale: 'en-GB', viewport: { width: 412, height: 915 }, ...options }, tb.problems);
}

async function openContext(
  browser: Browser, options: Pick<LaunchOptions, 'locale' | 'viewport' | 'canvas'> & { grantCamera?: boolean }, problems: string[],
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ locale: options.locale, viewport: options.viewport, deviceScaleFactor: 1 });
  if (options.canvas) await useCanvasCamera(context, options.canvas);
  if (options.grantCamera) await context.grantPermissions(['camera']);
  // CSP violations also reach the console, but record them from the event too (init scripts run
  // through the DevTools protocol, outside the page's CSP).
  await context.exposeBinding('__facegateCsp', (_source, text: string) => { problems.push(`csp: ${text}`); });
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      (window as unknown as { __facegateCsp(t: string): void }).__facegateCsp(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile}:${e.lineNumber}`);
    });
  });
  context.on('page', (p) => watch(p, problems));
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  return { context, page };
}

/**
 * Screenshots of whole pages at 360 and 1280 px wide into test-artifacts/<folder>/<name>-<width>.png
 * (the folder is emptied before the first); the page gets its window size back afterwards.
 */
export function widthShots(folder: string): (page: Page, name: string) => Promise<void> {
  const dir = resolve(process.cwd(), 'test-artifacts', folder);
  let emptied = false;
  return async (page, name) => {
    if (!emptied) {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      emptied = true;
    }
    const before = page.viewportSize();
    for (const width of [360, 1280]) {
      await page.setViewportSize({ width, height: 800 });
      await page.screenshot({ path: join(dir, `${name}-${width}.png`), fullPage: true, animations: 'disabled' });
    }
    if (before) await page.setViewportSize(before);
  };
}

/** The browser's own request for /favicon.ico (no page asks for it) is not the page's error. */
const browserNoise = (url: string) => new URL(url, 'http://x').pathname === '/favicon.ico';

function watch(page: Page, problems: string[]): void {
  page.on('console', (m) => {
    if (m.type() === 'error' && !browserNoise(m.location().url)) problems.push(`console: ${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
}

/**
 * Screenshots for one test into test-artifacts/browser/<test>/<nn-stage>.png (the folder is emptied
 * first). `shot(page, stage)` saves the full page; the number keeps the stages in order.
 */
export function stageShots(test: string): { dir: string; shot(page: Page, stage: string): Promise<void> } {
  const dir = join(artifactsDir, test);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  let n = 0;
  return {
    dir,
    async shot(page, stage) {
      n += 1;
      const file = join(dir, `${String(n).padStart(2, '0')}-${stage.replace(/[^a-z0-9-]+/gi, '-')}.png`);
      await page.screenshot({ path: file, fullPage: true, animations: 'disabled', timeout: 30_000 }).catch((err: Error) => {
        console.warn(`screenshot ${file} failed: ${err.message}`);
      });
    },
  };
}

/**
 * Waits until the page's origin can see a camera (the fake device is enumerated), so a page that
 * checks for a camera on load does not run before Chromium has set its fake device up.
 */
export async function waitForCamera(page: Page, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const kinds = await page.evaluate(async () => (await navigator.mediaDevices.enumerateDevices()).map((d) => d.kind)).catch((): string[] => []);
    if (kinds.includes('videoinput')) return;
    await page.waitForTimeout(250);
  }
  throw new Error('Chromium offers no camera: the fake device (--use-file-for-fake-video-capture) did not come up');
}

// After "Start the camera" on a sign-in page (the desktop's, or a phone's of a handoff): waits for
// what follows the face, pressing "Try again" as a citizen does when a capture asks to retry.
import type { Page } from 'playwright-core';

/**
 * Waits until `next` (a selector) is on `page`; when the sign-in form stops on `retry` (or
 * `rejected` with its "Try again" button shown), presses it, at most `retries` times.
 */
export async function faceUntil(page: Page, next: string, options: { retries?: number; timeoutMs?: number } = {}): Promise<void> {
  const { retries = 4, timeoutMs = 240_000 } = options;
  const deadline = Date.now() + timeoutMs;
  const seen: string[] = [];
  for (let tried = 0; Date.now() < deadline;) {
    if (await page.locator(next).count().catch(() => 0)) return;
    const state = await page.evaluate(() => {
      const start = document.getElementById('camera-start') as HTMLButtonElement | null;
      const form = document.getElementById('sign-in-form');
      return { state: form?.getAttribute('data-state') ?? '', canStart: !!start && !start.disabled && start.offsetParent !== null };
    }).catch(() => undefined);
    if (state && seen.at(-1) !== state.state) seen.push(state.state);
    if (await page.locator(next).count().catch(() => 0)) return; // what it waits for may be that very state
    if (state && ['retry', 'rejected'].includes(state.state) && state.canStart && tried < retries) {
      tried += 1;
      await page.click('#camera-start').catch(() => undefined);
    }
    await page.waitForTimeout(1_000);
  }
  throw new Error(`after the face, ${next} did not show (the form's states: ${seen.join(' → ') || '(none)'})`);
}

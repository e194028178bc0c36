// Where Chromium is and the flags it runs with, for the browser tests and `npm run bench:capture` (no jest here).

/**
 * Where Debian installs Chromium (`apt-get install chromium`); no browser is downloaded.
 * FACEGATE_CHROMIUM names another Chromium binary (a different distribution's path).
 */
export const chromiumPath = process.env.FACEGATE_CHROMIUM || '/usr/bin/chromium';
// playwright adds --headless (headless: true) and its own fresh --user-data-dir.
export const baseArgs = [
  '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
  '--disable-component-update', '--disable-quic', '--no-first-run', '--disable-sync', '--disable-default-apps',
  '--disable-extensions', '--mute-audio',
];

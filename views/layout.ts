// The document shell every page shares: head, skip link, header, main, footer, deferred scripts.
// Imports only ./html.ts; no inline script or style, so the page runs under the strict CSP.

import { html, type SafeHtml } from './html.ts';

/** The name shown in the header and in every page title. */
export const serviceName = 'Facegate — national sign-in';

/** What `renderLayout` needs. */
export interface LayoutProps {
  /** The page's own title; the document title becomes "<title> — Facegate". */
  title: string;
  /** The page content, already rendered with `html`. */
  body: SafeHtml;
  /** File names under `views/static/` (served at `/static/<file>`), loaded with `defer` in order. */
  scripts?: string[];
  /** Replaces the header's service name (the demo agency uses its own). */
  headerName?: string;
  /** Replaces the footer line. */
  footerText?: string;
}

const defaultFooter = 'Facegate is the national sign-in service. It checks your face against the citizen registry.';

/** Renders a complete HTML document around `body`. */
export function renderLayout({ title, body, scripts = [], headerName = serviceName, footerText = defaultFooter }: LayoutProps): string {
  const scriptTags = scripts.map((file) => html`
  <script src="/static/${file}" defer></script>`);
  return html`<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="referrer" content="no-referrer">
  <meta name="robots" content="noindex, nofollow">
  <title>${title} — Facegate</title>
  <link rel="stylesheet" href="/static/facegate.css">${scriptTags}
</head>
<body>
  <a class="skip-link" href="#main">Skip to main content</a>
  <header class="site-header">
    <p class="site-name">${headerName}</p>
  </header>
  <main id="main" tabindex="-1">
${body}
  </main>
  <footer class="site-footer">
    <p>${footerText}</p>
  </footer>
</body>
</html>
`.value;
}

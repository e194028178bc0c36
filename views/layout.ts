// The document shell every page shares: head, skip link, header with the language switch, main,
// footer, deferred scripts. No inline script or style, so the page runs under the strict CSP.

import { assetUrl } from './assets.ts';
import { html, raw, safeUrl, type SafeHtml } from './html.ts';
import { languages, messagesOf, type Lang } from './i18n/index.ts';

/** The name shown in the header and in every page title (English; see `messagesOf(lang).layout`). */
export const serviceName = messagesOf('en').layout.serviceName;

/** What `renderLayout` needs. */
export interface LayoutProps {
  /** The page's own title; the document title becomes "<title> — Facegate". */
  title: string;
  /** The page content, already rendered with `html`. */
  body: SafeHtml;
  /** File names under `views/static/` (served hashed at `/static/<name>.<hash>.<ext>`), loaded with `defer` in order. */
  scripts?: string[];
  /** Replaces the header's service name (the demo agency uses its own). */
  headerName?: string;
  /** Replaces the footer line. */
  footerText?: string;
  /** The page language (`<html lang>`); English when absent. */
  lang?: Lang;
  /**
   * Shows the language switch: links to `<languagePath>?lang=<code>`, the page's own GET address
   * (not the current URL, which may be the address a form posted to).
   */
  languagePath?: string;
  /** JSON for the page script, in a `<script type="application/json" id="messages">` block (never executed). */
  data?: unknown;
}

/** JSON safe inside a script element: `<`, `>`, `&` and line separators escaped. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function renderSwitch(lang: Lang, path: string): SafeHtml {
  const label = messagesOf(lang).layout.language;
  return html`
    <nav class="languages" aria-label="${label}"><ul>${languages.map((code) => html`
      <li><a href="${safeUrl(`${path}?lang=${code}`)}" hreflang="${code}" lang="${code}"${code === lang ? html` aria-current="true"` : ''}>${messagesOf(code).languageName}</a></li>`)}
    </ul></nav>`;
}

/** Renders a complete HTML document around `body`. */
export function renderLayout({ title, body, scripts = [], headerName, footerText, lang = 'en', languagePath, data }: LayoutProps): string {
  const m = messagesOf(lang).layout;
  const scriptTags = scripts.map((file) => html`
  <script src="${assetUrl(file)}" defer></script>`);
  const dataTag = data === undefined ? '' : html`
  <script type="application/json" id="messages">${raw(jsonForScript(data))}</script>`;
  return html`<!doctype html>
<html lang="${lang}">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="referrer" content="no-referrer">
  <meta name="robots" content="noindex, nofollow">
  <title>${title} — Facegate</title>
  <link rel="icon" href="${assetUrl('favicon.svg')}" type="image/svg+xml">
  <link rel="stylesheet" href="${assetUrl('facegate.css')}">${dataTag}${scriptTags}
</head>
<body>
  <a class="skip-link" href="#main">${m.skip}</a>
  <header class="site-header">
    <p class="site-name">${headerName ?? m.serviceName}</p>${languagePath ? renderSwitch(lang, languagePath) : ''}
  </header>
  <main id="main" tabindex="-1">
${body}
  </main>
  <footer class="site-footer">
    <p>${footerText ?? m.footer}</p>
  </footer>
</body>
</html>
`.value;
}

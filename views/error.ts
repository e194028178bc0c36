// The error page a citizen sees when sign-in cannot go on: what happened and what to do next.
// Imports only view modules; the code and request id are shown small, for the help desk.

import { html } from './html.ts';
import { messagesOf, type Lang } from './i18n/index.ts';
import { renderLayout } from './layout.ts';

/** What `renderErrorPage` needs. */
export interface ErrorPageProps {
  /** Short heading, e.g. "This sign-in has expired". */
  title: string;
  /** The citizen-facing message (from the error catalogue when there is a code). */
  message: string;
  /** Stable error code, shown for support. */
  code?: string;
  /** Request id, shown for support. */
  requestId?: string;
  /** The page language; English when absent. */
  lang?: Lang;
}

/** Renders the complete error page. */
export function renderErrorPage({ title, message, code, requestId, lang = 'en' }: ErrorPageProps): string {
  const t = messagesOf(lang).error;
  const support = code || requestId
    ? html`
    <p class="support">${t.support}
      ${code ? html`<span>${t.code} <code>${code}</code></span>` : ''}
      ${requestId ? html`<span>${t.reference} <code>${requestId}</code></span>` : ''}
    </p>`
    : '';
  const body = html`
    <h1>${title}</h1>
    <div class="status status--error" role="alert"><p>${message}</p></div>
    <h2>${t.whatToDo}</h2>
    <ul>${t.steps.map((step) => html`
      <li>${step}</li>`)}
    </ul>${support}`;
  return renderLayout({ title, body, lang });
}

// The error page a citizen sees when sign-in cannot go on: what happened and what to do next.
// Imports only view modules; the code and request id are shown small, for the help desk.

import { html } from './html.ts';
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
}

/** Renders the complete error page. */
export function renderErrorPage({ title, message, code, requestId }: ErrorPageProps): string {
  const support = code || requestId
    ? html`
    <p class="support">If you call the help desk, give them this:
      ${code ? html`<span>Code: <code>${code}</code></span>` : ''}
      ${requestId ? html`<span>Reference: <code>${requestId}</code></span>` : ''}
    </p>`
    : '';
  const body = html`
    <h1>${title}</h1>
    <div class="status status--error" role="alert"><p>${message}</p></div>
    <h2>What you can do</h2>
    <ul>
      <li>Go back to the website of the service you were using, and start signing in again.</li>
      <li>If it happens again, wait a few minutes and try once more, or contact that service's help desk.</li>
    </ul>${support}`;
  return renderLayout({ title, body });
}

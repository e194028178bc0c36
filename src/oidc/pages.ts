// The few pages oidc-provider renders itself (errors at the authorization endpoint, RP-initiated
// logout), in the gateway's own look. Imports views and the error catalogue.
import { errorCatalogue, isOutage } from '../shared/errors.ts';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { html, raw, renderErrorPage, renderLayout } from '../../views/index.ts';

/** oidc-provider `renderError`: a citizen-facing page; the OAuth error code is shown for support. */
export async function renderProviderError(ctx: KoaContextWithOIDC, out: { error: string; error_description?: string }, error: Error): Promise<void> {
  ctx.type = 'html';
  // A dependency outage (database, disk): say to try again shortly (provider.ts makes it a 503).
  if (isOutage(error)) {
    ctx.body = renderErrorPage({ title: 'Sign-in could not continue', message: errorCatalogue.service_unavailable.message, code: 'service_unavailable' });
    return;
  }
  ctx.body = renderErrorPage({
    title: 'Sign-in could not continue',
    message: out.error_description
      ? `${out.error_description}. Go back to the service you came from and start again.`
      : 'Go back to the service you came from and start again.',
    code: out.error,
  });
}

/** Logout confirmation: the provider's own hidden form, submitted by our button (no script). */
export async function renderLogout(ctx: KoaContextWithOIDC, form: string): Promise<void> {
  ctx.type = 'html';
  ctx.body = renderLayout({
    title: 'Sign out',
    body: html`
      <h1>Sign out of Facegate?</h1>
      <p>You will need to verify your face again the next time a service asks.</p>
      ${raw(form)}
      <p><button class="button button--primary" type="submit" form="op.logoutForm" name="logout" value="yes">Sign out</button>
      <button class="button" type="submit" form="op.logoutForm">Stay signed in</button></p>`,
  });
}

/** After logout when the agency gave no post_logout_redirect_uri. */
export async function renderLoggedOut(ctx: KoaContextWithOIDC): Promise<void> {
  ctx.type = 'html';
  ctx.body = renderLayout({ title: 'Signed out', body: html`<h1>You are signed out</h1><p>You can close this window.</p>` });
}

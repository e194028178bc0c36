// The demo relying party's pages ("Demo pension office"): start, verified result, error.
// Imports only view modules; the server's demo routes do the OIDC work and pass plain data in.

import { html, safeUrl, type SafeHtml } from './html.ts';
import { renderLayout } from './layout.ts';

const agency = 'Demo pension office';
const demoFooter = 'This is a demonstration agency. It signs in through Facegate like a real one would.';

/** What `renderDemoHome` needs. */
export interface DemoHomeProps {
  issuer: string;
  clientId: string;
  /** One sign-in link per level, e.g. `{ label: 'Sign in (substantial)', href: '/demo/login?level=substantial' }`. */
  levels: { label: string; href: string }[];
  /** The enrolment command to show, e.g. `./bin/facegate registry add --national-id … --photo your-photo.jpg`. */
  enrollHint: string;
  /** The development enrollment page (webcam or photo), when mounted. */
  enrollUrl?: string;
}

/** What `renderDemoResult` needs. */
export interface DemoResultProps {
  /** The verified ID token claims. */
  claims: Record<string, unknown>;
  /** The userinfo response, when the demo fetched it. */
  userinfo?: Record<string, unknown>;
  /** The ID token's protected header (alg, kid, typ). */
  idTokenHeader: Record<string, unknown>;
  /** The checks the demo performed, in words (signature, iss, aud, nonce, …). */
  validation: string[];
}

/** What `renderDemoError` needs: the OAuth error and its description. */
export interface DemoErrorProps {
  error: string;
  description?: string;
}

const dateClaims = new Set(['auth_time', 'iat', 'exp', 'nbf', 'updated_at']);
const firstClaims = ['sub', 'acr', 'amr', 'auth_time', 'given_name', 'family_name', 'birthdate', 'national_id'];

function formatValue(name: string, value: unknown): string {
  if (dateClaims.has(name) && typeof value === 'number') {
    return `${new Date(value * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC')} (${value})`;
  }
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ');
  if (typeof value === 'string') return value;
  return JSON.stringify(value) ?? String(value);
}

function renderTable(caption: string, data: Record<string, unknown>): SafeHtml {
  const keys = [...firstClaims.filter((k) => k in data), ...Object.keys(data).filter((k) => !firstClaims.includes(k))];
  return html`
    <div class="table-wrap"><table>
      <caption>${caption}</caption>
      <thead><tr><th scope="col">Name</th><th scope="col">Value</th></tr></thead>
      <tbody>${keys.map((k) => html`
        <tr><th scope="row"><code>${k}</code></th><td>${formatValue(k, data[k])}</td></tr>`)}
      </tbody>
    </table></div>`;
}

function page(title: string, body: SafeHtml): string {
  return renderLayout({ title, body, headerName: `${agency} (demo agency)`, footerText: demoFooter });
}

/** Renders the demo agency's start page with one sign-in link per level. */
export function renderDemoHome({ issuer, clientId, levels, enrollHint, enrollUrl }: DemoHomeProps): string {
  return page(agency, html`
    <h1>${agency}</h1>
    <p class="lead">This is a demo agency. It shows how a government service signs citizens in with Facegate.</p>
    <p>Sign in at the level the service needs:</p>
    <div class="actions">${levels.map((l) => html`
      <a class="button button--primary" href="${safeUrl(l.href)}">${l.label}</a>`)}
    </div>
    <aside class="box" aria-labelledby="enrol-title">
      <h2 id="enrol-title">Not enrolled yet?</h2>
      ${enrollUrl ? html`<p><a id="enroll-link" class="button button--secondary" href="${safeUrl(enrollUrl)}">Enroll your face with the webcam</a></p>
      <p>Or add yourself to the demo registry from the command line:</p>` : html`<p>Add yourself to the demo registry first. Run:</p>`}
      <pre><code>${enrollHint}</code></pre>
    </aside>
    <dl class="meta">
      <dt>Issuer</dt><dd><code>${issuer}</code></dd>
      <dt>Client ID</dt><dd><code>${clientId}</code></dd>
    </dl>`);
}

/** Renders the demo's result page: verified claims, token header, userinfo and the checks made. */
export function renderDemoResult({ claims, userinfo, idTokenHeader, validation }: DemoResultProps): string {
  return page('Signed in', html`
    <h1>Signed in</h1>
    <div class="status status--success"><p>Facegate verified the citizen. The ID token passed every check below.</p></div>
    <h2>Checks the demo made</h2>
    <ul class="checks">${validation.map((v) => html`<li>${v}</li>`)}</ul>
    ${renderTable('ID token claims', claims)}
    ${renderTable('ID token header', idTokenHeader)}
    ${userinfo ? renderTable('Userinfo', userinfo) : ''}
    <p><a class="button button--secondary" href="/demo">Sign in again</a></p>`);
}

/** Renders the demo's error page (the agency got an error back, or a check failed). */
export function renderDemoError({ error, description }: DemoErrorProps): string {
  return page('Sign-in failed', html`
    <h1>Sign-in failed</h1>
    <div class="status status--error" role="alert">
      <p><code>${error}</code></p>
      ${description ? html`<p>${description}</p>` : ''}
    </div>
    <p><a class="button button--secondary" href="/demo">Try again</a></p>`);
}

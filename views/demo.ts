// The demo relying party's pages ("Demo pension office"): start, verified result, error, in the
// page language (views/i18n `demoAgency`). Imports only view modules; the server's demo routes do
// the OIDC work and pass plain data in.

import type { AssuranceLevel } from './claims.ts';
import { html, safeUrl, type SafeHtml } from './html.ts';
import { fill, messagesOf, type Lang, type Messages } from './i18n/index.ts';
import { renderLayout } from './layout.ts';

/** The agency's registered name: a proper name, the same one the gateway's pages show, in every language. */
const agency = 'Demo pension office';

/** What `renderDemoHome` needs. */
export interface DemoHomeProps {
  issuer: string;
  clientId: string;
  /** One sign-in link per level, e.g. `{ level: 'substantial', href: '/demo/login?level=substantial' }`. */
  levels: { level: AssuranceLevel; href: string }[];
  /** The enrolment command to show, e.g. `./bin/facegate registry add --national-id … --photo your-photo.jpg`. */
  enrollHint: string;
  /** The development enrollment page (webcam or photo), when mounted. */
  enrollUrl?: string;
  /** The page language; English when absent. The home page has the language switch. */
  lang?: Lang;
}

/** A check the demo made on a sign-in, worded by the page (catalogue `demoAgency.checks`). */
export type DemoCheck = keyof Messages['demoAgency']['checks'];

/** What `renderDemoResult` needs. */
export interface DemoResultProps {
  /** The verified ID token claims. */
  claims: Record<string, unknown>;
  /** The userinfo response, when the demo fetched it. */
  userinfo?: Record<string, unknown>;
  /** The ID token's protected header (alg, kid, typ). */
  idTokenHeader: Record<string, unknown>;
  /** The checks the demo performed, in order, with the values their words show (`{requested}`, `{tokenType}`, …). */
  validation: { check: DemoCheck; values?: Record<string, string> }[];
  lang?: Lang;
}

/** What `renderDemoError` needs: the OAuth (or the demo's own) error code and its description. */
export interface DemoErrorProps {
  error: string;
  /** Technical detail (the provider's or the library's English), shown under the citizen's words. */
  description?: string;
  lang?: Lang;
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

function renderTable(t: Messages['demoAgency'], caption: string, data: Record<string, unknown>): SafeHtml {
  const keys = [...firstClaims.filter((k) => k in data), ...Object.keys(data).filter((k) => !firstClaims.includes(k))];
  return html`
    <div class="table-wrap"><table>
      <caption>${caption}</caption>
      <thead><tr><th scope="col">${t.name}</th><th scope="col">${t.value}</th></tr></thead>
      <tbody>${keys.map((k) => html`
        <tr><th scope="row"><code>${k}</code></th><td>${formatValue(k, data[k])}</td></tr>`)}
      </tbody>
    </table></div>`;
}

function page(lang: Lang, title: string, body: SafeHtml, languagePath?: string): string {
  const t = messagesOf(lang).demoAgency;
  return renderLayout({ title, body, lang, languagePath, headerName: fill(t.header, { agency }), footerText: t.footer });
}

/** Renders the demo agency's start page with one sign-in link per level and the language switch. */
export function renderDemoHome({ issuer, clientId, levels, enrollHint, enrollUrl, lang = 'en' }: DemoHomeProps): string {
  const t = messagesOf(lang).demoAgency;
  return page(lang, agency, html`
    <h1>${agency}</h1>
    <p class="lead">${t.lead}</p>
    <p>${t.chooseLevel}</p>
    <div class="actions">${levels.map((l) => html`
      <a class="button button--primary" href="${safeUrl(l.href)}">${t.levels[l.level]}</a>`)}
    </div>
    <aside class="box" aria-labelledby="enrol-title">
      <h2 id="enrol-title">${t.notEnrolled}</h2>
      ${enrollUrl ? html`<p><a id="enroll-link" class="button button--secondary" href="${safeUrl(enrollUrl)}">${t.enrollLink}</a></p>
      <p>${t.orCommandLine}</p>` : html`<p>${t.commandLine}</p>`}
      <pre><code>${enrollHint}</code></pre>
    </aside>
    <dl class="meta">
      <dt>${t.issuer}</dt><dd><code>${issuer}</code></dd>
      <dt>${t.clientId}</dt><dd><code>${clientId}</code></dd>
    </dl>`, '/demo');
}

/** Renders the demo's result page: verified claims, token header, userinfo and the checks made. */
export function renderDemoResult({ claims, userinfo, idTokenHeader, validation, lang = 'en' }: DemoResultProps): string {
  const t = messagesOf(lang).demoAgency;
  return page(lang, t.signedIn, html`
    <h1>${t.signedIn}</h1>
    <div class="status status--success"><p>${t.verified}</p></div>
    <h2>${t.checksTitle}</h2>
    <ul class="checks">${validation.map((v) => html`<li data-check="${v.check}">${fill(t.checks[v.check], v.values ?? {})}</li>`)}</ul>
    ${renderTable(t, t.claimsTable, claims)}
    ${renderTable(t, t.headerTable, idTokenHeader)}
    ${userinfo ? renderTable(t, t.userinfoTable, userinfo) : ''}
    <p><a class="button button--secondary" href="/demo">${t.signInAgain}</a></p>`);
}

/** Renders the demo's error page (the agency got an error back, or a check failed). */
export function renderDemoError({ error, description, lang = 'en' }: DemoErrorProps): string {
  const t = messagesOf(lang).demoAgency;
  const words = t.errors[error];
  return page(lang, t.failed, html`
    <h1>${t.failed}</h1>
    <div class="status status--error" role="alert">
      <p><code>${error}</code></p>
      ${words ? html`<p>${words}</p>` : ''}
      ${description ? html`<p${lang === 'en' ? '' : html` lang="en"`}>${description}</p>` : ''}
    </div>
    <p><a class="button button--secondary" href="/demo">${t.tryAgain}</a></p>`);
}

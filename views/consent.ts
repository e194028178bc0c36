// The consent page: which details the agency will receive, and the citizen's allow/deny decision.
// A plain form post (no JavaScript); imports only view modules.

import { describeLevel, type AssuranceLevel } from './claims.ts';
import { html, safeUrl } from './html.ts';
import { fill, messagesOf, type Lang } from './i18n/index.ts';
import { renderLayout } from './layout.ts';

export { claimLabels } from './claims.ts';

/** What `renderConsent` needs. */
export interface ConsentProps {
  uid: string;
  clientName: string;
  /** The claims to share, each with its human label (see `claimLabels`). */
  claims: { name: string; label: string }[];
  /** Claims to share inside verified_claims (OpenID Connect for Identity Assurance), labelled the same way. */
  verifiedClaims?: { name: string; label: string }[];
  /** RFC 9396 authorization details the citizen agrees to, each described in words by its type. */
  authorizationDetails?: { type: string; [member: string]: unknown }[];
  acr: AssuranceLevel;
  csrf: string;
  /** Where the decision is posted: `decision` = `allow` | `deny`, plus `csrf`. */
  action: string;
  /** The page language; English when absent (known claims are relabelled in it by name). */
  lang?: Lang;
}

/** Renders the complete consent page. */
export function renderConsent({ uid, clientName, claims, verifiedClaims = [], authorizationDetails = [], acr, csrf, action, lang = 'en' }: ConsentProps): string {
  const m = messagesOf(lang);
  const t = m.consent;
  const labels = [...new Set(claims.map((c) => m.claims[c.name] ?? c.label))];
  const verified = [...new Set(verifiedClaims.map((c) => m.claims[c.name] ?? c.label))];
  // Each detail in words; its members fill the slots (a year…). An unknown type shows as it is.
  const purposes = authorizationDetails.map((d) => fill(m.authorizationDetails[d.type] ?? d.type, Object.fromEntries(
    Object.entries(d).filter(([, v]) => typeof v === 'string' || typeof v === 'number') as [string, string | number][],
  )));
  const body = html`
    <h1>${t.title}</h1>
    <p class="lead">${t.checked} ${describeLevel(acr, lang)}</p>
    <h2>${fill(t.willReceive, { client: clientName })}</h2>
    <ul class="claims">${labels.map((label) => html`<li>${label}</li>`)}</ul>
    ${verified.length ? html`<h2>${fill(t.willReceiveVerified, { client: clientName })}</h2>
    <ul class="claims claims--verified">${verified.map((label) => html`<li>${label}</li>`)}</ul>` : ''}
    ${purposes.length ? html`<h2>${fill(t.purpose, { client: clientName })}</h2>
    <ul class="purposes">${purposes.map((text) => html`<li>${text}</li>`)}</ul>` : ''}
    <p>${fill(t.ifNot, { client: clientName })}</p>
    <form class="consent" method="post" action="${safeUrl(action)}" data-interaction="${uid}">
      <input type="hidden" name="csrf" value="${csrf}">
      <div class="actions">
        <button type="submit" name="decision" value="allow" class="button button--primary">${t.allow}</button>
        <button type="submit" name="decision" value="deny" class="button button--secondary">${t.deny}</button>
      </div>
    </form>`;
  return renderLayout({ title: t.title, body, lang, languagePath: `/interaction/${encodeURIComponent(uid)}` });
}

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
  acr: AssuranceLevel;
  csrf: string;
  /** Where the decision is posted: `decision` = `allow` | `deny`, plus `csrf`. */
  action: string;
  /** The page language; English when absent (known claims are relabelled in it by name). */
  lang?: Lang;
}

/** Renders the complete consent page. */
export function renderConsent({ uid, clientName, claims, acr, csrf, action, lang = 'en' }: ConsentProps): string {
  const m = messagesOf(lang);
  const t = m.consent;
  const labels = [...new Set(claims.map((c) => m.claims[c.name] ?? c.label))];
  const body = html`
    <h1>${t.title}</h1>
    <p class="lead">${t.checked} ${describeLevel(acr, lang)}</p>
    <h2>${fill(t.willReceive, { client: clientName })}</h2>
    <ul class="claims">${labels.map((label) => html`<li>${label}</li>`)}</ul>
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

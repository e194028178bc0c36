// The consent page: which details the agency will receive, and the citizen's allow/deny decision.
// A plain form post (no JavaScript); imports only view modules.

import { describeLevel, type AssuranceLevel } from './claims.ts';
import { html, safeUrl } from './html.ts';
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
}

/** Renders the complete consent page. */
export function renderConsent({ uid, clientName, claims, acr, csrf, action }: ConsentProps): string {
  const labels = [...new Set(claims.map((c) => c.label))];
  const body = html`
    <h1>Share your details?</h1>
    <p class="lead">We have checked that it is you. ${describeLevel(acr)}</p>
    <h2>${clientName} will receive:</h2>
    <ul class="claims">${labels.map((label) => html`<li>${label}</li>`)}</ul>
    <p>If you do not share, you go back to ${clientName} without signing in.</p>
    <form class="consent" method="post" action="${safeUrl(action)}" data-interaction="${uid}">
      <input type="hidden" name="csrf" value="${csrf}">
      <div class="actions">
        <button type="submit" name="decision" value="allow" class="button button--primary">Share and continue</button>
        <button type="submit" name="decision" value="deny" class="button button--secondary">Do not share</button>
      </div>
    </form>`;
  return renderLayout({ title: 'Share your details?', body });
}

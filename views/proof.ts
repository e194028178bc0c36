// The proof-of-life pages around the capture (which is the sign-in page's, views/sign-in.ts with
// `proof`): the page the citizen's one-time link opens (who asks, the binding message, what the
// agency will receive, start or "this was not me"), the outcome, and the development outbox.
// Plain forms, no script; imports only view modules.

import { describeLevel, labelClaims } from './claims.ts';
import { html, safeUrl } from './html.ts';
import { fill, messagesOf, type Lang } from './i18n/index.ts';
import { renderLayout } from './layout.ts';

/** What `renderProofStart` needs. */
export interface ProofStartProps {
  clientName: string;
  bindingMessage: string;
  /** Claim names the agency will receive. */
  claims: string[];
  /** Where the decision is posted: `t`, `csrf`, `decision` = `start` | `deny`. */
  action: string;
  token: string;
  csrf: string;
  /** When the link stops working (epoch ms). */
  expiresAt: number;
  lang?: Lang;
}

/**
 * The binding message, large: the citizen compares it with what the agency gave her. `hint`: what
 * to do when it differs (a {client} template; default the proof page's; '' for none, when the page
 * says it otherwise).
 */
export function renderBinding(clientName: string, bindingMessage: string, lang: Lang, hint = messagesOf(lang).proof.bindingHint) {
  const t = messagesOf(lang).proof;
  return html`
    <div class="binding" aria-labelledby="binding-label">
      <p id="binding-label">${fill(t.bindingLabel, { client: clientName })}</p>
      <p class="binding-message" id="binding-message">${bindingMessage}</p>${hint ? html`
      <p class="hint">${fill(hint, { client: clientName })}</p>` : ''}
    </div>`;
}

const utc = (ms: number) => `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/** The page the link opens: nothing happens until the citizen chooses. */
export function renderProofStart({ clientName, bindingMessage, claims, action, token, csrf, expiresAt, lang = 'en' }: ProofStartProps): string {
  const t = messagesOf(lang).proof;
  const labels = labelClaims(claims.filter((name) => name !== 'auth_time'), lang);
  const body = html`
    <h1>${t.title}</h1>
    <p class="lead">${fill(t.asks, { client: clientName })}</p>
    ${renderBinding(clientName, bindingMessage, lang)}
    <p>${describeLevel('high', lang)}</p>
    <h2>${fill(t.willReceive, { client: clientName })}</h2>
    <ul class="claims">${labels.map((label) => html`<li>${label}</li>`)}</ul>
    <p>${fill(t.noId, { client: clientName })}</p>
    <p class="notice">${fill(t.once, { time: utc(expiresAt) })}</p>
    <form class="proof-start" method="post" action="${safeUrl(action)}">
      <input type="hidden" name="t" value="${token}">
      <input type="hidden" name="csrf" value="${csrf}">
      <div class="actions">
        <button type="submit" id="proof-start" name="decision" value="start" class="button button--primary">${t.start}</button>
        <button type="submit" id="proof-deny" name="decision" value="deny" class="button button--secondary">${t.notMe}</button>
      </div>
    </form>`;
  return renderLayout({ title: t.title, body, lang });
}

/** The outcome: verified (the agency has been told) or refused. */
export function renderProofDone({ clientName, outcome, lang = 'en' }: { clientName: string; outcome: 'verified' | 'denied'; lang?: Lang }): string {
  const t = messagesOf(lang).proof;
  const title = outcome === 'verified' ? t.verifiedTitle : t.deniedTitle;
  const body = html`
    <h1>${title}</h1>
    <div id="proof-outcome" class="status ${outcome === 'verified' ? 'status--success' : ''}" role="status" data-outcome="${outcome}">
      <p>${fill(outcome === 'verified' ? t.verifiedText : t.deniedText, { client: clientName })}</p>
    </div>`;
  return renderLayout({ title, body, lang });
}

/** Development: the links the outbox notifier "sent". */
export function renderProofOutbox({ entries, lang = 'en' }: { entries: ReadonlyArray<{ at: number; clientName: string; link: string; bindingMessage: string; expiresAt: number }>; lang?: Lang }): string {
  const t = messagesOf(lang).proof;
  const body = html`
    <h1>${t.outboxTitle}</h1>
    <p class="lead">${t.outboxLead}</p>
    ${entries.length === 0 ? html`<p>${t.outboxEmpty}</p>` : html`
    <ul class="outbox">${entries.map((e) => html`
      <li class="box"><p><strong>${e.clientName}</strong> · ${utc(e.at)}</p>
        <p class="binding-message">${e.bindingMessage}</p>
        <p>${fill(t.once, { time: utc(e.expiresAt) })}</p>
        <p><a href="${safeUrl(e.link)}">${t.outboxOpen}</a></p></li>`)}
    </ul>`}`;
  return renderLayout({ title: t.outboxTitle, body, lang, languagePath: '/demo/outbox' });
}

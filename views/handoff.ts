// "Finish on my phone" (src/handoff/): the desktop's page (QR code, short link and code, the phone's
// progress, polled by /static/handoff.js, with a "Continue" form that also works without it) and the
// phone's pages around the capture (which is the sign-in page's, views/sign-in.ts with `onPhone`):
// type the code, who asks and from which computer, a refused code, done. Imports only view modules.
//
// Test contract (test/browser/handoff.test.ts): #handoff[data-state], #handoff-code, #handoff-qr svg,
// #handoff-status, #handoff-continue, #handoff-renew, #handoff-cancel; on the phone #handoff-code-input,
// #handoff-claim, #handoff-message[data-code], #handoff-done.

import { describeLevel, type AssuranceLevel } from './claims.ts';
import { html, safeUrl, type SafeHtml } from './html.ts';
import { codeMessage, fill, messagesOf, type Lang } from './i18n/index.ts';
import { renderLayout } from './layout.ts';
import { renderBinding } from './proof.ts';

/** The progress the desktop's page shows (src/handoff/service.ts HandoffProgress). */
export type HandoffDesktopState = 'waiting' | 'opened' | 'capturing' | 'rejected' | 'verified' | 'completed' | 'expired' | 'cancelled';

const utc = (ms: number) => `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
const when = (ms: number) => html`<time datetime="${new Date(ms).toISOString()}">${utc(ms)}</time>`;
/** A catalogue text with one `{name}` slot filled with markup (the rest escaped). */
function slot(text: string, name: string, value: SafeHtml): SafeHtml {
  const [before, after = ''] = text.split(`{${name}}`);
  return html`${before}${value}${after}`;
}
const hidden = (csrf: string) => html`<input type="hidden" name="csrf" value="${csrf}">`;

/** What `renderHandoffDesktop` needs. */
export interface HandoffDesktopProps {
  clientName: string;
  state: HandoffDesktopState;
  /** XXXX-XXXX; absent once the code is no longer live (expired, cancelled). */
  code?: string;
  /** What the citizen types on the phone before the code (host/p). */
  shortLink: string;
  /** The QR code (qrcode's SVG of the link with the code). */
  qrSvg?: SafeHtml;
  expiresAt: number;
  csrf: string;
  endpoints: { status: string; continue: string; renew: string; cancel: string; back: string };
  feedback?: Array<{ code: string; message: string }>;
  /** A proof of life: the agency's binding message. */
  bindingMessage?: string;
  languagePath?: string;
  lang?: Lang;
}

/** The desktop's page while the phone does the capture. */
export function renderHandoffDesktop(props: HandoffDesktopProps): string {
  const { clientName, state, code, shortLink, qrSvg, expiresAt, csrf, endpoints, feedback = [], bindingMessage, lang = 'en' } = props;
  const t = messagesOf(lang).handoff;
  const live = Boolean(code) && state !== 'expired' && state !== 'cancelled' && state !== 'completed';
  const body = html`
    <h1>${t.title}</h1>
    <p class="lead">${fill(t.lead, { client: clientName })}</p>
    ${bindingMessage ? renderBinding(clientName, bindingMessage, lang, t.bindingHint) : ''}
    <section id="handoff" class="handoff" data-state="${state}" data-status="${safeUrl(endpoints.status)}" data-continue="${safeUrl(endpoints.continue)}">
      ${live ? html`<div class="box handoff-box">
        <h2>${t.scanTitle}</h2>
        <figure id="handoff-qr" class="handoff-qr">${qrSvg ?? ''}<figcaption id="handoff-qr-label" class="hint">${t.qrLabel}</figcaption></figure>
        <p>${slot(t.orType, 'link', html`<strong class="handoff-link">${shortLink}</strong>`)}</p>
        <p class="handoff-code" id="handoff-code">${code}</p>
        <p class="notice">${slot(t.expires, 'time', when(expiresAt))}</p>
        <p class="hint">${fill(t.keep, { client: clientName })}</p>
      </div>` : ''}
      <h2>${t.progressTitle}</h2>
      <div id="handoff-status" class="status${state === 'rejected' || state === 'expired' || state === 'cancelled' || feedback.length ? ' status--error' : state === 'verified' ? ' status--success' : ''}" role="status" aria-live="polite" tabindex="-1">
        <p id="handoff-state-text">${t.states[state]}</p>${feedback.length ? html`
        <ul class="feedback">${feedback.map((f) => html`<li data-code="${f.code}">${codeMessage(lang, f.code, f.message)}</li>`)}</ul>` : ''}
      </div>
      <form id="handoff-continue-form" class="actions" method="post" action="${safeUrl(endpoints.continue)}"${live || state === 'verified' ? '' : html` hidden`}>
        ${hidden(csrf)}
        <p class="hint">${t.continueHint}</p>
        <button type="submit" id="handoff-continue" class="button button--primary">${t.continue}</button>
      </form>
      <div class="actions">
        <form method="post" action="${safeUrl(endpoints.renew)}">
          ${hidden(csrf)}<input type="hidden" name="renew" value="1">
          <button type="submit" id="handoff-renew" class="button button--secondary">${t.renew}</button>
        </form>
        <form class="cancel" method="post" action="${safeUrl(endpoints.cancel)}">
          ${hidden(csrf)}
          <button type="submit" id="handoff-cancel" class="button button--secondary">${t.useComputer}</button>
        </form>
      </div>
    </section>`;
  return renderLayout({
    title: t.title, body, lang, languagePath: props.languagePath,
    data: { lang, states: t.states }, scripts: ['ui.js', 'handoff.js'],
  });
}

/** The phone's first page without a code: type the one the computer shows. */
export function renderHandoffEnter({ action, feedback = [], lang = 'en' }: { action: string; feedback?: Array<{ code: string; message: string }>; lang?: Lang }): string {
  const t = messagesOf(lang).handoff;
  const body = html`
    <h1>${t.enterTitle}</h1>
    <p class="lead">${t.enterLead}</p>
    <div id="status" class="status${feedback.length ? ' status--error' : ''}" role="status" aria-live="polite" tabindex="-1">${feedback.length ? html`
      <ul class="feedback">${feedback.map((f) => html`<li data-code="${f.code}">${codeMessage(lang, f.code, f.message)}</li>`)}</ul>` : ''}</div>
    <form class="handoff-enter" method="get" action="${safeUrl(action)}">
      <div class="field">
        <label for="handoff-code-input">${t.enterLabel}</label>
        <p id="handoff-code-hint" class="hint">${t.enterHint}</p>
        <input id="handoff-code-input" name="code" type="text" autocomplete="one-time-code" autocapitalize="characters" spellcheck="false"
          required minlength="8" maxlength="12" class="handoff-code-input" aria-describedby="handoff-code-hint"${feedback.length ? html` aria-invalid="true"` : ''}>
      </div>
      <button type="submit" id="handoff-lookup" class="button button--primary">${t.enterSubmit}</button>
    </form>`;
  return renderLayout({ title: t.enterTitle, body, lang, languagePath: '/p' });
}

/** What `renderHandoffStart` needs. */
export interface HandoffStartProps {
  clientName: string;
  kind: 'sign_in' | 'proof_of_life';
  level: AssuranceLevel;
  /** The computer's browser and system, coarse ("Chrome · Windows"). */
  desktop?: string;
  startedAt: number;
  expiresAt: number;
  /** The ID typed on the computer, all but its last characters hidden. */
  maskedId?: string;
  bindingMessage?: string;
  /** Where "Continue" posts: `code`, `csrf`. */
  action: string;
  code: string;
  csrf: string;
  lang?: Lang;
}

/** The page a scanned or typed code opens on the phone: nothing happens until she continues. */
export function renderHandoffStart(props: HandoffStartProps): string {
  const { clientName, kind, level, desktop, startedAt, maskedId, bindingMessage, action, code, csrf, lang = 'en' } = props;
  const t = messagesOf(lang).handoff;
  const title = fill(t.startTitle, { client: clientName });
  const body = html`
    <h1>${title}</h1>
    <p class="lead">${fill(t.startLead, { client: clientName })}</p>
    ${kind === 'proof_of_life' && bindingMessage ? renderBinding(clientName, bindingMessage, lang, '') : ''}
    <p id="handoff-origin">${slot(desktop ? fill(t.startedOn, { device: desktop }) : t.startedAt, 'time', when(startedAt))}</p>
    ${maskedId ? html`<p>${fill(t.idTyped, { id: maskedId })}</p>` : ''}
    <p>${describeLevel(level, lang)}</p>
    <div class="notice" id="handoff-warning"><p>${t.checkYourself}</p></div>
    <form class="handoff-claim" method="post" action="${safeUrl(action)}">
      <input type="hidden" name="code" value="${code}">
      ${hidden(csrf)}
      <div class="actions">
        <button type="submit" id="handoff-claim" class="button button--primary">${t.continueButton}</button>
      </div>
    </form>
    <p class="hint">${t.closeIfNot}</p>`;
  return renderLayout({ title, body, lang, data: { lang }, scripts: ['handoff.js'] });
}

/** A code the phone cannot use (unknown, expired, opened elsewhere, replaced): what to do next. */
export function renderHandoffMessage({ code, lang = 'en' }: { code: string; lang?: Lang }): string {
  const t = messagesOf(lang).handoff;
  const body = html`
    <h1>${t.messageTitle}</h1>
    <div id="handoff-message" class="status status--error" role="alert" data-code="${code}"><p>${codeMessage(lang, code, '')}</p></div>
    <h2>${t.whatToDo}</h2>
    <ul>${t.steps.map((step) => html`
      <li>${step}</li>`)}
    </ul>
    <p class="support">${messagesOf(lang).error.code} <code>${code}</code></p>`;
  return renderLayout({ title: t.messageTitle, body, lang });
}

/** The phone's last page: back to the computer. */
export function renderHandoffDone({ clientName, kind, lang = 'en' }: { clientName: string; kind: 'sign_in' | 'proof_of_life'; lang?: Lang }): string {
  const t = messagesOf(lang).handoff;
  const body = html`
    <h1>${t.doneTitle}</h1>
    <div id="handoff-done" class="status status--success" role="status"><p>${fill(kind === 'proof_of_life' ? t.doneProof : t.doneText, { client: clientName })}</p></div>`;
  return renderLayout({ title: t.doneTitle, body, lang });
}

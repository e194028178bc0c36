// The citizen's space (/account): signed out, the page that starts a face sign-in; signed in, her
// pending requests, her access log (paged), her consents and her devices, each action a plain form
// post with the CSRF token. Times are ISO UTC in <time> elements, shown in UTC without JavaScript
// and in her local time by account.js. Imports only view modules.
import { accountMessages } from './account-i18n.ts';
import { html, safeUrl, type SafeHtml } from './html.ts';
import { fill, messagesOf, type Lang } from './i18n/index.ts';
import { renderLayout } from './layout.ts';

export type AccountLogEntry = {
  id: number; at: number; agencyName: string; kind: 'sign_in' | 'proof_of_life'; level: 'substantial' | 'high' | null; amr: string[]; claims: string[]; reported: boolean;
};
export type AccountConsent = { clientId: string; agencyName: string; claims: string[]; purposes: string[]; decidedAt: number };
export type AccountRequest = { id: string; agencyName: string; bindingMessage: string; expiresAt: number; openable: boolean };
export type AccountDevice = { id: string; label: string; kind: 'hwk' | 'swk'; createdAt: number; lastUsedAt: number | null };

export interface AccountPageProps {
  lang?: Lang;
  csrf: string;
  level: 'substantial' | 'high';
  idleMinutes: number;
  reportOpen: boolean;
  /** What the last action did (after its redirect). */
  done?: { kind: string; agency?: string };
  requests: AccountRequest[];
  log: { entries: AccountLogEntry[]; next?: number; paged: boolean };
  consents: AccountConsent[];
  devices: AccountDevice[];
}

/** `<time>` with the ISO instant; the text is UTC until account.js puts it in local time. */
function time(ms: number): SafeHtml {
  const iso = new Date(ms).toISOString();
  return html`<time datetime="${iso}" data-local>${iso.slice(0, 16).replace('T', ' ')} UTC</time>`;
}

const utc = (ms: number) => `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;

function hidden(csrf: string): SafeHtml {
  return html`<input type="hidden" name="csrf" value="${csrf}">`;
}

/** The page for a citizen not signed in to her space. */
export function renderAccountSignedOut({ lang = 'en', signedOut = false }: { lang?: Lang; signedOut?: boolean }): string {
  const t = accountMessages(lang);
  const body = html`
    <h1>${t.title}</h1>
    ${signedOut ? html`<div class="status status--success" role="status"><p>${t.signedOut}</p></div>` : ''}
    <p class="lead">${t.signedOutLead}</p>
    <p>${t.signInIntro}</p>
    <p><a class="button button--primary" id="account-sign-in" href="/account/login">${t.signIn}</a></p>
    <p class="hint">${t.help}</p>`;
  return renderLayout({ title: t.title, body, lang, languagePath: '/account', scripts: ['account.js'] });
}

function renderRequests(p: AccountPageProps, lang: Lang): SafeHtml {
  const t = accountMessages(lang).requests;
  return html`
    <section aria-labelledby="requests-title" id="requests">
      <h2 id="requests-title">${t.title}</h2>
      ${p.requests.length ? html`<ul class="account-list">${p.requests.map((r) => html`
        <li class="account-item">
          <p><strong>${fill(t.proofOfLife, { agency: r.agencyName })}</strong></p>
          <p>${fill(t.message, { message: r.bindingMessage })}</p>
          <p>${t.expires} ${time(r.expiresAt)}</p>
          ${r.openable ? html`<form method="post" action="/account/requests/open">${hidden(p.csrf)}
            <input type="hidden" name="id" value="${r.id}">
            <button type="submit" class="button button--primary">${t.open}</button></form>` : html`<p class="hint">${fill(t.opened, { agency: r.agencyName })}</p>`}
        </li>`)}</ul>` : html`<p>${t.none}</p>`}
    </section>`;
}

function renderLog(p: AccountPageProps, lang: Lang): SafeHtml {
  const a = accountMessages(lang);
  const t = a.log;
  const claims = messagesOf(lang).claims;
  const named = (names: string[]) => [...new Set(names.filter((n) => n !== 'auth_time').map((n) => claims[n] ?? n))].join(', ');
  return html`
    <section aria-labelledby="log-title" id="log">
      <h2 id="log-title">${t.title}</h2>
      <p>${t.intro}</p>
      ${p.log.entries.length ? html`<ol class="account-list" id="access-log">${p.log.entries.map((e) => html`
        <li class="account-item" data-event="${e.id}">
          <h3>${e.agencyName}</h3>
          <dl class="meta">
            <dt>${t.when}</dt><dd>${time(e.at)}</dd>
            <dt>${t.what}</dt><dd>${e.kind === 'proof_of_life' ? t.proofOfLife : t.signIn}</dd>
            <dt>${t.level}</dt><dd data-level="${e.level ?? ''}">${e.level ? a.levels[e.level] : '-'}</dd>
            <dt>${t.method}</dt><dd data-amr="${e.amr.join(' ')}">${e.amr.map((m) => a.amr[m] ?? m).join(', ') || '-'}</dd>
            <dt>${t.received}</dt><dd>${named(e.claims) || '-'}</dd>
          </dl>
          ${e.reported ? html`<p class="notice">${t.reported}</p>` : html`<form method="post" action="/account/report">${hidden(p.csrf)}
            <input type="hidden" name="eventId" value="${e.id}">
            <button type="submit" class="button button--secondary" aria-label="${fill(t.notMeLabel, { agency: e.agencyName, when: utc(e.at) })}">${t.notMe}</button></form>`}
        </li>`)}</ol>` : html`<p>${t.none}</p>`}
      ${p.log.next || p.log.paged ? html`<nav aria-label="${t.page}" class="pager">
        ${p.log.paged ? html`<a href="/account#log">${t.newest}</a>` : ''}
        ${p.log.next ? html`<a href="${safeUrl(`/account?before=${p.log.next}#log`)}" rel="next">${t.older}</a>` : ''}
      </nav>` : ''}
    </section>`;
}

function renderConsents(p: AccountPageProps, lang: Lang): SafeHtml {
  const t = accountMessages(lang).consents;
  const claims = messagesOf(lang).claims;
  return html`
    <section aria-labelledby="consents-title" id="consents">
      <h2 id="consents-title">${t.title}</h2>
      <p>${t.intro}</p>
      ${p.consents.length ? html`<ul class="account-list">${p.consents.map((c) => html`
        <li class="account-item" data-client="${c.clientId}">
          <h3>${c.agencyName}</h3>
          <dl class="meta">
            <dt>${t.receives}</dt><dd>${[...new Set(c.claims.filter((n) => n !== 'auth_time').map((n) => claims[n] ?? n))].join(', ') || '-'}</dd>
            ${c.purposes.length ? html`<dt>${t.purposes}</dt><dd>${c.purposes.join('; ')}</dd>` : ''}
            <dt>${t.since}</dt><dd>${time(c.decidedAt)}</dd>
          </dl>
          <form method="post" action="/account/consents/revoke">${hidden(p.csrf)}
            <input type="hidden" name="clientId" value="${c.clientId}">
            <button type="submit" class="button button--secondary" aria-label="${fill(t.revokeLabel, { agency: c.agencyName })}">${t.revoke}</button></form>
        </li>`)}</ul>` : html`<p>${t.none}</p>`}
    </section>`;
}

function renderDevices(p: AccountPageProps, lang: Lang): SafeHtml {
  const t = accountMessages(lang).devices;
  return html`
    <section aria-labelledby="devices-title" id="devices">
      <h2 id="devices-title">${t.title}</h2>
      <p>${t.intro}</p>
      ${p.devices.length ? html`<ul class="account-list">${p.devices.map((d) => html`
        <li class="account-item" data-device="${d.id}">
          <h3>${d.label}</h3>
          <dl class="meta">
            <dt>${t.added}</dt><dd>${time(d.createdAt)}</dd>
            <dt>${t.lastUsed}</dt><dd>${d.lastUsedAt ? time(d.lastUsedAt) : t.never}</dd>
          </dl>
          <p class="hint">${t.kind[d.kind] ?? d.kind}</p>
          <form method="post" action="/account/devices/remove">${hidden(p.csrf)}
            <input type="hidden" name="id" value="${d.id}">
            <button type="submit" class="button button--secondary" aria-label="${fill(t.removeLabel, { label: d.label })}">${t.remove}</button></form>
        </li>`)}</ul>` : html`<p>${t.none}</p>`}
    </section>`;
}

/** The signed-in space. */
export function renderAccount(p: AccountPageProps): string {
  const lang = p.lang ?? 'en';
  const t = accountMessages(lang);
  const done = p.done && t.done[p.done.kind] ? fill(t.done[p.done.kind], { agency: p.done.agency ?? '' }) : undefined;
  const body = html`
    <h1>${t.title}</h1>
    <div class="status status--success" role="status" id="account-status" tabindex="-1">${done ? html`<p>${done}</p>` : ''}</div>
    ${p.reportOpen ? html`<p class="notice" id="report-open">${t.reportOpen}</p>` : ''}
    <p>${fill(t.signedInAs, { level: t.levels[p.level], minutes: p.idleMinutes })}</p>
    <form method="post" action="/account/logout">${hidden(p.csrf)}<button type="submit" class="button button--secondary" id="account-sign-out">${t.signOut}</button></form>
    <nav aria-label="${t.sections}" class="account-nav"><ul>
      <li><a href="#requests">${t.requests.title}</a></li>
      <li><a href="#log">${t.log.title}</a></li>
      <li><a href="#consents">${t.consents.title}</a></li>
      <li><a href="#devices">${t.devices.title}</a></li>
    </ul></nav>
    ${renderRequests(p, lang)}
    ${renderLog(p, lang)}
    ${renderConsents(p, lang)}
    ${renderDevices(p, lang)}
    <p class="hint">${t.help}</p>`;
  return renderLayout({ title: t.title, body, lang, languagePath: '/account', scripts: ['account.js'] });
}

// The passkey step of a sign-in, after a verified face (src/passkeys/routes.ts): the offer to add a
// passkey on this device ("Not now" always there), the request for her passkey ("Use face only"
// unless the agency requires one), and, for an agency that requires one when she has none, adding
// one for the next sign-in. The WebAuthn calls are /static/passkey.js with @simplewebauthn/browser
// (served from node_modules, hashed); the ways on without a passkey are plain forms (no script).
//
// Test contract (test/browser/passkey*.test.ts): #passkey-step (data-mode: offer | assert | required
// | added), #passkey-register, #passkey-use, #passkey-later, #passkey-face-only, #passkey-cancel,
// #passkey-status. Imports only views/.

import { html, safeUrl } from './html.ts';
import { fill, messagesOf, type Lang, type Messages } from './i18n/index.ts';
import { renderLayout } from './layout.ts';

export interface PasskeyStepProps {
  mode: 'offer' | 'assert' | 'required';
  required: boolean;
  /** A passkey was just added for an agency that requires one: say to sign in again. */
  added?: boolean;
  clientName: string;
  csrf: string;
  endpoints: { options: string; register: string; authenticate: string; skip: string };
  /** The page's own address (the language switch). */
  path: string;
  lang?: Lang;
}

export function renderPasskeyStep({ mode, required, added = false, clientName, csrf, endpoints, path, lang = 'en' }: PasskeyStepProps): string {
  const t = messagesOf(lang).passkey;
  const client = { client: clientName };
  const skip = (id: string, action: string, label: string, primary = false) => html`
      <form method="post" action="${safeUrl(endpoints.skip)}" class="passkey-skip">
        <input type="hidden" name="csrf" value="${csrf}">
        <input type="hidden" name="action" value="${action}">
        <button type="submit" id="${id}" class="button ${primary ? 'button--primary' : 'button--secondary'}">${label}</button>
      </form>`;
  const ceremony = (id: string, label: string) => html`
      <button type="button" id="${id}" class="button button--primary" hidden>${label}</button>
      <noscript><p class="notice">${t.noScript}</p></noscript>`;
  let title: string;
  let content;
  if (added) {
    title = t.addedTitle;
    content = html`
    <p class="lead">${t.addedText}</p>
    <p>${fill(t.addedAgain, client)}</p>
    <div class="actions">${skip('passkey-cancel', 'cancel', fill(t.back, client), true)}
    </div>`;
  } else if (mode === 'assert') {
    title = t.useTitle;
    content = html`
    <p class="lead">${t.useText}</p>${required ? html`
    <p class="notice">${fill(t.requiredUse, client)} ${t.requiredLost}</p>` : ''}
    <div class="actions">${ceremony('passkey-use', t.use)}
    </div>
    <div class="actions">${required ? skip('passkey-cancel', 'cancel', fill(t.cancel, client)) : html`
      <p class="hint" id="face-only-hint">${fill(t.faceOnlyHint, client)}</p>${skip('passkey-face-only', 'face_only', t.faceOnly)}`}
    </div>`;
  } else if (mode === 'required') {
    title = fill(t.requiredTitle, client);
    content = html`
    <p class="lead">${fill(t.requiredText, client)}</p>
    <p>${t.offerPrivacy}</p>
    <div class="actions">${ceremony('passkey-register', t.add)}
    </div>
    <div class="actions">${skip('passkey-cancel', 'cancel', fill(t.cancel, client))}
    </div>`;
  } else {
    title = t.offerTitle;
    content = html`
    <p class="lead">${t.offerText}</p>
    <p>${t.offerPrivacy}</p>
    <div class="actions">${ceremony('passkey-register', t.add)}
    </div>
    <div class="actions">${skip('passkey-later', 'later', t.later)}
    </div>`;
  }
  const body = html`
    <div id="passkey-step" data-mode="${added ? 'added' : mode}" data-csrf="${csrf}" data-options="${safeUrl(endpoints.options)}"
      data-register="${safeUrl(endpoints.register)}" data-authenticate="${safeUrl(endpoints.authenticate)}">
    <p class="status status--success">${t.verified}</p>
    <h1>${title}</h1>
    <div id="passkey-status" class="status" role="status" aria-live="polite" tabindex="-1"></div>
${content}
    </div>`;
  return renderLayout({
    title, body, lang, languagePath: path,
    scripts: added ? [] : ['vendor/index.umd.min.js', 'passkey.js'],
    data: {
      working: t.working, cancelled: t.cancelled, unsupported: t.unsupported,
      codes: Object.fromEntries(['passkey_failed', 'passkey_unavailable', 'interaction_not_found', 'csrf_invalid', 'internal_error'].map((code) => [code, messagesOf(lang).codes[code as keyof Messages['codes']]])),
    },
  });
}

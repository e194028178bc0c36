// The sign-in page: claim an identity (national ID), then the live camera (/static/sign-in.js) or,
// without a camera or without JavaScript, the other ways to be served (a photo cannot show presence). Imports only views/.
//
// Test contract (test/browser, test/unit/views): these ids stay stable.
//   #sign-in-form (data-state: idle | camera | capturing | challenge | submitting | verified | retry |
//   rejected | fallback), #nationalId, #camera-start (starts the camera flow), #camera-video,
//   #camera-guidance (aria-live hints), #status (status region), #challenge (the current step;
//   data-action while an action is asked), #countdown (get ready), #progress (the steps, li.done /
//   li.current), #camera-frame[data-fit=good|adjust] (the oval shows the fit),
//   #fallback (hidden unless there is no camera),
//   #cancel, #messages (the script's strings as JSON), language links a[hreflang],
//   #handoff-start ("Use my phone's camera", with phoneAction), #on-phone (the phone of a handoff),
//   #onboarding-offer (hidden until a face check is refused; its link a#onboarding-link).

import { describeLevel, labelClaims, type AssuranceLevel } from './claims.ts';
import { html, safeUrl, type SafeHtml } from './html.ts';
import { clientMessages, codeMessage, fill, messagesOf, type Lang } from './i18n/index.ts';
import { renderLayout } from './layout.ts';
import { renderBinding } from './proof.ts';

/** A message for the citizen, with the stable code from the error catalogue. */
export interface Feedback {
  code: string;
  message: string;
}

/** The URLs the page posts to (all under `/interaction/:uid`). */
export interface SignInEndpoints {
  /** JSON: start a capture session (used by the script). */
  capture: string;
  /** Multipart form post without JavaScript: `csrf`, `nationalId`, one or more `frame`. */
  verify: string;
  /** Multipart: one `frame` for live guidance while the camera preview runs (used by the script). */
  quality: string;
  /** Form post with `csrf`: the citizen cancels. */
  abort: string;
}

/** What `renderSignIn` needs. */
export interface SignInProps {
  uid: string;
  clientName: string;
  acr: AssuranceLevel;
  /** Claim names the agency asked for (shown as plain labels). */
  claims: string[];
  csrf: string;
  endpoints: SignInEndpoints;
  /** Messages from the previous attempt, shown in the status region (by code, in the page language). */
  feedback?: Feedback[];
  /** Refills the ID field after a failed attempt. */
  nationalId?: string;
  /** The page language; English when absent. */
  lang?: Lang;
  /**
   * A proof of life (src/proof/): the agency's binding message is shown and no ID is asked (the
   * agency's request named the citizen); the cancel button says "This was not me".
   */
  proof?: { bindingMessage: string };
  /** The page's own GET address, for the language switch (default `/interaction/:uid`). */
  languagePath?: string;
  /**
   * The desktop's "Use my phone's camera" (src/handoff/): the submit button posts the form (csrf and
   * the typed ID, urlencoded) to this address, which makes a code for the phone.
   */
  phoneAction?: string;
  /**
   * The page on the phone of a handoff: no ID field (it was typed on the computer; its last
   * characters are shown), a line saying the computer goes on by itself; cancel reads "Stop".
   */
  onPhone?: { maskedId?: string; device?: string };
  /**
   * The remote onboarding's page (src/onboarding/): offered once a face check is refused, for every
   * ID alike (telling only those without a registry photo would say which IDs have none).
   */
  onboardingPath?: string;
}

/** Codes of a refused face check: the offer to onboard with a document is shown with them. */
const refusedCodes = new Set(['no_match', 'not_verified']);

/** The status region's content: the feedback list, or nothing. */
export function renderFeedback(feedback: readonly Feedback[] = [], lang: Lang = 'en'): SafeHtml {
  if (feedback.length === 0) return html``;
  return html`<h2 class="status-title">${messagesOf(lang).signIn.tryAgainTitle}</h2>
      <ul class="feedback">${feedback.map((f) => html`<li data-code="${f.code}">${codeMessage(lang, f.code, f.message)}</li>`)}</ul>`;
}

/**
 * The section shown when no camera can be used. No photo upload at any level: a photo cannot show
 * that a live person is there (presence is checked at every level), so the citizen is told plainly
 * and given the other ways to be served.
 */
function renderFallback(_acr: AssuranceLevel, clientName: string, lang: Lang): SafeHtml {
  const t = messagesOf(lang).signIn;
  return html`
      <section id="fallback" class="fallback" aria-labelledby="fallback-title" tabindex="-1">
        <h2 id="fallback-title">${t.fallbackTitle}</h2>
        <p>${t.fallbackText}</p>
        <p class="notice">${t.noUpload}</p>
        <h3>${t.otherWaysTitle}</h3>
        <ul class="other-ways">${t.otherWays.map((w) => html`<li>${fill(w, { client: clientName })}</li>`)}</ul>
      </section>`;
}

/** Renders the complete sign-in page. */
export function renderSignIn(props: SignInProps): string {
  const { uid, clientName, acr, claims, csrf, endpoints, feedback = [], nationalId = '', lang = 'en', proof, phoneAction, onPhone, onboardingPath } = props;
  const h = messagesOf(lang).handoff;
  const t = messagesOf(lang).signIn;
  const p = messagesOf(lang).proof;
  const labels = labelClaims(claims.filter((name) => name !== 'auth_time'), lang); // as on the consent page
  const hasFeedback = feedback.length > 0;
  const [before, after] = t.asks.split('{client}');
  const idField = html`
      <div class="field">
        <label for="nationalId">${t.idLabel}</label>
        <p id="nationalId-hint" class="hint">${t.idHint}</p>
        <input id="nationalId" name="nationalId" type="text" value="${nationalId}" autocomplete="off" inputmode="text"
          autocapitalize="characters" spellcheck="false" required minlength="6" maxlength="20" pattern="[A-Za-z0-9]{6,20}"
          title="${t.idTitle}" aria-describedby="nationalId-hint">
      </div>`;
  const body = html`
    <h1>${proof ? p.title : t.title}</h1>
    ${proof ? html`<p class="lead">${fill(p.asks, { client: clientName })}</p>
    ${renderBinding(clientName, proof.bindingMessage, lang, onPhone ? '' : undefined)}` : html`<p class="lead">${before}<strong>${clientName}</strong>${after}</p>`}
    ${onPhone ? html`<p id="on-phone" class="notice">${h.onPhone}${onPhone.maskedId ? html` ${fill(h.idTyped, { id: onPhone.maskedId })}` : ''}</p>` : ''}
    <p>${describeLevel(acr, lang)}</p>
    ${labels.length > 0 ? html`<p>${fill(t.asked, { client: clientName, list: labels.join('; ') })}</p>` : ''}

    <div id="status" class="status${hasFeedback ? ' status--error' : ''}" role="status" aria-live="polite" tabindex="-1">${renderFeedback(feedback, lang)}</div>

    <form id="sign-in-form" class="sign-in" method="post" action="${safeUrl(endpoints.verify)}" enctype="multipart/form-data" data-state="idle"
      data-interaction="${uid}" data-capture="${safeUrl(endpoints.capture)}" data-quality="${safeUrl(endpoints.quality)}" data-acr="${acr}">
      <input type="hidden" name="csrf" value="${csrf}">
${proof || onPhone ? '' : idField}

      <fieldset class="field photo">
        <legend>${t.photoLegend}</legend>
        <div id="camera" class="camera" hidden>
          <p id="camera-intro" class="hint">${t.cameraIntro}</p>
          <button type="button" id="camera-start" class="button button--primary" aria-describedby="camera-intro">${t.cameraStart}</button>
          <ol id="progress" class="progress" aria-label="${t.progressLabel}" hidden></ol>
          <div id="challenge" class="challenge" aria-live="assertive" aria-atomic="true"></div>
          <p id="countdown" class="countdown" aria-live="polite" aria-atomic="true"></p>
          <div id="camera-frame" class="camera-frame" hidden>
            <video id="camera-video" class="camera-video" playsinline muted aria-label="${t.videoLabel}"></video>
            <div class="camera-oval" aria-hidden="true"></div>
          </div>
          <p id="camera-guidance" class="guidance" aria-live="polite" aria-atomic="true"></p>
        </div>${renderFallback(acr, clientName, lang)}
      </fieldset>${phoneAction ? html`
      <section id="handoff-offer" class="handoff-offer box" aria-labelledby="handoff-offer-title">
        <h2 id="handoff-offer-title">${h.offerTitle}</h2>
        <p id="handoff-offer-text">${h.offerText}</p>
        <button type="submit" id="handoff-start" class="button button--secondary" formaction="${safeUrl(phoneAction)}" formmethod="post"
          formenctype="application/x-www-form-urlencoded" aria-describedby="handoff-offer-text">${h.offerButton}</button>
      </section>` : ''}
    </form>
${onboardingPath && !proof ? html`
    <section id="onboarding-offer" class="box" aria-labelledby="onboarding-offer-title"${feedback.some((f) => refusedCodes.has(f.code)) ? '' : ' hidden'}>
      <h2 id="onboarding-offer-title">${t.onboardingTitle}</h2>
      <p>${t.onboardingText}</p>
      <p><a id="onboarding-link" href="${safeUrl(onboardingPath)}" hreflang="${lang}">${t.onboardingLink}</a></p>
    </section>` : ''}
    <section class="tips" aria-labelledby="tips-title">
      <h2 id="tips-title">${t.tipsTitle}</h2>
      <ul>${t.tips.map((tip) => html`
        <li>${tip}</li>`)}
      </ul>
    </section>

    <form class="cancel" method="post" action="${safeUrl(endpoints.abort)}">
      <input type="hidden" name="csrf" value="${csrf}">
      <button type="submit" id="cancel" class="button button--secondary">${onPhone ? h.stop : proof ? p.notMe : t.cancel}</button>
    </form>`;
  return renderLayout({
    title: proof ? p.title : hasFeedback ? t.titleRetry : t.title,
    body,
    lang,
    languagePath: props.languagePath ?? `/interaction/${encodeURIComponent(uid)}`,
    data: clientMessages(lang),
    scripts: ['capture-plan.js', 'ui.js', 'camera.js', 'live-hints.js', 'sign-in.js'],
  });
}

// The remote onboarding pages (src/onboarding/routes.ts): the start (national ID), the document
// photo (a plain multipart form: a document is a still, an upload is fine), the live capture (the
// sign-in page's capture form and script, bound to the onboarding), and the outcome. Imports only views/.
//
// Test contract (test/browser/onboarding.test.ts): #onboarding-start-form, #nationalId,
// #onboarding-start; #document-form, #document, #document-send; the capture's ids are the sign-in
// page's (#sign-in-form, #camera-start, …); #onboarding-outcome[data-outcome=onboarded|refused]
// with [data-code]; #status .feedback li[data-code] for a refused step.
import { describeLevel } from './claims.ts';
import { html, safeUrl } from './html.ts';
import { clientMessages, fill, messagesOf, type Lang } from './i18n/index.ts';
import { renderLayout } from './layout.ts';
import { renderFeedback, type Feedback } from './sign-in.ts';

const status = (feedback: readonly Feedback[], lang: Lang) => html`
    <div id="status" class="status${feedback.length ? ' status--error' : ''}" role="status" aria-live="polite" tabindex="-1">${renderFeedback(feedback, lang)}</div>`;

/** Where she starts: what happens, what is kept, her national ID. */
export function renderOnboardingStart({ action, csrf, feedback = [], nationalId = '', lang = 'en' }: {
  action: string; csrf: string; feedback?: Feedback[]; nationalId?: string; lang?: Lang;
}): string {
  const t = messagesOf(lang).onboarding;
  const s = messagesOf(lang).signIn;
  const body = html`
    <h1>${t.title}</h1>
    <p class="lead">${t.lead}</p>
    <ol class="steps">${t.steps.map((step) => html`<li>${step}</li>`)}</ol>
    <p class="notice">${t.keep}</p>
    ${status(feedback, lang)}
    <form id="onboarding-start-form" class="sign-in" method="post" action="${safeUrl(action)}">
      <input type="hidden" name="csrf" value="${csrf}">
      <div class="field">
        <label for="nationalId">${s.idLabel}</label>
        <p id="nationalId-hint" class="hint">${s.idHint}</p>
        <input id="nationalId" name="nationalId" type="text" value="${nationalId}" autocomplete="off" inputmode="text"
          autocapitalize="characters" spellcheck="false" required minlength="6" maxlength="20" pattern="[A-Za-z0-9]{6,20}"
          title="${s.idTitle}" aria-describedby="nationalId-hint">
      </div>
      <button type="submit" id="onboarding-start" class="button button--primary">${t.start}</button>
    </form>`;
  return renderLayout({ title: t.title, body, lang, languagePath: '/onboarding' });
}

/** The document photo: camera or file, one form post. */
export function renderOnboardingDocument({ id, action, csrf, attemptsLeft, maxBytes, feedback = [], lang = 'en' }: {
  id: string; action: string; csrf: string; attemptsLeft: number; maxBytes: number; feedback?: Feedback[]; lang?: Lang;
}): string {
  const t = messagesOf(lang).onboarding;
  const body = html`
    <h1>${t.documentTitle}</h1>
    <p class="lead">${t.documentLead}</p>
    ${status(feedback, lang)}
    <form id="document-form" class="sign-in" method="post" action="${safeUrl(action)}" enctype="multipart/form-data">
      <input type="hidden" name="csrf" value="${csrf}">
      <div class="field">
        <label for="document">${t.documentLabel}</label>
        <p id="document-hint" class="hint">${fill(t.documentHint, { size: String(Math.floor(maxBytes / 1_000_000)) })}</p>
        <input id="document" name="document" type="file" accept="image/jpeg,image/png,image/webp" capture="environment" required aria-describedby="document-hint document-attempts">
      </div>
      <p id="document-attempts" class="hint">${fill(t.attemptsLeft, { n: String(attemptsLeft) })}</p>
      <button type="submit" id="document-send" class="button button--primary">${t.documentSend}</button>
    </form>
    ${cancel(id, csrf, lang)}`;
  return renderLayout({ title: t.documentTitle, body, lang, languagePath: `/onboarding/${encodeURIComponent(id)}` });
}

const cancel = (id: string, csrf: string, lang: Lang) => html`
    <form class="cancel" method="post" action="${safeUrl(`/onboarding/${encodeURIComponent(id)}/cancel`)}">
      <input type="hidden" name="csrf" value="${csrf}">
      <button type="submit" id="cancel" class="button button--secondary">${messagesOf(lang).onboarding.cancel}</button>
    </form>`;

/**
 * The live capture at high: the sign-in page's capture form (its ids and data attributes, so
 * sign-in.js runs it unchanged) without the ID field: the onboarding knows who she claims to be.
 */
export function renderOnboardingCapture({ id, csrf, endpoints, feedback = [], lang = 'en' }: {
  id: string; csrf: string; endpoints: { capture: string; quality: string; verify: string }; feedback?: Feedback[]; lang?: Lang;
}): string {
  const t = messagesOf(lang).onboarding;
  const s = messagesOf(lang).signIn;
  const body = html`
    <h1>${t.captureTitle}</h1>
    <p class="lead">${t.captureLead}</p>
    <p>${describeLevel('high', lang)}</p>
    ${status(feedback, lang)}
    <form id="sign-in-form" class="sign-in" method="post" action="${safeUrl(endpoints.verify)}" enctype="multipart/form-data" data-state="idle"
      data-interaction="${id}" data-capture="${safeUrl(endpoints.capture)}" data-quality="${safeUrl(endpoints.quality)}" data-acr="high">
      <input type="hidden" name="csrf" value="${csrf}">
      <fieldset class="field photo">
        <legend>${s.photoLegend}</legend>
        <div id="camera" class="camera" hidden>
          <p id="camera-intro" class="hint">${s.cameraIntro}</p>
          <button type="button" id="camera-start" class="button button--primary" aria-describedby="camera-intro">${s.cameraStart}</button>
          <ol id="progress" class="progress" aria-label="${s.progressLabel}" hidden></ol>
          <div id="challenge" class="challenge" aria-live="assertive" aria-atomic="true"></div>
          <p id="countdown" class="countdown" aria-live="polite" aria-atomic="true"></p>
          <div id="camera-frame" class="camera-frame" hidden>
            <video id="camera-video" class="camera-video" playsinline muted aria-label="${s.videoLabel}"></video>
            <div class="camera-oval" aria-hidden="true"></div>
          </div>
          <p id="camera-guidance" class="guidance" aria-live="polite" aria-atomic="true"></p>
        </div>
        <section id="fallback" class="fallback" aria-labelledby="fallback-title" tabindex="-1">
          <h2 id="fallback-title">${s.fallbackTitle}</h2>
          <p>${s.fallbackText}</p>
          <p class="notice">${s.noUpload}</p>
          <p>${t.refusedOther}</p>
        </section>
      </fieldset>
    </form>
    <section class="tips" aria-labelledby="tips-title">
      <h2 id="tips-title">${s.tipsTitle}</h2>
      <ul>${s.tips.map((tip) => html`
        <li>${tip}</li>`)}
      </ul>
    </section>
    ${cancel(id, csrf, lang)}`;
  return renderLayout({
    title: t.captureTitle, body, lang, languagePath: `/onboarding/${encodeURIComponent(id)}`, data: clientMessages(lang),
    scripts: ['capture-plan.js', 'ui.js', 'camera.js', 'live-hints.js', 'sign-in.js'],
  });
}

/** The outcome: enrolled (sign in now), or refused with its reason. */
export function renderOnboardingOutcome({ outcome, feedback, lang = 'en' }: { outcome: 'onboarded' | 'refused'; feedback?: Feedback; lang?: Lang }): string {
  const t = messagesOf(lang).onboarding;
  const title = outcome === 'onboarded' ? t.doneTitle : t.refusedTitle;
  const body = html`
    <h1>${title}</h1>
    <div id="onboarding-outcome" class="status ${outcome === 'onboarded' ? 'status--success' : 'status--error'}" role="status" data-outcome="${outcome}"${feedback ? html` data-code="${feedback.code}"` : ''}>
      ${outcome === 'onboarded' ? html`<p>${t.doneText}</p>` : html`${renderFeedback(feedback ? [feedback] : [], lang)}<p>${t.refusedText}</p><p>${t.refusedOther}</p>`}
    </div>
    ${outcome === 'refused' ? html`<p><a class="button button--secondary" href="/onboarding">${t.again}</a></p>` : ''}`;
  return renderLayout({ title, body, lang });
}

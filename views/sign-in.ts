// The sign-in page: claim an identity (national ID) and send a face photo; works without JavaScript,
// and /static/sign-in.js adds the live camera. Imports only view modules (no server code).

import { describeLevel, labelClaims, type AssuranceLevel } from './claims.ts';
import { html, safeUrl, type SafeHtml } from './html.ts';
import { renderLayout } from './layout.ts';

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
  /** Messages from the previous attempt, shown in the status region. */
  feedback?: Feedback[];
  /** Refills the ID field after a failed attempt. */
  nationalId?: string;
}

/** The status region's content: the feedback list, or nothing. */
export function renderFeedback(feedback: readonly Feedback[] = []): SafeHtml {
  if (feedback.length === 0) return html``;
  return html`<h2 class="status-title">Please try again</h2>
      <ul class="feedback">${feedback.map((f) => html`<li data-code="${f.code}">${f.message}</li>`)}</ul>`;
}

/** Renders the complete sign-in page. */
export function renderSignIn(props: SignInProps): string {
  const { uid, clientName, acr, claims, csrf, endpoints, feedback = [], nationalId = '' } = props;
  const labels = labelClaims(claims.filter((name) => name !== 'auth_time')); // as on the consent page
  const hasFeedback = feedback.length > 0;
  const body = html`
    <h1>Prove who you are</h1>
    <p class="lead"><strong>${clientName}</strong> asks you to prove who you are.</p>
    <p>${describeLevel(acr)}</p>
    ${labels.length > 0 ? html`<p>${clientName} has asked for: ${labels.join('; ')}.</p>` : ''}

    <div id="status" class="status${hasFeedback ? ' status--error' : ''}" role="status" aria-live="polite" tabindex="-1">${renderFeedback(feedback)}</div>

    <form id="sign-in-form" class="sign-in" method="post" action="${safeUrl(endpoints.verify)}" enctype="multipart/form-data"
      data-interaction="${uid}" data-capture="${safeUrl(endpoints.capture)}" data-quality="${safeUrl(endpoints.quality)}" data-acr="${acr}">
      <input type="hidden" name="csrf" value="${csrf}">

      <div class="field">
        <label for="nationalId">Your national ID number</label>
        <p id="nationalId-hint" class="hint">6 to 20 letters and numbers, as on your ID card, without spaces.</p>
        <input id="nationalId" name="nationalId" type="text" value="${nationalId}" autocomplete="off" inputmode="text"
          autocapitalize="characters" spellcheck="false" required minlength="6" maxlength="20" pattern="[A-Za-z0-9]{6,20}"
          title="6 to 20 letters and numbers" aria-describedby="nationalId-hint">
      </div>

      <fieldset class="field photo">
        <legend>A photo of your face</legend>
        <div id="camera" class="camera" hidden>
          <button type="button" id="camera-start" class="button button--secondary">Use my camera</button>
          <p id="camera-prompt" class="camera-prompt" aria-live="assertive"></p>
          <video id="camera-video" class="camera-video" playsinline muted hidden aria-label="Camera preview"></video>
          <p id="camera-guidance" class="hint" aria-live="polite"></p>
          <p class="or" aria-hidden="true">or</p>
        </div>
        <label for="frame">Take or choose a photo</label>
        <p id="frame-hint" class="hint">On a phone this opens the front camera. Hold it at eye level and look straight at it.</p>
        <input id="frame" name="frame" type="file" accept="image/jpeg,image/png,image/webp" capture="user" multiple required
          aria-describedby="frame-hint">
      </fieldset>

      <button type="submit" id="verify" class="button button--primary">Verify my face</button>
    </form>

    <section class="tips" aria-labelledby="tips-title">
      <h2 id="tips-title">Tips for a good photo</h2>
      <ul>
        <li>Find good light. Face a window or a lamp; do not stand with the light behind you.</li>
        <li>Face the camera and keep your head straight. Only your face should be in the picture.</li>
        <li>Remove sunglasses, hats and face masks. Everyday glasses are fine.</li>
      </ul>
    </section>

    <form class="cancel" method="post" action="${safeUrl(endpoints.abort)}">
      <input type="hidden" name="csrf" value="${csrf}">
      <button type="submit" class="button button--secondary">Cancel</button>
    </form>`;
  return renderLayout({
    title: hasFeedback ? 'Try again: prove who you are' : 'Prove who you are',
    body,
    scripts: ['capture-plan.js', 'ui.js', 'camera.js', 'sign-in.js'],
  });
}

// The development enrollment page (/demo/enroll, never in production): a made-up national ID, a
// name, a birth date and a photo from the webcam or a file, shown back for the citizen to keep or
// retake before anything is sent (enroll.js; without JavaScript the form posts the chosen file).
// Imports only views/.
//
// Test contract: #enroll-form, #enroll-nationalId, #enroll-givenName, #enroll-familyName,
// #enroll-birthdate, #photo (file input), #enroll-camera-start, #enroll-video, #enroll-snap,
// #enroll-review (the photo shown back: #enroll-review-photo, #enroll-use, #enroll-retake),
// #enroll-submit, #status, #sign-in-link (after success).

import { html, safeUrl, type SafeHtml } from './html.ts';
import { codeMessage, fill, messagesOf, type Lang } from './i18n/index.ts';
import { renderLayout } from './layout.ts';
import type { Feedback } from './sign-in.ts';

/** What `renderEnroll` needs. */
export interface EnrollProps {
  csrf: string;
  /** Where the form posts (multipart: csrf, nationalId, givenName, familyName, birthdate, photo). */
  action: string;
  /** Values to refill after a refusal. */
  values?: Partial<Record<'nationalId' | 'givenName' | 'familyName' | 'birthdate', string>>;
  /** Why the last attempt was refused (codes from the error catalogue). */
  feedback?: Feedback[];
  /** Set after success: who was enrolled, and where to sign in. */
  enrolled?: { name: string; nationalId: string; signInUrl: string };
  lang?: Lang;
}

function field(id: string, name: string, label: string, value: string, extra: SafeHtml): SafeHtml {
  return html`
      <div class="field">
        <label for="${id}">${label}</label>
        <input id="${id}" name="${name}" value="${value}" ${extra}>
      </div>`;
}

/** Renders the enrollment page (the form, or the success message with the link to the demo agency). */
export function renderEnroll({ csrf, action, values = {}, feedback = [], enrolled, lang = 'en' }: EnrollProps): string {
  const m = messagesOf(lang);
  const t = m.demo;
  const status = enrolled
    ? html`<h2 class="status-title">${t.enrolled}</h2><p>${fill(t.enrolledText, { name: enrolled.name, id: enrolled.nationalId })}</p>`
    : feedback.length
      ? html`<h2 class="status-title">${t.refused}</h2>
      <ul class="feedback">${feedback.map((f) => html`<li data-code="${f.code}">${codeMessage(lang, f.code, f.message)}</li>`)}</ul>`
      : '';
  const kind = enrolled ? ' status--success' : feedback.length ? ' status--error' : '';
  const body = html`
    <h1>${t.enrollTitle}</h1>
    <p class="lead">${t.enrollLead}</p>
    <div id="status" class="status${kind}" role="status" aria-live="polite" tabindex="-1">${status}</div>
    ${enrolled ? html`<p><a id="sign-in-link" class="button button--primary" href="${safeUrl(enrolled.signInUrl)}">${t.signInNow}</a></p>` : ''}
    ${enrolled ? '' : html`<form id="enroll-form" class="enroll" method="post" action="${safeUrl(action)}" enctype="multipart/form-data">
      <input type="hidden" name="csrf" value="${csrf}">
      ${field('enroll-nationalId', 'nationalId', t.nationalId, values.nationalId ?? '',
        html`type="text" required minlength="6" maxlength="20" pattern="[A-Za-z0-9]{6,20}" autocomplete="off" autocapitalize="characters" spellcheck="false"`)}
      ${field('enroll-givenName', 'givenName', t.givenName, values.givenName ?? '', html`type="text" required maxlength="200" autocomplete="given-name"`)}
      ${field('enroll-familyName', 'familyName', t.familyName, values.familyName ?? '', html`type="text" required maxlength="200" autocomplete="family-name"`)}
      ${field('enroll-birthdate', 'birthdate', t.birthdate, values.birthdate ?? '', html`type="date" required autocomplete="bday"`)}
      <fieldset class="field photo">
        <legend>${t.photoLegend}</legend>
        <p id="photo-hint" class="hint">${t.photoHint}</p>
        <div id="enroll-camera" class="camera" hidden>
          <button type="button" id="enroll-camera-start" class="button button--secondary">${t.cameraStart}</button>
          <div id="enroll-frame" class="camera-frame" hidden>
            <video id="enroll-video" class="camera-video" playsinline muted aria-label="${m.signIn.videoLabel}"></video>
            <div class="camera-oval" aria-hidden="true"></div>
          </div>
          <button type="button" id="enroll-snap" class="button button--primary" hidden>${t.takePhoto}</button>
        </div>
        <div id="enroll-choose">
          <label for="photo">${t.orUpload}</label>
          <input id="photo" name="photo" type="file" accept="image/jpeg,image/png,image/webp" required aria-describedby="photo-hint">
        </div>
        <div id="enroll-review" class="review" role="group" aria-labelledby="enroll-review-title" hidden>
          <h2 id="enroll-review-title" class="review-title" tabindex="-1">${t.reviewTitle}</h2>
          <p id="enroll-review-text">${t.reviewText}</p>
          <div id="enroll-review-frame" class="review-frame"></div>
          <div class="actions">
            <button type="button" id="enroll-use" class="button button--primary" aria-describedby="enroll-review-text">${t.usePhoto}</button>
            <button type="button" id="enroll-retake" class="button button--secondary">${t.retake}</button>
          </div>
        </div>
      </fieldset>
      <button type="submit" id="enroll-submit" class="button button--primary">${t.submit}</button>
    </form>`}`;
  return renderLayout({
    title: t.enrollTitle, body, lang, languagePath: '/demo/enroll',
    headerName: fill(t.header, { service: m.layout.serviceName }),
    scripts: ['camera.js', 'enroll.js'],
    data: { reviewAlt: t.reviewAlt },
  });
}

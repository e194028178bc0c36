// The sign-in page's script: camera preview with live hints and an oval that shows the fit, a
// get-ready countdown, then the capture streamed to the server (frames as they are taken, the
// server's instructions one step at a time with progress), results in the live regions; the
// fallback when no camera.
// Plain browser JS (no build step); needs capture-plan.js, ui.js, camera.js, live-hints.js first. Without it the form posts.
(function () {
  'use strict';
  var F = window.Facegate;
  var form = document.getElementById('sign-in-form');
  if (!form || !F || !F.plan || !F.ui || !F.camera || !F.hints || !window.fetch || !window.FormData || !window.Promise || !window.WebSocket) return;
  var P = F.plan;

  var S = {};
  try { S = JSON.parse(document.getElementById('messages').textContent) || {}; } catch (e) { S = {}; }
  var status = document.getElementById('status');
  var idInput = document.getElementById('nationalId');
  var fileInput = document.getElementById('frame');
  var cameraBox = document.getElementById('camera');
  var frameBox = document.getElementById('camera-frame');
  var startButton = document.getElementById('camera-start');
  var challenge = document.getElementById('challenge');
  var countdown = document.getElementById('countdown');
  var progress = document.getElementById('progress');
  var guidance = document.getElementById('camera-guidance');
  var fallback = document.getElementById('fallback');
  var cancel = document.getElementById('cancel');
  var csrf = form.elements.csrf.value;
  var captureUrl = form.getAttribute('data-capture');
  var qualityUrl = form.getAttribute('data-quality');
  var camera = F.camera.supported() ? F.camera.create(document.getElementById('camera-video')) : null;

  var QUALITY_PERIOD = 330; // about 3 requests a second, never two at once
  var HOLD_MS = 1000;       // quality must hold this long before the capture starts
  var MAX_TICKS = 600;      // about 3 minutes of hints, then the citizen presses "Try again"
  var COUNTDOWN = 2;        // seconds of "get ready" (the quality hold runs meanwhile)
  var FRAME_PERIOD = 200;   // a frame every 200 ms while streaming (the server allows 100 on average)
  var FRAME_SIDE = 640;     // frames at 640 px on their long side: 30-60 KB each
  var FRAME_QUALITY = 0.85;
  var MAX_BUFFERED = 256 * 1024;

  var session = null; // { captureId, nationalId, steps, stream, expiresAt }
  var stopHints = function () {}; // stops the running quality loop, if any
  var finished = false;

  function setState(state) { form.setAttribute('data-state', state); form.setAttribute('aria-busy', state === 'submitting' ? 'true' : 'false'); }
  function state() { return form.getAttribute('data-state'); }
  function say(region, text) { if (region.textContent !== text) region.textContent = text; }
  function translate(items) { return items.map(function (f) { return { code: f.code, message: P.messageFor(f, S) }; }); }
  function showStatus(kind, title, items, focus) { F.ui.showStatus(status, kind, title, translate(items || []), focus); }
  function call(url, body, json) { return F.ui.post(url, body, json, csrf); }

  function showButton(label) {
    startButton.textContent = label;
    startButton.hidden = false;
    startButton.disabled = false;
  }

  // ---- fallback: no camera, or the camera was refused -------------------------------------------
  function enterFallback(reason, focus) {
    stopHints();
    if (camera) camera.close();
    setState('fallback');
    say(guidance, '');
    cameraBox.hidden = true;
    fallback.hidden = false;
    if (fileInput) fileInput.required = true;
    showStatus('error', reason === 'blocked' ? S.blocked : S.noCamera, [], false);
    if (focus !== false) fallback.focus();
  }

  // ---- the quality loop (live-hints.js): a hint only when it changes, capture once quality holds ---
  function watchQuality() {
    stopHints();
    setState('camera');
    // Get ready while the quality loop watches: the capture starts when both are over.
    var ready = getReady();
    stopHints = F.hints.watch({
      camera: camera, url: qualityUrl, strings: S, period: QUALITY_PERIOD, holdMs: HOLD_MS, maxTicks: MAX_TICKS,
      post: function (url, data) { return call(url, data, false); },
      onHint: function (text) { say(guidance, text); },
      onQuality: function (ok) { frameBox.setAttribute('data-fit', ok ? 'good' : 'adjust'); },
      onReady: function () { ready.then(capture); },
      onFatal: showError,
      onGiveUp: stopWithButton,
    });
  }

  function stopWithButton() {
    setState('retry');
    say(guidance, '');
    showStatus('error', S.tryAgain, [], true);
    showButton(S.tryAgainButton);
  }

  // ---- capture: start (or reuse) the session, then stream it ------------------------------------
  function ensureSession(nationalId) {
    if (session && session.nationalId === nationalId && !P.isExpired(session.expiresAt, Date.now())) return Promise.resolve(session);
    // A proof of life has no ID field: the agency's request named the citizen.
    return call(captureUrl, idInput ? { nationalId: nationalId } : {}, true).then(function (res) {
      if (!res.ok || !res.body || !res.body.captureId) { showError(res); return null; }
      var b = res.body;
      session = { captureId: b.captureId, nationalId: nationalId, steps: b.steps || 0, stream: b.stream, expiresAt: b.expiresAt };
      return session;
    });
  }

  // The progress through the steps: look straight, then each instruction (its words come with its prompt).
  function showProgress(steps, current, done) {
    progress.textContent = '';
    progress.hidden = false;
    for (var k = 0; k <= steps; k++) {
      var item = document.createElement('li');
      item.textContent = k === 0 ? S.progressStraight : P.fill(S.step, { n: k, total: steps });
      if (k < current || (k === current && done)) item.className = 'done';
      if (k === current && !done) { item.className = 'current'; item.setAttribute('aria-current', 'step'); }
      progress.appendChild(item);
    }
  }

  // A get-ready moment before the capture: what will happen and a short countdown, while the
  // quality loop keeps watching; the capture starts when both are over.
  function getReady() {
    var left = COUNTDOWN;
    say(challenge, S.getReady);
    return new Promise(function (resolve) {
      (function tick() {
        if (left <= 0) return resolve();
        say(countdown, P.fill(S.countdown, { n: left }));
        left--;
        setTimeout(tick, 1000);
      })();
    }).then(function () { say(countdown, ''); say(challenge, ''); });
  }

  function capture() {
    setState('capturing');
    say(guidance, S.holdStill);
    return ensureSession(idInput ? idInput.value.trim() : '').then(function (s) {
      return s ? stream(s) : null;
    }).catch(function (err) {
      say(challenge, '');
      setState('retry');
      showStatus('error', S.tryAgain, [{ message: err && err.message === 'camera_not_ready' ? S.cameraFailed : S.network }], true);
      showButton(S.tryAgainButton);
    });
  }

  // One streamed submission (docs/capture-api.md): frames go as they are taken, ~5 a second; the
  // server times the instructions and answers within about a second of the last frame.
  function stream(s) {
    return new Promise(function (resolve) {
      var ws;
      try { ws = new WebSocket(P.streamUrl(s.stream, window.location)); } catch (e) { resolve(showError({ status: 0, body: null })); return; }
      var seq = 0;
      var sending = false;
      var settled = false;
      var steps = s.steps;
      function finish(result) { if (!settled) { settled = true; sending = false; resolve(result); } }
      function pump() {
        if (!sending || ws.readyState !== 1) return;
        var started = Date.now();
        // Skip a beat when the network is behind rather than queueing stale frames.
        var behind = ws.bufferedAmount > MAX_BUFFERED;
        var snapped = behind ? Promise.resolve(null) : camera.snap(FRAME_SIDE, FRAME_QUALITY, true);
        snapped.then(function (blob) {
          if (blob && sending && ws.readyState === 1) ws.send(new Blob([P.frameHeader(seq++), blob]));
          // No new camera frame yet: look again shortly (never the same frame twice).
          setTimeout(pump, blob || behind ? Math.max(0, FRAME_PERIOD - (Date.now() - started)) : 30);
        }, function () { sending = false; try { ws.close(); } catch (e) { /* closed */ } });
      }
      ws.onopen = function () { ws.send(JSON.stringify({ type: 'start', csrf: csrf })); };
      ws.onmessage = function (event) {
        var m;
        try { m = JSON.parse(event.data); } catch (e) { return; }
        if (m.type === 'ready') { steps = m.steps; sending = true; pump(); }
        else if (m.type === 'prompt') onPrompt(m, steps);
        else if (m.type === 'done') onStepDone(m);
        else if (m.type === 'hint') say(guidance, P.hintFor({ feedback: [m] }, S));
        else if (m.type === 'checking') { sending = false; checking(); }
        else if (m.type === 'verdict') finish(handleResult({ ok: true, status: 200, body: m }));
        else if (m.type === 'error') finish(showError({ ok: false, status: 400, body: { error: m } }));
      };
      ws.onerror = function () { /* onclose follows */ };
      ws.onclose = function () {
        if (settled) return;
        say(challenge, '');
        setState('retry');
        showStatus('error', S.tryAgain, [{ message: S.network }], true);
        showButton(S.tryAgainButton);
        finish(null);
      };
    });
  }

  function onPrompt(m, steps) {
    if (m.action === 'look_straight') {
      setState('capturing');
      say(challenge, S.lookStraight);
      say(guidance, '');
      if (steps) showProgress(steps, 0, false);
    } else {
      setState('challenge');
      challenge.setAttribute('data-action', m.action);
      say(challenge, P.fill(S.step, { n: m.step, total: m.steps }) + ': ' + P.actionWords(m.action, S));
      say(guidance, '');
      showProgress(m.steps, m.step, false);
    }
    // The instruction sits above the preview: keep both on a small screen.
    if (challenge.scrollIntoView) challenge.scrollIntoView({ block: 'nearest' });
  }

  function onStepDone(m) {
    challenge.removeAttribute('data-action');
    showProgress(m.steps, m.step, true);
    say(challenge, m.step < m.steps ? S.nextStep : S.holdStill);
  }

  function checking() {
    setState('submitting');
    challenge.removeAttribute('data-action');
    say(challenge, '');
    say(guidance, S.checking);
    showStatus('', S.checking, [], false);
    if (guidance.scrollIntoView) guidance.scrollIntoView({ block: 'nearest' });
  }

  function handleResult(res) {
    var b = res.body || {};
    if (!res.ok) return showError(res);
    var items = P.messagesOf(b);
    if (b.status === 'verified') {
      finished = true;
      setState('verified');
      camera.close();
      showStatus('success', S.verified, [], true);
      if (b.redirectTo) window.location.assign(b.redirectTo); else window.location.reload();
      return null;
    }
    if (b.status === 'retry' && b.stepUp && session) {
      // A step-up: the same capture wants the challenge now. Say why, then go into it.
      session.steps = b.stepUp.steps;
      showStatus('', S.tryAgain, items, false);
      return getReady().then(function () { return stream(session); });
    }
    if (b.status === 'retry') {
      setState('retry');
      showStatus('error', S.tryAgain, items, true);
      showButton(S.tryAgainButton);
      return null;
    }
    // rejected: a capture with attempts left stays open, so its attempt limit holds.
    setState('rejected');
    // Her registry photo may be missing or unusable: the document onboarding is offered (to every ID alike).
    var offer = document.getElementById('onboarding-offer');
    if (offer) offer.hidden = false;
    if (b.attemptsLeft > 0) {
      showStatus('error', S.rejectedTitle, items, true);
      showButton(S.tryAgainButton);
    } else {
      endHere(S.rejectedTitle, items);
    }
    return null;
  }

  /** Nothing more can be tried in this sign-in: say so and point to the way back. */
  function endHere(title, items) {
    finished = true;
    session = null;
    camera && camera.close();
    frameBox.hidden = true;
    startButton.hidden = true;
    say(guidance, '');
    showStatus('error', title, items.concat([{ message: S.goBack }]), false);
    cancel.focus();
  }

  function showError(res) {
    var body = res.body || {};
    var err = body.error && typeof body.error === 'object' ? body.error : { code: body.error, message: body.message };
    var code = err.code;
    var items = P.messagesOf(body);
    if (!items.length) items = [{ message: res.status >= 500 ? S.serverError : S.network }];
    say(challenge, '');
    if (code === 'capture_expired' || code === 'capture_closed' || code === 'capture_not_found') session = null;
    if (code === 'locked' || code === 'rate_limited' || code === 'too_many_captures' || code === 'interaction_not_found') {
      var retryAt = err.retryAt || body.retryAt;
      var time = retryAt ? P.localTime(retryAt, S.lang, Date.now()) : null;
      if (time) {
        // The citizen's own clock and language, not the server's UTC text.
        items = [{ code: code, message: (S.codes && S.codes[code]) || err.message }, { message: P.fill(S.retryAt, { time: time }) }];
      }
      setState('rejected');
      endHere(S.startAgain, items);
      return null;
    }
    if (code === 'duplicate_identity' || code === 'onboarding_closed') {
      // The onboarding is refused for good: another capture cannot change it.
      setState('rejected');
      endHere(S.startAgain, items);
      return null;
    }
    setState('retry');
    showStatus('error', S.tryAgain, items, true);
    showButton(S.tryAgainButton);
    return null;
  }

  // ---- start ----------------------------------------------------------------------------------------
  function begin() {
    if (finished || ['camera', 'capturing', 'challenge', 'submitting'].indexOf(state()) >= 0) return;
    if (idInput && !idInput.checkValidity()) { idInput.reportValidity(); idInput.focus(); return; }
    if (!camera) return enterFallback('none');
    startButton.hidden = true;
    frameBox.hidden = false;
    showStatus('', '', [], false);
    say(challenge, '');
    say(guidance, S.starting);
    guidance.focus();
    var opening = camera.isOpen() ? Promise.resolve() : camera.open();
    opening.then(function () {
      say(guidance, S.lookHere);
      // On a phone the preview, the instruction and the hint fill the screen from here.
      if (cameraBox.scrollIntoView) cameraBox.scrollIntoView({ block: 'start' });
      watchQuality();
    }, function (err) {
      var blocked = err && (err.name === 'NotAllowedError' || err.name === 'SecurityError');
      enterFallback(blocked ? 'blocked' : 'none');
    });
  }

  guidance.setAttribute('tabindex', '-1');
  if (fileInput) fileInput.required = false;
  if (camera) {
    fallback.hidden = true;
    cameraBox.hidden = false;
    startButton.addEventListener('click', begin);
    form.addEventListener('submit', function (event) {
      if (state() === 'fallback') return; // the upload posts the no-JavaScript form
      if (event.submitter && event.submitter.id === 'handoff-start') return; // "Use my phone's camera" posts its own form
      event.preventDefault();
      begin();
    });
    window.addEventListener('pagehide', function () { stopHints(); if (camera.isOpen()) camera.close(); });
  } else {
    enterFallback('none', false);
  }
  // The server's feedback (no-JavaScript post) is already rendered: bring it to attention.
  if (status.querySelector('.feedback')) status.focus();
})();

// The sign-in page's script: camera preview with live hints, automatic capture once quality holds,
// the challenge steps, frames upload, results in the live regions; the fallback when no camera.
// Plain browser JS (no build step); needs capture-plan.js, ui.js, camera.js, live-hints.js first. Without it the form posts.
(function () {
  'use strict';
  var F = window.Facegate;
  var form = document.getElementById('sign-in-form');
  if (!form || !F || !F.plan || !F.ui || !F.camera || !F.hints || !window.fetch || !window.FormData || !window.Promise) return;
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
  var guidance = document.getElementById('camera-guidance');
  var fallback = document.getElementById('fallback');
  var cancel = document.getElementById('cancel');
  var csrf = form.elements.csrf.value;
  var captureUrl = form.getAttribute('data-capture');
  var qualityUrl = form.getAttribute('data-quality');
  var camera = F.camera.supported() ? F.camera.create(document.getElementById('camera-video')) : null;

  var QUALITY_PERIOD = 330; // about 3 requests a second, never two at once
  var HOLD_MS = 1000;       // quality must hold this long before the photos are taken
  var MAX_TICKS = 600;      // about 3 minutes of hints, then the citizen presses "Try again"

  var session = null; // { captureId, nationalId, minFrames, maxFrames, actions, expiresAt }
  var stopHints = function () {}; // stops the running quality loop, if any
  var finished = false;

  function setState(state) { form.setAttribute('data-state', state); form.setAttribute('aria-busy', state === 'submitting' ? 'true' : 'false'); }
  function state() { return form.getAttribute('data-state'); }
  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }
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
    stopHints = F.hints.watch({
      camera: camera, url: qualityUrl, strings: S, period: QUALITY_PERIOD, holdMs: HOLD_MS, maxTicks: MAX_TICKS,
      post: function (url, data) { return call(url, data, false); },
      onHint: function (text) { say(guidance, text); },
      onReady: capture,
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

  // ---- capture: start (or reuse) the session, take the planned frames, submit -------------------
  function ensureSession(nationalId) {
    if (session && session.nationalId === nationalId && !P.isExpired(session.expiresAt, Date.now())) return Promise.resolve(session);
    return call(captureUrl, { nationalId: nationalId }, true).then(function (res) {
      if (!res.ok || !res.body || !res.body.captureId) { showError(res); return null; }
      var b = res.body;
      session = { captureId: b.captureId, nationalId: nationalId, minFrames: b.minFrames, maxFrames: b.maxFrames, actions: b.actions || [], expiresAt: b.expiresAt };
      return session;
    });
  }

  // Draws the frame now (its timestamp is the frame's); the JPEG encoding finishes later.
  function shotAfter(wait, blobs, stamps) {
    return function () {
      return sleep(wait).then(function () {
        stamps.push(Date.now());
        blobs.push(camera.snap(1280, 0.9));
      });
    };
  }

  function shoot(s) {
    var segments = P.planShots(s);
    var blobs = [];
    var stamps = [];
    var chain = Promise.resolve();
    segments.forEach(function (seg) {
      chain = chain.then(function () {
        if (seg.kind === 'action') {
          setState('challenge');
          say(challenge, P.fill(S.step, { n: seg.step, total: seg.total }) + ': ' + P.actionWords(seg.action, S));
          say(guidance, '');
        } else if (s.actions.length) {
          say(challenge, S.lookStraight);
        }
        // The instruction sits above the preview: keep both on a small screen.
        if (s.actions.length && challenge.scrollIntoView) challenge.scrollIntoView({ block: 'nearest' });
        return sleep(seg.lead);
      }).then(function () {
        var shots = Promise.resolve();
        for (var i = 0; i < seg.frames; i++) shots = shots.then(shotAfter(i === 0 ? 0 : seg.interval, blobs, stamps));
        return shots;
      });
    });
    return chain.then(function () { return Promise.all(blobs); }).then(function (done) {
      say(challenge, '');
      return { blobs: done, timestamps: stamps };
    });
  }

  function capture() {
    setState('capturing');
    say(guidance, S.holdStill);
    return ensureSession(idInput.value.trim()).then(function (s) {
      if (!s) return null;
      return shoot(s).then(function (frames) { return submit(s, frames); });
    }).catch(function (err) {
      say(challenge, '');
      setState('retry');
      showStatus('error', S.tryAgain, [{ message: err && err.message === 'camera_not_ready' ? S.cameraFailed : S.network }], true);
      showButton(S.tryAgainButton);
    });
  }

  function submit(s, frames) {
    setState('submitting');
    say(guidance, '');
    showStatus('', S.checking, [], false);
    var data = new FormData();
    frames.blobs.forEach(function (blob, i) { data.append('frame', blob, 'frame-' + (i + 1) + '.jpg'); });
    data.append('timestamps', JSON.stringify(frames.timestamps));
    return call(captureUrl + '/' + encodeURIComponent(s.captureId) + '/frames', data, false).then(handleResult);
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
    if (b.status === 'retry' && Array.isArray(b.actions) && b.actions.length && session) {
      // A step-up: the same capture wants the challenge now. Say why, then go straight into it.
      session.actions = b.actions;
      if (b.minFrames) session.minFrames = b.minFrames;
      if (b.maxFrames) session.maxFrames = b.maxFrames;
      showStatus('', S.tryAgain, items, false);
      return sleep(1500).then(capture);
    }
    if (b.status === 'retry') {
      setState('retry');
      showStatus('error', S.tryAgain, items, true);
      showButton(S.tryAgainButton);
      return null;
    }
    // rejected: a capture with attempts left stays open, so its attempt limit holds.
    setState('rejected');
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
      var when = retryAt ? new Date(typeof retryAt === 'number' && retryAt < 1e12 ? retryAt * 1000 : retryAt) : null;
      if (when && isFinite(when.getTime()) && S.lang !== 'en') { // the English message already says when
        items = items.concat([{ message: P.fill(S.retryAt, { time: when.toLocaleTimeString(S.lang, { hour: '2-digit', minute: '2-digit' }) }) }]);
      }
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
    if (!idInput.checkValidity()) { idInput.reportValidity(); idInput.focus(); return; }
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

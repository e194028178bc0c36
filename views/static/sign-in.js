// The sign-in page's script: live camera, capture session, frames upload, feedback in the live region.
// Plain browser JS (no build step); needs capture-plan.js, ui.js, camera.js first. Without it the form posts.
(function () {
  'use strict';
  var F = window.Facegate;
  var form = document.getElementById('sign-in-form');
  if (!form || !F || !F.plan || !F.ui || !window.fetch || !window.FormData || !window.Promise) return;

  var status = document.getElementById('status');
  var submit = document.getElementById('verify');
  var idInput = document.getElementById('nationalId');
  var fileInput = document.getElementById('frame');
  var cameraBox = document.getElementById('camera');
  var startButton = document.getElementById('camera-start');
  var prompt = document.getElementById('camera-prompt');
  var guidance = document.getElementById('camera-guidance');
  var csrf = form.elements.csrf.value;
  var captureUrl = form.getAttribute('data-capture');
  var qualityUrl = form.getAttribute('data-quality');
  var camera = F.camera && F.camera.supported() ? F.camera.create(document.getElementById('camera-video')) : null;
  var session = null; // the open capture: { captureId, nationalId, minFrames, maxFrames, actions, expiresAt }
  var busy = false;
  var finished = false;
  var qualityTimer = null;

  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

  function showStatus(kind, title, messages, focus) { F.ui.showStatus(status, kind, title, messages, focus); }

  function setBusy(on) {
    busy = on;
    submit.disabled = on || finished;
    submit.textContent = on ? 'Checking…' : 'Verify my face';
    if (startButton) startButton.disabled = on;
    form.setAttribute('aria-busy', on ? 'true' : 'false');
  }

  function call(url, body, json) { return F.ui.post(url, body, json, csrf); }

  // A 4xx/5xx answer: show its message; a dead capture session is dropped so the next try starts one.
  function showError(res) {
    var code = res.body && res.body.error && res.body.error.code;
    var messages = F.plan.messagesOf(res.body);
    if (!messages.length) messages = [{ message: res.status >= 500 ? 'Something went wrong on our side. Wait a moment and try again.' : 'The request was not accepted. Reload the page and try again.' }];
    if (code === 'capture_expired' || code === 'capture_closed' || code === 'capture_not_found') session = null;
    if (code === 'interaction_not_found') finished = true;
    showStatus('error', finished ? 'Start again' : 'Please try again', messages, true);
  }

  function startCapture(nationalId) {
    return call(captureUrl, { nationalId: nationalId }, true).then(function (res) {
      if (!res.ok || !res.body || !res.body.captureId) { showError(res); return null; }
      var b = res.body;
      return { captureId: b.captureId, nationalId: nationalId, minFrames: b.minFrames, maxFrames: b.maxFrames, actions: b.actions || [], expiresAt: b.expiresAt };
    });
  }

  function shoot(s) {
    var plan = F.plan.planShots(s);
    var blobs = [];
    var stamps = [];
    var chain = Promise.resolve();
    plan.forEach(function (shot, i) {
      chain = chain.then(function () {
        if (shot.prompt) prompt.textContent = shot.prompt;
        // The instructions sit above the preview: bring them on screen (the citizen pressed a button below).
        if (i === 0 && prompt.scrollIntoView) prompt.scrollIntoView({ block: 'start' });
        return sleep(shot.wait);
      }).then(function () {
        stamps.push(Date.now());
        blobs.push(camera.snap(1280, 0.9));
      });
    });
    return chain.then(function () { return Promise.all(blobs); }).then(function (done) {
      prompt.textContent = '';
      return { blobs: done, timestamps: stamps };
    });
  }

  function sendFrames(s, frames) {
    var data = new FormData();
    frames.blobs.forEach(function (blob, i) { data.append('frame', blob, blob.name || 'frame-' + (i + 1) + '.jpg'); });
    if (frames.timestamps) data.append('timestamps', JSON.stringify(frames.timestamps));
    return call(captureUrl + '/' + encodeURIComponent(s.captureId) + '/frames', data, false);
  }

  function handleResult(res) {
    var b = res.body || {};
    if (!res.ok) return showError(res);
    var messages = F.plan.messagesOf(b);
    if (b.status === 'verified') {
      finished = true;
      if (camera) camera.close();
      showStatus('success', 'Verified. Taking you back…', [], true);
      if (b.redirectTo) window.location.assign(b.redirectTo); else window.location.reload();
    } else if (b.status === 'retry') {
      showStatus('error', 'Please try again', messages, true);
    } else {
      // A rejected capture stays open while attemptsLeft > 0: keep it, so its attempt limit holds.
      if (b.attemptsLeft === 0) {
        session = null;
        finished = true;
        messages = messages.concat([{ message: 'You cannot try again now. Go back to the service you came from and start again.' }]);
      }
      showStatus('error', finished ? 'Start again' : 'We could not verify you', messages, true);
    }
  }

  function run() {
    var files = Array.prototype.slice.call(fileInput.files || []);
    var useCamera = !!(camera && camera.isOpen());
    if (!useCamera && files.length === 0) {
      showStatus('error', 'A photo is needed', [{ message: 'Choose “Use my camera”, or take or choose a photo.' }], true);
      return Promise.resolve();
    }
    setBusy(true);
    showStatus('', 'Checking…', [], false);
    var nationalId = idInput.value.trim();
    var ready = session && session.nationalId === nationalId && !F.plan.isExpired(session.expiresAt, Date.now())
      ? Promise.resolve(session) : startCapture(nationalId);
    return ready.then(function (s) {
      session = s;
      if (!s) return null;
      if (!useCamera && files.length < s.minFrames) {
        showStatus('error', 'More photos are needed', [{ message: 'This check needs ' + s.minFrames + ' photos. Choose “Use my camera”, or choose ' + s.minFrames + ' photos at once.' }], true);
        return null;
      }
      var frames = useCamera ? shoot(s) : Promise.resolve({ blobs: files.slice(0, s.maxFrames || files.length), timestamps: null });
      return frames.then(function (f) { return sendFrames(s, f); }).then(handleResult);
    });
  }

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    if (busy || finished) return;
    run().catch(function (err) {
      prompt.textContent = '';
      var message = err && err.message === 'camera_not_ready' ? 'The camera stopped. Choose “Use my camera” again.'
        : 'We could not reach the service. Check your internet connection and try again.';
      showStatus('error', 'Please try again', [{ message: message }], true);
    }).then(function () { setBusy(false); });
  });

  // Live guidance while the preview runs: a small frame to the cheap quality check every 3 s.
  function pollQuality(count) {
    if (!camera.isOpen() || count > 40) return;
    qualityTimer = setTimeout(function () {
      if (busy) return pollQuality(count + 1);
      camera.snap(640, 0.8).then(function (blob) {
        var data = new FormData();
        data.append('frame', blob, 'preview.jpg');
        return call(qualityUrl, data, false);
      }).then(function (res) {
        if (!res.ok || !res.body || busy) return;
        var text = res.body.ok ? 'Good. Press “Verify my face” when you are ready.' : (F.plan.messagesOf(res.body)[0] || {}).message;
        if (text && guidance.textContent !== text) guidance.textContent = text;
      }).catch(function () { /* guidance is optional */ }).then(function () { pollQuality(count + 1); });
    }, 3000);
  }

  function stopCamera() {
    clearTimeout(qualityTimer);
    camera.close();
    guidance.textContent = '';
    startButton.textContent = 'Use my camera';
    fileInput.required = true;
  }

  if (camera) {
    cameraBox.hidden = false;
    startButton.addEventListener('click', function () {
      if (camera.isOpen()) return stopCamera();
      camera.open().then(function () {
        startButton.textContent = 'Turn the camera off';
        fileInput.required = false;
        fileInput.value = '';
        guidance.textContent = 'Put your face in the middle of the picture, then press “Verify my face”.';
        pollQuality(0);
      }).catch(function (err) {
        camera.close();
        var blocked = err && (err.name === 'NotAllowedError' || err.name === 'SecurityError');
        showStatus('error', 'The camera did not open', [{ message: blocked
          ? 'Camera access was blocked. Allow the camera for this site in your browser settings, or use “Take or choose a photo”.'
          : 'No camera could be used. Use “Take or choose a photo” instead.' }], true);
      });
    });
    fileInput.addEventListener('change', function () { if (fileInput.files.length && camera.isOpen()) stopCamera(); });
    window.addEventListener('pagehide', function () { if (camera.isOpen()) camera.close(); });
  }

  if (status.querySelector('.feedback')) status.focus();
})();

// The desktop's "Finish on your phone" page: polls the handoff's progress (a small JSON read the
// server answers from the database, whichever instance gets it), says what the phone is doing, and
// once the phone's capture is verified posts "Continue" itself and follows to the agency. Also
// shows times (the code's expiry; on the phone's first page, when the computer started) in the
// citizen's own time. Plain browser JS; the polling needs ui.js first. Without it the page's
// "Continue" button does the same.
(function () {
  'use strict';
  var S = {};
  try { S = JSON.parse(document.getElementById('messages').textContent) || {}; } catch (e) { S = {}; }

  // Times in the citizen's own clock, in her browser's way of writing them when it speaks the page's
  // language (en-GB: 14:05, en-US: 02:05 PM), not the server's UTC text. Also on the phone's first page.
  var nav = (navigator.languages && navigator.languages[0]) || navigator.language || '';
  var locale = S.lang && nav.toLowerCase().indexOf(S.lang) === 0 ? nav : (S.lang || undefined);
  Array.prototype.forEach.call(document.querySelectorAll('time[datetime]'), function (t) {
    var d = new Date(t.getAttribute('datetime'));
    if (!isNaN(d.getTime()) && d.toLocaleTimeString) t.textContent = d.toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit' });
  });

  var F = window.Facegate;
  var box = document.getElementById('handoff');
  if (!box || !F || !F.ui || !window.fetch || !window.Promise) return;
  var states = S.states || {};
  var status = document.getElementById('handoff-status');
  var text = document.getElementById('handoff-state-text');
  var continueForm = document.getElementById('handoff-continue-form');
  var codeBox = box.querySelector('.handoff-box');
  var csrf = continueForm ? continueForm.elements.csrf.value : '';
  var statusUrl = box.getAttribute('data-status');
  var continueUrl = box.getAttribute('data-continue');
  var PERIOD = 2000;    // one small read every 2 s while the phone works
  var BACKOFF = 10000;  // after a network error
  var continuing = false;

  function show(state) {
    if (box.getAttribute('data-state') === state) return;
    box.setAttribute('data-state', state);
    if (states[state] && text.textContent !== states[state]) text.textContent = states[state];
    var bad = state === 'rejected' || state === 'expired' || state === 'cancelled';
    status.className = 'status' + (bad ? ' status--error' : state === 'verified' ? ' status--success' : '');
    var list = status.querySelector('.feedback');
    if (list) list.parentNode.removeChild(list);
    if (state === 'expired' || state === 'cancelled') {
      if (codeBox) codeBox.hidden = true;
      if (continueForm) continueForm.hidden = true;
      status.focus();
    }
  }

  function finish() {
    if (continuing) return;
    continuing = true;
    F.ui.post(continueUrl, {}, true, csrf).then(function (res) {
      if (res.ok && res.body && res.body.redirectTo) { window.location.assign(res.body.redirectTo); return; }
      continuing = false;
      later(PERIOD);
    }, function () { continuing = false; later(BACKOFF); });
  }

  function poll() {
    fetch(statusUrl, { headers: { Accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' }).then(function (res) {
      return res.json().then(function (b) { return { ok: res.ok, body: b }; });
    }).then(function (r) {
      var state = r.ok && r.body ? r.body.state : null;
      if (!state || state === 'none') return later(BACKOFF);
      show(state);
      if (state === 'verified') return finish();
      if (state === 'expired' || state === 'cancelled' || state === 'completed') return undefined;
      return later(PERIOD);
    }, function () { later(BACKOFF); });
  }

  var timer = null;
  function later(ms) { clearTimeout(timer); timer = setTimeout(poll, ms); }

  if (continueForm) {
    continueForm.addEventListener('submit', function (event) { event.preventDefault(); finish(); });
  }
  status.setAttribute('tabindex', '-1');
  var initial = box.getAttribute('data-state');
  if (initial === 'verified') finish();
  else if (initial !== 'expired' && initial !== 'cancelled' && initial !== 'completed') later(PERIOD);
})();

// The passkey step (views/passkey.ts): asks the server for WebAuthn options (a fresh single-use
// challenge), runs the ceremony with @simplewebauthn/browser (loaded before this file, from
// node_modules), posts the authenticator's answer, and follows the server's redirectTo. Plain
// browser JS, no build step; text through textContent only. Without WebAuthn the buttons stay hidden.
(function () {
  'use strict';
  var step = document.getElementById('passkey-step');
  if (!step) return;
  var status = document.getElementById('passkey-status');
  var messages = {};
  try { messages = JSON.parse(document.getElementById('messages').textContent); } catch (e) { messages = {}; }
  var lib = globalThis.SimpleWebAuthnBrowser;
  var mode = step.getAttribute('data-mode');
  var button = document.getElementById(mode === 'assert' ? 'passkey-use' : 'passkey-register');
  if (!button) return;

  function show(kind, text) {
    status.className = 'status' + (kind ? ' status--' + kind : '');
    status.textContent = text || '';
    if (kind === 'error') status.focus();
  }
  function messageOf(error) {
    var code = error && error.code;
    return (messages.codes && messages.codes[code]) || (error && error.message) || (messages.codes && messages.codes.internal_error) || '';
  }
  function post(url, body) {
    return fetch(url, {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': step.getAttribute('data-csrf') },
      body: JSON.stringify(body || {}),
    }).then(function (res) {
      return res.json().catch(function () { return null; }).then(function (data) { return { ok: res.ok, body: data }; });
    });
  }

  if (!lib || !lib.browserSupportsWebAuthn()) {
    show('error', messages.unsupported);
    return;
  }
  button.hidden = false;

  var busy = false;
  button.addEventListener('click', function () {
    if (busy) return;
    busy = true;
    button.disabled = true;
    show('', messages.working);
    post(step.getAttribute('data-options')).then(function (options) {
      if (!options.ok) throw { server: options.body && options.body.error };
      return mode === 'assert'
        ? lib.startAuthentication({ optionsJSON: options.body })
        : lib.startRegistration({ optionsJSON: options.body });
    }).then(function (response) {
      return post(step.getAttribute(mode === 'assert' ? 'data-authenticate' : 'data-register'), { response: response });
    }).then(function (answer) {
      if (!answer.ok) throw { server: answer.body && answer.body.error };
      var to = answer.body && (answer.body.redirectTo || answer.body.next);
      if (to) window.location.assign(to); else window.location.reload();
    }).catch(function (err) {
      busy = false;
      if (err && err.server) {
        show('error', messageOf(err.server));
        button.disabled = err.server.attemptsLeft === 0 || err.server.code === 'passkey_unavailable';
        return;
      }
      // The browser's own refusal (cancelled, timed out, not allowed): she may try again.
      button.disabled = false;
      show('error', messages.cancelled);
    });
  });
})();

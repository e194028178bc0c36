// Small page helpers for the sign-in script: render the live status region, POST with the CSRF header.
// Plain browser JS (no build step); builds DOM nodes with textContent only, never innerHTML.
(function (root) {
  'use strict';

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  /**
   * Replaces the status region's content: an optional title and a list of { code?, message }.
   * `kind` is '', 'error' or 'success'; `focus` moves focus there (when the citizen must act).
   */
  function showStatus(region, kind, title, messages, focus) {
    region.className = 'status' + (kind ? ' status--' + kind : '');
    region.textContent = '';
    if (title) region.appendChild(el('h2', 'status-title', title));
    if (messages && messages.length) {
      var list = el('ul', 'feedback');
      messages.forEach(function (m) {
        var item = el('li', '', m.message);
        if (m.code) item.setAttribute('data-code', m.code);
        list.appendChild(item);
      });
      region.appendChild(list);
    }
    if (focus) region.focus();
  }

  /** POSTs JSON (when `json`) or FormData with X-CSRF-Token; resolves { ok, status, body|null }. */
  function post(url, body, json, csrf) {
    var headers = { 'X-CSRF-Token': csrf, Accept: 'application/json' };
    if (json) headers['Content-Type'] = 'application/json';
    return fetch(url, { method: 'POST', headers: headers, body: json ? JSON.stringify(body) : body, credentials: 'same-origin' })
      .then(function (res) {
        return res.json().catch(function () { return null; }).then(function (data) {
          return { ok: res.ok, status: res.status, body: data };
        });
      });
  }

  root.Facegate = root.Facegate || {};
  root.Facegate.ui = { showStatus: showStatus, post: post };
})(globalThis);

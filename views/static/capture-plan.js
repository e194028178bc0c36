// Pure helpers for the sign-in script: the streamed frame's header and the stream's URL, the
// lockout's end in local time, the quality hold, message lookup by code, expiry. No DOM access here, so
// test/unit/views runs it in a sandbox. Plain browser JS (no build step).
(function (root) {
  'use strict';

  /** A streamed frame's first 4 bytes: its sequence number, big-endian (docs/capture-api.md). */
  function frameHeader(seq) {
    var head = new Uint8Array(4);
    head[0] = (seq >>> 24) & 255; head[1] = (seq >>> 16) & 255; head[2] = (seq >>> 8) & 255; head[3] = seq & 255;
    return head;
  }

  /** The capture's stream URL (ws:// or wss:// like the page) from its path. */
  function streamUrl(path, location) {
    return (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + path;
  }

  /**
   * When a lockout ends, in the citizen's own time zone and language: "14:05", or with the date
   * when it is not today. `retryAt` is an ISO string (or epoch seconds or ms); null if unreadable.
   */
  function localTime(retryAt, lang, now) {
    var when = new Date(typeof retryAt === 'number' && retryAt < 1e12 ? retryAt * 1000 : retryAt);
    if (!isFinite(when.getTime())) return null;
    var today = new Date(now);
    var time = when.toLocaleTimeString(lang, { hour: '2-digit', minute: '2-digit' });
    if (when.toDateString() === today.toDateString()) return time;
    return when.toLocaleDateString(lang, { weekday: 'long', day: 'numeric', month: 'long' }) + ' ' + time;
  }

  /**
   * Tracks whether quality has held for `holdMs`: `update(ok, now)` answers true once every
   * answer for at least `holdMs` was ok; any bad answer starts over.
   */
  function createHold(holdMs) {
    var since = null;
    return {
      update: function (ok, now) {
        if (!ok) { since = null; return false; }
        if (since === null) since = now;
        return now - since >= holdMs;
      },
      reset: function () { since = null; },
    };
  }

  /**
   * Steadies the live hint so a screen reader is not flooded: `update(text)` returns the text to
   * show once it arrived `times` times in a row, else null (keep showing the current one).
   */
  function createHintFilter(times) {
    var last = null;
    var count = 0;
    return {
      update: function (text) {
        count = text === last ? count + 1 : 1;
        last = text;
        return count >= times ? text : null;
      },
    };
  }

  /** The pause before the next quality request so requests start every `period` ms at most. */
  function nextDelay(startedAt, now, period) {
    return Math.max(0, period - (now - startedAt));
  }

  /**
   * A feedback item's message in the page language (by code), else the server's text. In English
   * the server's text wins (it is the catalogue's English and may carry details such as a time).
   */
  function messageFor(item, strings) {
    var codes = (strings && strings.codes) || {};
    if (strings && strings.lang === 'en' && item && item.message) return item.message;
    if (item && item.code && Object.prototype.hasOwnProperty.call(codes, item.code)) return codes[item.code];
    return (item && item.message) || '';
  }

  /** The short live hint for a /quality answer's first code, else its full message. */
  function hintFor(body, strings) {
    var first = body && Array.isArray(body.feedback) ? body.feedback[0] : null;
    if (!first) return (strings && strings.lookHere) || '';
    var hints = (strings && strings.hints) || {};
    if (Object.prototype.hasOwnProperty.call(hints, first.code)) return hints[first.code];
    return messageFor(first, strings);
  }

  /** Words for a challenge action in the page language; an unknown code turned into words. */
  function actionWords(action, strings) {
    var words = (strings && strings.actions) || {};
    if (Object.prototype.hasOwnProperty.call(words, action)) return words[action];
    var text = String(action).replace(/_/g, ' ');
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  /** Replaces `{name}` slots. */
  function fill(text, values) {
    return String(text).replace(/\{(\w+)\}/g, function (slot, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : slot;
    });
  }

  /** Whether a capture's `expiresAt` (ISO string, or epoch seconds or ms) is past, with 5 s to spare. */
  function isExpired(expiresAt, now) {
    var ms = typeof expiresAt === 'number' ? (expiresAt < 1e12 ? expiresAt * 1000 : expiresAt) : Date.parse(expiresAt);
    return isFinite(ms) && now > ms - 5000;
  }

  /** The feedback items of an API answer: `feedback[]`, or the `error`, or none. */
  function messagesOf(body) {
    if (body && Array.isArray(body.feedback)) return body.feedback.filter(function (f) { return f && (f.message || f.code); });
    if (body && body.error && typeof body.error === 'object') return [{ code: body.error.code, message: body.error.message }];
    if (body && typeof body.error === 'string') return [{ code: body.error, message: body.message || '' }];
    return [];
  }

  root.Facegate = root.Facegate || {};
  root.Facegate.plan = {
    frameHeader: frameHeader, streamUrl: streamUrl, localTime: localTime, createHold: createHold, createHintFilter: createHintFilter, nextDelay: nextDelay, messageFor: messageFor,
    hintFor: hintFor, actionWords: actionWords, fill: fill, isExpired: isExpired, messagesOf: messagesOf,
  };
})(globalThis);

// Pure helpers for the sign-in script: the shots of a capture (neutral, then one window per
// challenge action), the quality hold, message lookup by code, expiry. No DOM access here, so
// test/unit/views runs it in a sandbox. Plain browser JS (no build step).
(function (root) {
  'use strict';

  /**
   * Frames at substantial without actions: passive liveness is judged on the median of several,
   * spread over 1.6 s so that one bad moment (a hand, a blink, a dip of the light) is outvoted.
   */
  var PASSIVE_FRAMES = 5;
  var PASSIVE_INTERVAL = 400;
  /**
   * With actions: neutral frames first, then frames spread over each action's window, about 250 ms
   * apart: a head turn must be seen sweeping through the angles between straight and turned.
   */
  var NEUTRAL_FRAMES = 2;
  var ACTION_FRAMES = 8;
  var ACTION_WINDOW = 2000;
  var ACTION_LEAD = 1000;

  function clamp(n, lo, hi) { return Math.max(lo, Math.min(hi, n)); }

  /**
   * The segments of a capture answer `{ minFrames, maxFrames, actions }`, in order:
   * `{ kind: 'neutral'|'action', action?, step?, total?, frames, interval, lead }`: wait `lead` ms
   * after announcing the segment, then take `frames` shots `interval` ms apart. The total stays
   * within minFrames..maxFrames.
   */
  function planShots(capture) {
    var min = Math.max(1, Number(capture.minFrames) || 1);
    var max = Math.max(min, Number(capture.maxFrames) || min);
    var actions = Array.isArray(capture.actions) ? capture.actions : [];
    if (actions.length === 0) {
      return [{ kind: 'neutral', frames: clamp(PASSIVE_FRAMES, min, max), interval: PASSIVE_INTERVAL, lead: 0 }];
    }
    var neutral = max - actions.length >= NEUTRAL_FRAMES + actions.length ? NEUTRAL_FRAMES : 1;
    var per = clamp(Math.floor((max - neutral) / actions.length), 1, ACTION_FRAMES);
    // Too few in all: more neutral frames (never more than maxFrames).
    neutral = clamp(Math.max(neutral, min - per * actions.length), 1, max - per * actions.length);
    var segments = [{ kind: 'neutral', frames: neutral, interval: PASSIVE_INTERVAL, lead: 800 }];
    actions.forEach(function (action, i) {
      segments.push({
        kind: 'action', action: action, step: i + 1, total: actions.length, frames: per,
        interval: per > 1 ? Math.round(ACTION_WINDOW / per) : 0, lead: ACTION_LEAD,
      });
    });
    return segments;
  }

  /** The number of frames a plan takes. */
  function frameCount(segments) {
    return segments.reduce(function (n, s) { return n + s.frames; }, 0);
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
    planShots: planShots, frameCount: frameCount, createHold: createHold, createHintFilter: createHintFilter, nextDelay: nextDelay, messageFor: messageFor,
    hintFor: hintFor, actionWords: actionWords, fill: fill, isExpired: isExpired, messagesOf: messagesOf,
  };
})(globalThis);

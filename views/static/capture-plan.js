// Pure helpers for the sign-in script: words for challenge actions, the timing of the shots, expiry.
// Plain browser JS (no build step); no DOM access here, so test/unit/views runs it in a sandbox.
(function (root) {
  'use strict';

  var words = {
    blink: 'Blink',
    turn_left: 'Turn your head left',
    turn_right: 'Turn your head right',
    look_up: 'Look up',
    look_down: 'Look down',
    nod: 'Nod your head',
    smile: 'Smile',
    open_mouth: 'Open your mouth',
  };

  /** Plain words for a server action code; an unknown code is turned into words as it stands. */
  function actionWords(action) {
    if (Object.prototype.hasOwnProperty.call(words, action)) return words[action];
    var text = String(action).replace(/_/g, ' ');
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  /**
   * The shots to take for a capture answer: [{ prompt, wait }], where `prompt` (or null) is shown
   * first and `wait` is the pause in ms before the shot. Without actions: minFrames shots 400 ms
   * apart. With actions: a neutral part then one part per action, in order, about 3 shots each,
   * kept within minFrames..maxFrames; a new instruction gets a second to be followed.
   */
  function planShots(capture) {
    var min = Math.max(1, Number(capture.minFrames) || 1);
    var max = Math.max(min, Number(capture.maxFrames) || min);
    var actions = Array.isArray(capture.actions) ? capture.actions : [];
    var shots = [];
    var i;
    if (actions.length === 0) {
      for (i = 0; i < min; i++) shots.push({ prompt: i === 0 ? 'Look at the camera and hold still' : null, wait: i === 0 ? 1500 : 400 });
      return shots;
    }
    var parts = ['Look straight at the camera'].concat(actions.map(actionWords));
    var n = Math.min(max, Math.max(min, parts.length * 3));
    if (n < parts.length) parts = parts.slice(1); // too few frames for a neutral part: actions only
    var last = -1;
    for (i = 0; i < n; i++) {
      var part = Math.floor((i * parts.length) / n);
      var isNew = part !== last;
      shots.push({ prompt: isNew ? parts[part] : null, wait: isNew ? (i === 0 ? 1500 : 1000) : 400 });
      last = part;
    }
    return shots;
  }

  /** Whether a capture's `expiresAt` (ISO string, or epoch seconds or ms) is past, with 5 s to spare. */
  function isExpired(expiresAt, now) {
    var ms = typeof expiresAt === 'number' ? (expiresAt < 1e12 ? expiresAt * 1000 : expiresAt) : Date.parse(expiresAt);
    return isFinite(ms) && now > ms - 5000;
  }

  /** The citizen-facing messages in an API answer: `feedback[]`, or `error.message`, or none. */
  function messagesOf(body) {
    if (body && Array.isArray(body.feedback)) return body.feedback.filter(function (f) { return f && f.message; });
    if (body && body.error && body.error.message) return [{ code: body.error.code, message: body.error.message }];
    return [];
  }

  root.Facegate = root.Facegate || {};
  root.Facegate.plan = { actionWords: actionWords, planShots: planShots, isExpired: isExpired, messagesOf: messagesOf };
})(globalThis);

// Live guidance while the camera preview runs: one small frame to /quality about three times a
// second, never two requests at once; a steadied hint; `onReady` once quality has held. Plain
// browser JS (no build step); needs capture-plan.js and a camera from camera.js.
(function (root) {
  'use strict';

  /**
   * Starts watching and returns `stop()`. Options: `camera`, `post(url, formData)` → Promise of
   * `{ ok, status, body }`, `url`, `strings` (the page's messages), `period` and `holdMs` (ms),
   * `maxTicks`, and the callbacks `onHint(text)`, `onQuality(ok)` (every answer: the oval shows it), `onReady()`, `onFatal(res)` (403/404: the sign-in
   * is gone), `onGiveUp()` (maxTicks reached). After a callback that ends it, it stops by itself.
   */
  function watch(o) {
    var P = root.Facegate.plan;
    var stopped = false;
    var hold = P.createHold(o.holdMs);
    var hints = P.createHintFilter(2); // a hint shows once two answers in a row agree
    var shown = null;
    var ticks = 0;
    function end(callback, arg) { stopped = true; callback(arg); }
    function tick() {
      if (stopped) return;
      if (++ticks > o.maxTicks) return end(o.onGiveUp);
      var started = Date.now();
      o.camera.snap(640, 0.8).then(function (blob) {
        var data = new FormData();
        data.append('frame', blob, 'preview.jpg');
        return o.post(o.url, data);
      }).then(function (res) {
        if (stopped) return;
        if (!res.ok) {
          hold.reset();
          if (res.status === 403 || res.status === 404) return end(o.onFatal, res);
          return setTimeout(tick, 1000);
        }
        var ok = !!(res.body && res.body.ok);
        if (o.onQuality) o.onQuality(ok);
        var hint = hints.update(ok ? o.strings.good : P.hintFor(res.body, o.strings));
        if (hint && hint !== shown) { shown = hint; o.onHint(hint); } // announced only when it changes
        if (hold.update(ok, Date.now())) return end(o.onReady);
        setTimeout(tick, P.nextDelay(started, Date.now(), o.period));
      }).catch(function () {
        if (!stopped) setTimeout(tick, 1000); // a lost hint is not worth stopping for
      });
    }
    tick();
    return function stop() { stopped = true; };
  }

  root.Facegate = root.Facegate || {};
  root.Facegate.hints = { watch: watch };
})(globalThis);

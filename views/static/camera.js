// The front camera for the sign-in page: open getUserMedia into a <video>, take JPEG snapshots, stop.
// Plain browser JS (no build step); knows nothing about the sign-in flow or the server.
(function (root) {
  'use strict';

  /** Whether this browser can open a camera here (needs HTTPS or localhost). */
  function supported() {
    return !!(root.navigator && navigator.mediaDevices && navigator.mediaDevices.getUserMedia && root.HTMLCanvasElement);
  }

  /**
   * A camera bound to one <video>: open(), snap(maxSide, quality, fresh) → Promise<Blob|null>,
   * close(), isOpen(). With `fresh`, a picture is taken only of a frame the camera delivered
   * since the last one (null otherwise): a stalled camera never sends the same frame twice.
   */
  function create(video) {
    var stream = null;
    var canvas = document.createElement('canvas');
    var presented = 0; // frames the camera delivered (requestVideoFrameCallback), where supported
    var taken = -1;
    var watching = false;
    function watchFrames() {
      if (!video.requestVideoFrameCallback || watching) return;
      watching = true;
      video.requestVideoFrameCallback(function seen(now, meta) {
        presented = meta && meta.presentedFrames ? meta.presentedFrames : presented + 1;
        if (stream) video.requestVideoFrameCallback(seen); else watching = false;
      });
    }

    function open() {
      if (stream) return Promise.resolve();
      var constraints = { audio: false, video: { facingMode: 'user', width: { ideal: 1280 }, height: { ideal: 720 } } };
      return navigator.mediaDevices.getUserMedia(constraints).then(function (s) {
        stream = s;
        video.srcObject = s;
        video.hidden = false;
        return video.play().then(watchFrames);
      });
    }

    function close() {
      if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
      stream = null;
      video.srcObject = null;
      video.hidden = true;
    }

    // Draws now (so the caller's timestamp is the frame's), encodes later: toBlob copies the bitmap.
    function snap(maxSide, quality, fresh) {
      var w = video.videoWidth;
      var h = video.videoHeight;
      if (!stream || !w || !h) return Promise.reject(new Error('camera_not_ready'));
      if (fresh && watching) {
        if (presented === taken) return Promise.resolve(null);
        taken = presented;
      }
      var scale = Math.min(1, (maxSide || 1280) / Math.max(w, h));
      canvas.width = Math.round(w * scale);
      canvas.height = Math.round(h * scale);
      canvas.getContext('2d').drawImage(video, 0, 0, canvas.width, canvas.height);
      return new Promise(function (resolve, reject) {
        canvas.toBlob(function (blob) {
          if (blob) resolve(blob); else reject(new Error('snapshot_failed'));
        }, 'image/jpeg', quality || 0.9);
      });
    }

    return { open: open, close: close, snap: snap, isOpen: function () { return !!stream; } };
  }

  root.Facegate = root.Facegate || {};
  root.Facegate.camera = { supported: supported, create: create };
})(globalThis);

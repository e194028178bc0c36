// The development enrollment page's script: take the reference photo with the webcam and put it
// into the form's file input, then the form posts as usual. Plain browser JS; needs camera.js.
(function () {
  'use strict';
  var F = window.Facegate;
  var form = document.getElementById('enroll-form');
  if (!form || !F || !F.camera || !F.camera.supported() || typeof DataTransfer !== 'function') return;

  var S = {};
  try { S = JSON.parse(document.getElementById('messages').textContent) || {}; } catch (e) { S = {}; }
  var box = document.getElementById('enroll-camera');
  var frame = document.getElementById('enroll-frame');
  var start = document.getElementById('enroll-camera-start');
  var snap = document.getElementById('enroll-snap');
  var done = document.getElementById('enroll-snap-done');
  var input = document.getElementById('photo');
  var camera = F.camera.create(document.getElementById('enroll-video'));

  box.hidden = false;
  start.addEventListener('click', function () {
    camera.open().then(function () {
      frame.hidden = false;
      start.hidden = true;
      snap.hidden = false;
      snap.focus();
    }, function () {
      box.hidden = true; // no camera: the file input below is the way
      input.focus();
    });
  });
  snap.addEventListener('click', function () {
    camera.snap(1280, 0.92).then(function (blob) {
      var files = new DataTransfer();
      files.items.add(new File([blob], 'webcam.jpg', { type: 'image/jpeg' }));
      input.files = files.files;
      camera.close();
      frame.hidden = true;
      snap.hidden = true;
      start.hidden = false;
      done.textContent = S.taken || '';
      document.getElementById('enroll-submit').focus();
    });
  });
  window.addEventListener('pagehide', function () { if (camera.isOpen()) camera.close(); });
})();

// The development enrollment page's script: take the reference photo with the webcam (or take the
// chosen file), show it back, and send the form only once the citizen pressed "Use this photo";
// "Take another" discards it. Nothing leaves the page before that. Plain browser JS; camera.js first.
(function () {
  'use strict';
  var F = window.Facegate;
  var form = document.getElementById('enroll-form');
  if (!form || !window.URL || typeof URL.createObjectURL !== 'function') return; // the plain form posts

  var S = {};
  try { S = JSON.parse(document.getElementById('messages').textContent) || {}; } catch (e) { S = {}; }
  var box = document.getElementById('enroll-camera');
  var frame = document.getElementById('enroll-frame');
  var start = document.getElementById('enroll-camera-start');
  var snap = document.getElementById('enroll-snap');
  var choose = document.getElementById('enroll-choose');
  var input = document.getElementById('photo');
  var review = document.getElementById('enroll-review');
  var reviewTitle = document.getElementById('enroll-review-title');
  var reviewFrame = document.getElementById('enroll-review-frame');
  var use = document.getElementById('enroll-use');
  var retake = document.getElementById('enroll-retake');
  var submit = document.getElementById('enroll-submit');
  var withCamera = !!(F && F.camera && F.camera.supported() && typeof DataTransfer === 'function');
  var camera = withCamera ? F.camera.create(document.getElementById('enroll-video')) : null;
  // 'choosing' (no photo yet), 'reviewing' (shown back), 'confirmed' (she pressed "Use this photo").
  var state = 'choosing';
  var source = null; // 'camera' | 'file': what "Take another" goes back to
  var shownUrl = null;

  function openCamera() {
    camera.open().then(function () {
      box.hidden = false;
      frame.hidden = false;
      start.hidden = true;
      snap.hidden = false;
      snap.focus();
    }, function () {
      box.hidden = true; // no camera: the file input is the way
      input.focus();
    });
  }

  function closeCamera() {
    if (camera && camera.isOpen()) camera.close();
    frame.hidden = true;
    snap.hidden = true;
    start.hidden = false;
  }

  /** Shows the photo back; the file input already holds it, but the form is not sent. */
  function showBack(blob, from) {
    if (withCamera) closeCamera(); // a file chosen while the camera was open
    source = from;
    state = 'reviewing';
    if (shownUrl) URL.revokeObjectURL(shownUrl);
    shownUrl = URL.createObjectURL(blob);
    var img = document.createElement('img');
    img.id = 'enroll-review-photo';
    img.className = 'review-photo';
    img.alt = S.reviewAlt || '';
    img.src = shownUrl;
    reviewFrame.textContent = '';
    reviewFrame.appendChild(img);
    box.hidden = true;
    choose.hidden = true;
    submit.hidden = true;
    review.hidden = false;
    reviewTitle.focus();
  }

  /** Discards the photo shown back and goes back to the camera or the file input. */
  function discard() {
    state = 'choosing';
    if (shownUrl) URL.revokeObjectURL(shownUrl);
    shownUrl = null;
    reviewFrame.textContent = '';
    input.value = '';
    review.hidden = true;
    choose.hidden = false;
    submit.hidden = false;
    if (withCamera) box.hidden = false;
    if (withCamera && source === 'camera') openCamera();
    else input.focus();
  }

  if (withCamera) {
    box.hidden = false;
    start.addEventListener('click', openCamera);
    snap.addEventListener('click', function () {
      camera.snap(1280, 0.92).then(function (blob) {
        var files = new DataTransfer();
        files.items.add(new File([blob], 'webcam.jpg', { type: 'image/jpeg' }));
        input.files = files.files;
        showBack(blob, 'camera');
      });
    });
  }
  input.addEventListener('change', function () {
    if (input.files && input.files.length) showBack(input.files[0], 'file');
  });
  use.addEventListener('click', function () {
    if (!form.checkValidity()) { form.reportValidity(); return; }
    state = 'confirmed';
    submit.click(); // the form's own submission, with the photo in its file input
  });
  retake.addEventListener('click', discard);
  // Enter in a text field while the photo is shown back is not a "yes": she presses the button.
  form.addEventListener('submit', function (event) {
    if (state === 'reviewing') {
      event.preventDefault();
      use.focus();
    } else if (state === 'choosing' && input.files && input.files.length) {
      event.preventDefault(); // a file the page did not show back (restored by the browser)
      showBack(input.files[0], 'file');
    } else if (state === 'confirmed') {
      use.disabled = true;
      retake.disabled = true;
    }
  });
  window.addEventListener('pagehide', function () { if (camera && camera.isOpen()) camera.close(); });
})();

// The citizen's space: shows each <time data-local> in the browser's time zone and the page
// language (the server writes UTC, which stays when this script does not run), and moves focus to
// the status after an action. No inline script (strict CSP).
(function () {
  'use strict';
  var lang = document.documentElement.lang || 'en';
  var format;
  try {
    format = new Intl.DateTimeFormat(lang, { dateStyle: 'long', timeStyle: 'short' });
  } catch (e) {
    return;
  }
  var times = document.querySelectorAll('time[data-local]');
  for (var i = 0; i < times.length; i++) {
    var when = new Date(times[i].getAttribute('datetime'));
    if (!isNaN(when.getTime())) {
      times[i].textContent = format.format(when);
      times[i].setAttribute('title', times[i].getAttribute('datetime'));
    }
  }
  var status = document.getElementById('account-status');
  if (status && status.textContent.trim()) status.focus();
})();

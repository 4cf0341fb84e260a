import { esc } from './html.js';

/**
 * The Diagnose button of a target: a plain link to the report (`/diagnose?format=html`, which keeps
 * its rate limit and its configured-targets-only rule), so it works without JavaScript; the
 * script below only adds progress while it runs and shows the report in the page.
 */
export function diagnoseButton(target: string, enabled: boolean): string {
  if (!enabled)
    return '<span class="mute" title="set diagnose_endpoint.enabled: true to allow reports">diagnose off</span>';
  const href = `/diagnose?target=${encodeURIComponent(target)}&amp;format=html`;
  return `<a class="button diagnose" href="${href}" data-target="${esc(target)}">Diagnose</a>`;
}

/**
 * "Copy as text": the report's text rendering (the same `vantage diagnose` prints) to the
 * clipboard. The clipboard API needs a secure context; a file opened from disk may not be one, so
 * selecting the text and `execCommand('copy')` is the fallback.
 */
export const COPY_SCRIPT = `
document.addEventListener('click', function (ev) {
  var b = ev.target.closest && ev.target.closest('button.copy');
  if (!b) return;
  var pre = b.closest('section.report').querySelector('pre.report-text');
  var done = function () { b.textContent = 'Copied'; };
  var fallback = function () {
    var r = document.createRange(); r.selectNodeContents(pre);
    var s = getSelection(); s.removeAllRanges(); s.addRange(r);
    try { document.execCommand('copy'); done(); } catch (e) { b.textContent = 'Select and copy the text below'; }
  };
  if (!navigator.clipboard || !window.isSecureContext) return fallback();
  navigator.clipboard.writeText(pre.textContent).then(done, fallback);
});
`;

/** Progress while a report runs (it takes seconds: DNS, ping, traces, HTTPS), then the report in place. */
export const DIAGNOSE_SCRIPT = `${COPY_SCRIPT}
document.addEventListener('click', function (ev) {
  var a = ev.target.closest && ev.target.closest('a.diagnose');
  if (!a) return;
  ev.preventDefault();
  if (document.body.dataset.diagnosing) return;
  document.body.dataset.diagnosing = '1';
  var out = document.getElementById('diagnosis');
  var started = Date.now();
  var p = document.createElement('p'); p.className = 'progress';
  var bar = document.createElement('progress'); var label = document.createElement('span');
  p.append(bar, ' ', label); out.replaceChildren(p);
  var tick = function () {
    label.textContent = 'Diagnosing ' + a.dataset.target + ' (DNS, ping, traceroute of silent IPs, HTTPS): ' +
      Math.round((Date.now() - started) / 1000) + ' s';
  };
  tick();
  var timer = setInterval(tick, 500);
  out.scrollIntoView();
  fetch(a.href, { headers: { accept: 'text/html' } }).then(function (res) {
    return res.text().then(function (text) {
      if (!res.ok) {
        var e = document.createElement('p'); e.className = 'bad'; e.textContent = res.status + ': ' + text;
        out.replaceChildren(e);
        return;
      }
      var doc = new DOMParser().parseFromString(text, 'text/html');
      out.replaceChildren.apply(out, Array.from(doc.querySelector('main').childNodes));
    });
  }).catch(function (err) {
    var e = document.createElement('p'); e.className = 'bad'; e.textContent = 'The report failed: ' + err;
    out.replaceChildren(e);
  }).finally(function () { clearInterval(timer); delete document.body.dataset.diagnosing; });
});
`;

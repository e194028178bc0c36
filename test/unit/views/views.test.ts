import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { runInNewContext } from 'node:vm';
import {
  claimLabels, escapeHtml, html, raw, renderConsent, renderDemoError, renderDemoHome, renderDemoResult,
  renderErrorPage, renderLayout, renderSignIn, safeUrl, clientMessages, messagesOf, renderEnroll, languages,
  type Lang, type SignInProps,
} from '../../../views/index.ts';

const evil = '<script>alert(1)</script>';
const escaped = '&lt;script&gt;alert(1)&lt;/script&gt;';

const endpoints = {
  capture: '/interaction/u1/capture',
  verify: '/interaction/u1/verify',
  quality: '/interaction/u1/quality',
  abort: '/interaction/u1/abort',
};

function signIn(over: Partial<SignInProps> = {}): string {
  return renderSignIn({
    uid: 'u1', clientName: 'Pension office', acr: 'substantial', claims: ['sub', 'given_name'], csrf: 'tok-123', endpoints, ...over,
  });
}

const pages: Record<string, (name: string) => string> = {
  signIn: (name) => signIn({ clientName: name, feedback: [{ code: 'too_dark', message: name }], nationalId: name }),
  consent: (name) => renderConsent({
    uid: 'u1', clientName: name, claims: [{ name: 'x', label: name }], acr: 'high', csrf: name, action: '/interaction/u1/consent',
  }),
  error: (name) => renderErrorPage({ title: name, message: name, code: name, requestId: name }),
  demoHome: (name) => renderDemoHome({ issuer: name, clientId: name, levels: [{ level: 'high', href: '/demo/login' }], enrollHint: name }),
  demoResult: (name) => renderDemoResult({
    claims: { sub: name, auth_time: 1700000000 }, userinfo: { name }, idTokenHeader: { alg: 'ES256', kid: name },
    validation: [{ check: 'acr', values: { requested: name, received: name } }],
  }),
  demoError: (name) => renderDemoError({ error: name, description: name }),
  demoHomeFrench: (name) => renderDemoHome({ issuer: name, clientId: name, levels: [{ level: 'substantial', href: '/demo/login' }], enrollHint: name, lang: 'fr' }),
  demoErrorFrench: (name) => renderDemoError({ error: 'access_denied', description: name, lang: 'fr' }),
  enroll: (name) => renderEnroll({ csrf: name, action: '/demo/enroll', values: { givenName: name }, feedback: [{ code: 'detail', message: name }] }),
  enrolled: (name) => renderEnroll({ csrf: 't', action: '/demo/enroll', enrolled: { name, nationalId: 'AB123456', signInUrl: '/demo' } }),
  signInFrench: (name) => signIn({ clientName: name, lang: 'fr' }),
};

function forms(page: string): string[] {
  return page.match(/<form[\s\S]*?<\/form>/g) ?? [];
}

describe('html', () => {
  it('escapes interpolated text, numbers and arrays but keeps SafeHtml', () => {
    const out = html`<p title="${'"x"'}">${evil} ${3} ${['<a>', html`<b>ok</b>`]} ${raw('<i>r</i>')} ${null}</p>`;
    expect(out.value).toBe(`<p title="&quot;x&quot;">${escaped} 3 &lt;a&gt;<b>ok</b> <i>r</i> </p>`);
  });

  it('escapes quotes and ampersands', () => {
    expect(escapeHtml(`a&b'c"`)).toBe('a&amp;b&#39;c&quot;');
  });

  it('refuses javascript: URLs', () => {
    expect(safeUrl('javascript:alert(1)')).toBe('about:blank');
    expect(safeUrl('/interaction/x')).toBe('/interaction/x');
    expect(safeUrl('https://agency.example/cb')).toBe('https://agency.example/cb');
  });
});

describe('pages', () => {
  it.each(Object.keys(pages))('%s escapes a hostile agency name everywhere', (key) => {
    const page = pages[key](evil);
    expect(page).not.toContain(evil);
    expect(page).toContain(escaped);
  });

  it.each(Object.keys(pages))('%s has no inline script, style element or style attribute', (key) => {
    const page = pages[key]('Agency');
    // Every script is a file (src) or data that is never executed (type="application/json").
    for (const tag of page.match(/<script\b[^>]*>/gi) ?? []) expect(tag).toMatch(/\ssrc="\/static\/|\stype="application\/json"/);
    expect(page.replace(/<script type="application\/json"[^>]*>[^<]*<\/script>/g, '')).not.toMatch(/<script[^>]*>[^<]+<\/script>/i);
    expect(page).not.toMatch(/<style/i);
    expect(page).not.toMatch(/\sstyle=/i);
    expect(page).not.toMatch(/\son[a-z]+=/i);
    expect(page).not.toMatch(/(src|href)="(https?:)?\/\//i);
  });

  it('layout is a full document with stylesheet, skip link, main and deferred scripts', () => {
    const page = renderLayout({ title: 'T', body: html`<p>x</p>`, scripts: ['ui.js'] });
    expect(page.startsWith('<!doctype html>\n<html lang="en">')).toBe(true);
    expect(page).toMatch(/<link rel="stylesheet" href="\/static\/facegate\.[0-9a-f]{12}\.css">/);
    expect(page).toContain('<a class="skip-link" href="#main">');
    expect(page).toContain('<main id="main"');
    expect(page).toMatch(/<script src="\/static\/ui\.[0-9a-f]{12}\.js" defer><\/script>/);
    expect(page).toContain('Facegate — national sign-in');
  });
});

describe('sign-in page', () => {
  const page = signIn();
  const [form] = forms(page);

  it('says which agency asks and at what level', () => {
    expect(page).toContain('<strong>Pension office</strong> asks you to prove who you are');
    expect(page).toContain('Level: substantial');
    expect(signIn({ acr: 'high' })).toContain('Level: high');
  });

  it('posts multipart to the verify endpoint with the csrf field', () => {
    expect(form).toMatch(/method="post"/);
    expect(form).toContain(`action="${endpoints.verify}"`);
    expect(form).toContain('enctype="multipart/form-data"');
    expect(form).toContain('<input type="hidden" name="csrf" value="tok-123">');
  });

  it('has a labelled input for the ID with its hint, and no photo upload (a photo cannot show presence)', () => {
    expect(form).toContain('<label for="nationalId">');
    expect(form).toMatch(/<input id="nationalId" name="nationalId"[^>]*required[^>]*pattern="\[A-Za-z0-9\]\{6,20\}"[^>]*aria-describedby="nationalId-hint"/);
    expect(form).not.toContain('type="file"');
    expect(form).not.toContain('id="verify"');
  });

  it('passes the script its endpoints through data attributes', () => {
    expect(form).toContain(`data-capture="${endpoints.capture}"`);
    expect(form).toContain(`data-quality="${endpoints.quality}"`);
    expect(page).toMatch(/<script src="\/static\/sign-in\.[0-9a-f]{12}\.js" defer>/);
  });

  it('has a cancel form posting to abort with the csrf field', () => {
    const cancel = forms(page).find((f) => f.includes(endpoints.abort));
    expect(cancel).toContain('name="csrf" value="tok-123"');
    expect(cancel).toMatch(/<button type="submit" id="cancel"[^>]*>Cancel and go back<\/button>/);
  });

  it('shows feedback in the live region and refills the ID', () => {
    const withFeedback = signIn({ feedback: [{ code: 'too_dark', message: 'The picture is too dark.' }], nationalId: 'AB123456' });
    const region = withFeedback.match(/<div id="status"[^>]*>[\s\S]*?<\/div>/)?.[0] ?? '';
    expect(region).toContain('aria-live="polite"');
    expect(region).toContain('<li data-code="too_dark">The picture is too dark.</li>');
    expect(withFeedback).toContain('value="AB123456"');
    expect(page.match(/<div id="status"[^>]*><\/div>/)).not.toBeNull();
  });
});

describe('consent page', () => {
  const page = renderConsent({
    uid: 'u1', clientName: 'Tax office', acr: 'substantial', csrf: 'tok-9', action: '/interaction/u1/consent',
    claims: [{ name: 'given_name', label: claimLabels.given_name }, { name: 'national_id', label: claimLabels.national_id }],
  });

  it('lists the labels the agency will receive', () => {
    expect(page).toContain('Tax office will receive:');
    expect(page).toContain('<li>Your national ID number</li>');
    expect(page).toContain(`<li>${claimLabels.given_name}</li>`);
  });

  it('posts both decisions with the csrf field', () => {
    const [form] = forms(page);
    expect(form).toContain('action="/interaction/u1/consent"');
    expect(form).toContain('name="csrf" value="tok-9"');
    expect(form).toMatch(/name="decision" value="allow"[^>]*>Share and continue</);
    expect(form).toMatch(/name="decision" value="deny"[^>]*>Do not share</);
  });
});

describe('demo result', () => {
  it('shows auth_time as a date and the checks', () => {
    const page = renderDemoResult({
      claims: { auth_time: 1700000000, acr: 'high' }, idTokenHeader: { alg: 'ES256' },
      validation: [{ check: 'signature' }, { check: 'userinfo', values: { tokenType: 'dpop' } }],
    });
    expect(page).toContain('2023-11-14 22:13:20 UTC (1700000000)');
    expect(page).toContain(`<li data-check="signature">${messagesOf('en').demoAgency.checks.signature}</li>`);
    expect(page).toContain('<li data-check="userinfo">access token type dpop: userinfo fetched with DPoP</li>');
    expect(page).toContain('<caption>ID token claims</caption>');
    expect(page).toContain('href="/demo"');
  });
});

describe.each(languages)('demo agency pages in %s', (lang: Lang) => {
  const t = messagesOf(lang).demoAgency;
  const levels = [{ level: 'substantial', href: '/demo/login?level=substantial' }, { level: 'high', href: '/demo/login?level=high' }] as const;
  const home = renderDemoHome({ issuer: 'http://gw', clientId: 'demo', levels: [...levels], enrollHint: 'cmd', enrollUrl: '/demo/enroll', lang });

  it('renders the home page in the language, keeping the agency\'s registered name', () => {
    expect(home).toContain(`<html lang="${lang}">`);
    expect(home).toContain('<h1>Demo pension office</h1>');
    expect(home).toContain(`<p class="site-name">${t.header.replace('{agency}', 'Demo pension office')}</p>`);
    expect(home).toContain(t.lead);
    expect(home).toContain(`<p>${t.footer}</p>`);
    expect(home).toMatch(new RegExp(`<a class="button button--primary" href="/demo/login\\?level=substantial">${t.levels.substantial.replace(/[()]/g, '\\$&')}</a>`));
    expect(home).toContain(`>${t.levels.high}</a>`);
    expect(home).toContain(`id="enroll-link" class="button button--secondary" href="/demo/enroll">${t.enrollLink}</a>`);
    expect(home).toContain(`<dt>${t.clientId}</dt>`);
  });

  it('offers the language switch on the home page (its own address)', () => {
    for (const other of languages) expect(home).toMatch(new RegExp(`<a href="/demo\\?lang=${other}" hreflang="${other}" lang="${other}"`));
    expect(home).toMatch(new RegExp(`hreflang="${lang}" lang="${lang}" aria-current="true"`));
  });

  it('words the result page\'s checks and tables in the language', () => {
    const page = renderDemoResult({
      claims: { sub: 's', acr: 'high' }, userinfo: { sub: 's' }, idTokenHeader: { alg: 'PS256' }, lang,
      validation: [{ check: 'acr', values: { requested: 'urn:a', received: 'urn:b' } }],
    });
    expect(page).toContain(`<html lang="${lang}">`);
    expect(page).toContain(`<h1>${t.signedIn}</h1>`);
    expect(page).toContain(`<li data-check="acr">${t.checks.acr.replace('{requested}', 'urn:a').replace('{received}', 'urn:b')}</li>`);
    for (const caption of [t.claimsTable, t.headerTable, t.userinfoTable]) expect(page).toContain(`<caption>${caption}</caption>`);
    expect(page).toContain(`<th scope="col">${t.name}</th><th scope="col">${t.value}</th>`);
    expect(page).toContain(`>${t.signInAgain}</a>`);
    // The result of a sign-in cannot be shown again: no switch to a page that would not exist.
    expect(page).not.toContain('hreflang');
  });

  it('explains known errors in the language and marks the English detail', () => {
    const page = renderDemoError({ error: 'access_denied', description: 'the citizen did not agree to share the details', lang });
    expect(page).toContain(`<h1>${t.failed}</h1>`);
    expect(page).toContain('<p><code>access_denied</code></p>');
    expect(page).toContain(`<p>${t.errors.access_denied}</p>`);
    expect(page).toContain(`<p${lang === 'en' ? '' : ' lang="en"'}>the citizen did not agree to share the details</p>`);
    expect(renderDemoError({ error: 'unknown_state', lang })).toContain(t.errors.unknown_state);
    expect(renderDemoError({ error: 'sign_in_failed', description: 'boom', lang })).toMatch(/<p><code>sign_in_failed<\/code><\/p>\s*<p[^>]*>boom<\/p>/);
  });
});

describe('favicon', () => {
  it.each(Object.keys(pages))('%s links the SVG favicon from the static assets', (key) => {
    expect(pages[key]('Agency')).toMatch(/<head>[\s\S]*<link rel="icon" href="\/static\/favicon\.[0-9a-f]{12}\.svg" type="image\/svg\+xml">[\s\S]*<\/head>/);
  });
});

describe.each(languages)('enrollment photo review in %s', (lang: Lang) => {
  const t = messagesOf(lang).demo;
  const page = renderEnroll({ csrf: 't', action: '/demo/enroll', lang });
  const [form] = forms(page);

  it('has the review step inside the form, hidden until a photo is taken or chosen', () => {
    const review = /<div id="enroll-review"[^>]*>[\s\S]*?<\/fieldset>/.exec(form)?.[0] ?? '';
    expect(review).toMatch(/^<div id="enroll-review" class="review" role="group" aria-labelledby="enroll-review-title" hidden>/);
    expect(review).toContain(`<h2 id="enroll-review-title" class="review-title" tabindex="-1">${t.reviewTitle}</h2>`);
    expect(review).toContain(`<p id="enroll-review-text">${t.reviewText}</p>`);
    expect(review).toContain('<div id="enroll-review-frame" class="review-frame"></div>');
    // Neither button sends by itself: "Use this photo" is the script's confirmation, then the form posts.
    expect(review).toMatch(new RegExp(`<button type="button" id="enroll-use" class="button button--primary"[^>]*>${t.usePhoto}</button>`));
    expect(review).toMatch(new RegExp(`<button type="button" id="enroll-retake" class="button button--secondary">${t.retake}</button>`));
  });

  it('keeps the plain form working without JavaScript: the file input and "Enroll me"', () => {
    expect(form).toMatch(/<div id="enroll-choose">\s*<label for="photo">/);
    expect(form).toMatch(/<input id="photo" name="photo" type="file"[^>]*required/);
    expect(form).toContain(`<button type="submit" id="enroll-submit" class="button button--primary">${t.submit}</button>`);
    expect(form.match(/type="submit"/g)).toHaveLength(1);
  });

  it('names the service in the header in the language', () => {
    expect(page).toContain(`<p class="site-name">${messagesOf(lang).layout.serviceName} (${lang === 'fr' ? 'démo' : 'demo'})</p>`);
  });

  it('gives the script the photo\'s alternative text as JSON', () => {
    const block = /<script type="application\/json" id="messages">([^<]*)<\/script>/.exec(page);
    expect(JSON.parse(block![1])).toEqual({ reviewAlt: t.reviewAlt });
    expect(page).toMatch(/<script src="\/static\/enroll\.[0-9a-f]{12}\.js" defer>/);
  });
});

describe('capture-plan.js', () => {
  type Plan = {
    frameHeader(seq: number): Uint8Array; streamUrl(path: string, location: { protocol: string; host: string }): string;
    localTime(retryAt: unknown, lang: string, now: number): string | null; createHold(ms: number): { update(ok: boolean, now: number): boolean };
    createHintFilter(n: number): { update(text: string): string | null };
    nextDelay(started: number, now: number, period: number): number; hintFor(body: object, strings: object): string;
    messageFor(item: object, strings: object): string; actionWords(a: string, strings: object): string; isExpired(e: unknown, now: number): boolean;
    messagesOf(body: unknown): { code?: string; message: string }[];
  };
  const sandbox: { Facegate?: { plan: Plan } } = {};
  runInNewContext(readFileSync(new URL('../../../views/static/capture-plan.js', import.meta.url), 'utf8'), sandbox);
  const plan = sandbox.Facegate!.plan;

  it('heads each streamed frame with its sequence number, 4 bytes big-endian', () => {
    expect([...plan.frameHeader(0)]).toEqual([0, 0, 0, 0]);
    expect([...plan.frameHeader(258)]).toEqual([0, 0, 1, 2]);
    expect([...plan.frameHeader(0x01020304)]).toEqual([1, 2, 3, 4]);
  });

  it('opens the stream on the page\'s own host, wss under https', () => {
    expect(plan.streamUrl('/interaction/u/capture/c/stream', { protocol: 'https:', host: 'id.example.gov' })).toBe('wss://id.example.gov/interaction/u/capture/c/stream');
    expect(plan.streamUrl('/x', { protocol: 'http:', host: '127.0.0.1:3000' })).toBe('ws://127.0.0.1:3000/x');
  });

  it('tells when a lockout ends in local time, with the date when it is not today', () => {
    const now = new Date(2026, 11, 2, 9, 0).getTime();
    const later = new Date(2026, 11, 2, 14, 5);
    expect(plan.localTime(later.toISOString(), 'en', now)).toBe(later.toLocaleTimeString('en', { hour: '2-digit', minute: '2-digit' }));
    const tomorrow = new Date(2026, 11, 3, 8, 30);
    expect(plan.localTime(tomorrow.toISOString(), 'fr', now)).toContain(tomorrow.toLocaleDateString('fr', { weekday: 'long', day: 'numeric', month: 'long' }));
    expect(plan.localTime(Math.floor(later.getTime() / 1000), 'en', now)).toBe(plan.localTime(later.toISOString(), 'en', now));
    expect(plan.localTime('not a date', 'en', now)).toBeNull();
  });

  it('captures only once quality has held for the whole hold time', () => {
    const hold = plan.createHold(1000);
    expect(hold.update(true, 0)).toBe(false);
    expect(hold.update(true, 600)).toBe(false);
    expect(hold.update(false, 700)).toBe(false);
    expect(hold.update(true, 800)).toBe(false);
    expect(hold.update(true, 1700)).toBe(false);
    expect(hold.update(true, 1800)).toBe(true);
  });

  it('changes the live hint only when two answers in a row agree', () => {
    const filter = plan.createHintFilter(2);
    expect(['Move closer', 'Move closer', 'Hold still', 'Move closer', 'Hold still', 'Hold still'].map((t) => filter.update(t)))
      .toEqual([null, 'Move closer', null, null, null, 'Hold still']);
  });

  it('spaces quality requests by the period, counting the time the last one took', () => {
    expect(plan.nextDelay(1000, 1100, 330)).toBe(230);
    expect(plan.nextDelay(1000, 1500, 330)).toBe(0);
  });

  it('gives the short hint of the first code in the page language', () => {
    const fr = clientMessages('fr');
    expect(plan.hintFor({ ok: false, feedback: [{ code: 'face_too_small', message: 'The face is too small.' }] }, fr)).toBe('Approchez-vous');
    expect(plan.hintFor({ ok: false, feedback: [{ code: 'too_dark', message: 'x' }] }, clientMessages('en'))).toBe('More light, please');
    expect(plan.hintFor({ ok: false, feedback: [{ code: 'new_code', message: 'Server words' }] }, fr)).toBe('Server words');
  });

  it('shows server feedback by code in French and as sent in English', () => {
    const item = { code: 'not_verified', message: 'We could not confirm it is you (server).' };
    expect(plan.messageFor(item, clientMessages('fr'))).toBe(messagesOf('fr').codes.not_verified);
    expect(plan.messageFor(item, clientMessages('en'))).toBe(item.message);
  });

  it('words the actions in the page language', () => {
    expect(plan.actionWords('turn_left', clientMessages('en'))).toBe('Turn your head slowly to your left');
    expect(plan.actionWords('turn_right', clientMessages('fr'))).toBe('Tournez lentement la tête vers votre droite');
    expect(plan.actionWords('look_up', clientMessages('en'))).toBe('Look up');
  });

  it('reads errors in both shapes', () => {
    expect(plan.messagesOf({ error: { code: 'locked', message: 'm' } })).toEqual([{ code: 'locked', message: 'm' }]);
    expect(plan.messagesOf({ error: 'locked', message: 'm' })).toEqual([{ code: 'locked', message: 'm' }]);
  });

  it('reads expiry as ISO or epoch seconds', () => {
    expect(plan.isExpired('2020-01-01T00:00:00Z', Date.now())).toBe(true);
    expect(plan.isExpired(Date.now() / 1000 + 120, Date.now())).toBe(false);
  });
});

describe('live-hints.js', () => {
  type Res = { ok: boolean; status: number; body: unknown };
  type Watch = (o: Record<string, unknown>) => () => void;
  const sandbox: Record<string, unknown> & { Facegate?: { hints: { watch: Watch } } } = {
    setTimeout, FormData, Date, Promise,
  };
  runInNewContext(readFileSync(new URL('../../../views/static/capture-plan.js', import.meta.url), 'utf8'), sandbox);
  runInNewContext(readFileSync(new URL('../../../views/static/live-hints.js', import.meta.url), 'utf8'), sandbox);
  const { watch } = sandbox.Facegate!.hints;
  const strings = clientMessages('en');
  const camera = { snap: async () => new Blob(['jpeg']) };

  /** Runs a watcher over scripted answers until it ends; records hints, concurrency and the ending. */
  function run(answers: Res[], extra: Record<string, unknown> = {}) {
    let inFlight = 0;
    let maxInFlight = 0;
    let posts = 0;
    const hints: string[] = [];
    return new Promise<{ end: string; hints: string[]; posts: number; maxInFlight: number; res?: Res }>((resolve) => {
      const done = (end: string) => (res?: Res) => resolve({ end, hints, posts, maxInFlight, res });
      watch({
        camera, url: '/q', strings, period: 5, holdMs: 30, maxTicks: 200,
        post: async (url: string, data: FormData) => {
          expect(url).toBe('/q');
          expect(data.get('frame')).toBeTruthy();
          inFlight += 1;
          maxInFlight = Math.max(maxInFlight, inFlight);
          const answer = answers[Math.min(posts++, answers.length - 1)];
          await new Promise((r) => setTimeout(r, 2));
          inFlight -= 1;
          return answer;
        },
        onHint: (t: string) => hints.push(t), onReady: done('ready'), onFatal: done('fatal'), onGiveUp: done('gave_up'),
        ...extra,
      });
    });
  }
  const bad = (code: string): Res => ({ ok: true, status: 200, body: { ok: false, feedback: [{ code, message: code }] } });
  const good: Res = { ok: true, status: 200, body: { ok: true, feedback: [] } };

  it('is ready once quality holds, with one request in flight at a time', async () => {
    const r = await run([bad('face_too_small'), bad('face_too_small'), bad('too_dark'), good]);
    expect(r.end).toBe('ready');
    expect(r.maxInFlight).toBe(1);
    expect(r.hints).toEqual(['Move closer', 'Good. Hold still…']);
    expect(r.posts).toBeGreaterThan(4); // held over several good answers, not one
  });

  it('stops on a 403 or 404 (the sign-in is gone) and gives up after maxTicks', async () => {
    const gone: Res = { ok: false, status: 404, body: { error: { code: 'interaction_not_found', message: 'x' } } };
    expect((await run([bad('no_face'), gone])).end).toBe('fatal');
    const r = await run([bad('no_face')], { maxTicks: 5 });
    expect(r.end).toBe('gave_up');
    expect(r.posts).toBe(5);
  });
});

import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { runInNewContext } from 'node:vm';
import {
  claimLabels, escapeHtml, html, raw, renderConsent, renderDemoError, renderDemoHome, renderDemoResult,
  renderErrorPage, renderLayout, renderSignIn, safeUrl, type SignInProps,
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
  demoHome: (name) => renderDemoHome({ issuer: name, clientId: name, levels: [{ label: name, href: '/demo/login' }], enrollHint: name }),
  demoResult: (name) => renderDemoResult({ claims: { sub: name, auth_time: 1700000000 }, userinfo: { name }, idTokenHeader: { alg: 'ES256', kid: name }, validation: [name] }),
  demoError: (name) => renderDemoError({ error: name, description: name }),
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
    expect(page).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/i);
    expect(page).not.toMatch(/<script[^>]*>[^<]+<\/script>/i);
    expect(page).not.toMatch(/<style/i);
    expect(page).not.toMatch(/\sstyle=/i);
    expect(page).not.toMatch(/\son[a-z]+=/i);
    expect(page).not.toMatch(/(src|href)="(https?:)?\/\//i);
  });

  it('layout is a full document with stylesheet, skip link, main and deferred scripts', () => {
    const page = renderLayout({ title: 'T', body: html`<p>x</p>`, scripts: ['a.js'] });
    expect(page.startsWith('<!doctype html>\n<html lang="en">')).toBe(true);
    expect(page).toContain('<link rel="stylesheet" href="/static/facegate.css">');
    expect(page).toContain('<a class="skip-link" href="#main">');
    expect(page).toContain('<main id="main"');
    expect(page).toContain('<script src="/static/a.js" defer></script>');
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

  it('has labelled inputs for the ID and the photo, with hints', () => {
    expect(form).toContain('<label for="nationalId">');
    expect(form).toMatch(/<input id="nationalId" name="nationalId"[^>]*required[^>]*pattern="\[A-Za-z0-9\]\{6,20\}"[^>]*aria-describedby="nationalId-hint"/);
    expect(form).toContain('<label for="frame">');
    expect(form).toMatch(/<input id="frame" name="frame" type="file" accept="image\/jpeg,image\/png,image\/webp" capture="user"/);
    expect(form).toMatch(/<button type="submit" id="verify"[^>]*>Verify my face<\/button>/);
  });

  it('passes the script its endpoints through data attributes', () => {
    expect(form).toContain(`data-capture="${endpoints.capture}"`);
    expect(form).toContain(`data-quality="${endpoints.quality}"`);
    expect(page).toMatch(/<script src="\/static\/sign-in.js" defer>/);
  });

  it('has a cancel form posting to abort with the csrf field', () => {
    const cancel = forms(page).find((f) => f.includes(endpoints.abort));
    expect(cancel).toContain('name="csrf" value="tok-123"');
    expect(cancel).toContain('>Cancel</button>');
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
    const page = renderDemoResult({ claims: { auth_time: 1700000000, acr: 'high' }, idTokenHeader: { alg: 'ES256' }, validation: ['signature verified'] });
    expect(page).toContain('2023-11-14 22:13:20 UTC (1700000000)');
    expect(page).toContain('<li>signature verified</li>');
    expect(page).toContain('href="/demo"');
  });
});

describe('capture-plan.js', () => {
  const sandbox: { Facegate?: { plan: Record<string, (...a: unknown[]) => unknown> } } = {};
  runInNewContext(readFileSync(new URL('../../../views/static/capture-plan.js', import.meta.url), 'utf8'), sandbox);
  const plan = sandbox.Facegate!.plan;

  it('takes minFrames shots without actions', () => {
    expect(plan.planShots({ minFrames: 3, maxFrames: 8, actions: [] })).toHaveLength(3);
  });

  it('shows each action in words, in order, within maxFrames', () => {
    const shots = plan.planShots({ minFrames: 3, maxFrames: 8, actions: ['blink', 'turn_left'] }) as { prompt: string | null }[];
    expect(shots).toHaveLength(8);
    expect(shots.map((s) => s.prompt).filter(Boolean)).toEqual(['Look straight at the camera', 'Blink', 'Turn your head left']);
  });

  it('reads expiry as ISO or epoch seconds', () => {
    expect(plan.isExpired('2020-01-01T00:00:00Z', Date.now())).toBe(true);
    expect(plan.isExpired(Date.now() / 1000 + 120, Date.now())).toBe(false);
  });
});

import { describe, expect, it } from '@jest/globals';
import {
  clientMessages, codeMessage, fromAcceptLanguage, languageCookie, languageOf, languages, messagesOf, renderConsent,
  renderErrorPage, renderSignIn, jsonForScript, type Lang, type SignInProps,
} from '../../../views/index.ts';
import { errorCatalogue } from '../../../src/shared/errors.ts';

const endpoints = { capture: '/interaction/u1/capture', verify: '/interaction/u1/verify', quality: '/interaction/u1/quality', abort: '/interaction/u1/abort' };
const signIn = (over: Partial<SignInProps> = {}) => renderSignIn({
  uid: 'u1', clientName: 'Pension office', acr: 'substantial', claims: ['sub', 'given_name'], csrf: 'tok', endpoints, ...over,
});

/** Every key path of a nested object, arrays by their length. */
function shape(value: unknown, path = ''): string[] {
  if (Array.isArray(value)) return [`${path}[${value.length}]`];
  if (value && typeof value === 'object') return Object.keys(value).sort().flatMap((k) => shape((value as Record<string, unknown>)[k], `${path}.${k}`));
  return [path];
}

/** Codes only operators and agencies see (CLI, registration, configuration): not translated for citizens. */
const operatorCodes = new Set([
  'invalid_client_metadata', 'client_exists', 'duplicate_national_id', 'file_not_found', 'citizen_not_found',
]);

describe('catalogues', () => {
  it('French has exactly the keys of English', () => {
    expect(shape(messagesOf('fr'))).toEqual(shape(messagesOf('en')));
  });

  it.each(languages)('%s has a message for every citizen-facing error code', (lang) => {
    const codes = Object.entries(errorCatalogue).filter(([code, e]) => e.expose && !operatorCodes.has(code)).map(([code]) => code);
    const missing = codes.filter((code) => !messagesOf(lang).codes[code]);
    expect(missing).toEqual([]);
  });

  it('has no empty string and no leftover slot names in French', () => {
    const text = JSON.stringify(messagesOf('fr'));
    expect(text).not.toMatch(/""/);
    expect(text.match(/\{(\w+)\}/g)?.sort()).toEqual(JSON.stringify(messagesOf('en')).match(/\{(\w+)\}/g)?.sort());
  });

  it('uses the server English in English and the catalogue in French', () => {
    expect(codeMessage('en', 'locked', 'Paused until 10:00 UTC.')).toBe('Paused until 10:00 UTC.');
    expect(codeMessage('fr', 'locked', 'Paused until 10:00 UTC.')).toBe(messagesOf('fr').codes.locked);
    expect(codeMessage('fr', 'some_new_code', 'Server words')).toBe('Server words');
  });
});

describe('language choice', () => {
  it.each([
    ['fr-CH, fr;q=0.9, en;q=0.8', 'fr'], ['de-DE, fr;q=0.5, en;q=0.9', 'en'], ['de, fr;q=0.2', 'fr'],
    ['en-GB', 'en'], ['', 'en'], [undefined, 'en'], ['fr;q=0, en', 'en'], ['*', 'en'],
  ])('Accept-Language %p gives %s', (header, lang) => {
    expect(fromAcceptLanguage(header)).toBe(lang);
  });

  function context(query: Record<string, unknown>, cookie?: string, accept = '') {
    const set: [string, string][] = [];
    return {
      set,
      ctx: { query, get: (h: string) => (h === 'accept-language' ? accept : ''), cookies: { get: () => cookie, set: (n: string, v: string) => set.push([n, v]) } },
    };
  }

  it('takes ?lang= first and remembers it in a cookie', () => {
    const { ctx, set } = context({ lang: 'fr' }, 'en', 'en');
    expect(languageOf(ctx)).toBe('fr');
    expect(set).toEqual([[languageCookie, 'fr']]);
  });

  it('then the cookie, then Accept-Language, ignoring unknown values', () => {
    expect(languageOf(context({ lang: 'xx' }, 'fr', 'en').ctx)).toBe('fr');
    expect(languageOf(context({}, 'zz', 'fr').ctx)).toBe('fr');
    const { ctx, set } = context({ lang: ['fr', 'en'] }, undefined, 'en');
    expect(languageOf(ctx)).toBe('en');
    expect(set).toEqual([]);
  });
});

describe.each(languages)('sign-in page in %s', (lang: Lang) => {
  const m = messagesOf(lang);
  const page = signIn({ lang });

  it('sets <html lang> and offers the switch as links with hreflang', () => {
    expect(page).toContain(`<html lang="${lang}">`);
    // The page's own GET address, also after a form post to /verify.
    for (const other of languages) expect(page).toMatch(new RegExp(`<a href="/interaction/u1\\?lang=${other}" hreflang="${other}" lang="${other}"`));
    expect(page).toMatch(new RegExp(`hreflang="${lang}" lang="${lang}" aria-current="true"`));
  });

  it('has every id of the test contract', () => {
    for (const id of ['sign-in-form', 'nationalId', 'camera-start', 'camera-video', 'camera-guidance', 'status', 'challenge', 'fallback', 'cancel', 'messages']) {
      expect(page).toContain(`id="${id}"`);
    }
    expect(page).toMatch(/<form id="sign-in-form"[^>]*data-state="idle"/);
    expect(page).toMatch(/<video id="camera-video"[^>]*playsinline/);
    expect(page).toMatch(/<p id="camera-guidance"[^>]*aria-live="polite"/);
    expect(page).toMatch(/<div id="challenge"[^>]*aria-live="assertive"/);
  });

  it('is written in the language', () => {
    expect(page).toContain(`<h1>${m.signIn.title}</h1>`);
    expect(page).toContain(m.signIn.cameraStart);
    expect(page).toContain(m.levels.substantial);
  });

  it('gives the script its strings as JSON that is never executed and cannot close the element', () => {
    const block = /<script type="application\/json" id="messages">([^<]*)<\/script>/.exec(page);
    expect(block).not.toBeNull();
    expect(JSON.parse(block![1])).toEqual(clientMessages(lang));
    const hostile = jsonForScript({ text: '</script><script>alert(1)</script>\u2028&' });
    expect(hostile).not.toMatch(/[<>&\u2028]/);
    expect(JSON.parse(hostile)).toEqual({ text: '</script><script>alert(1)</script>\u2028&' });
  });

  it('shows feedback by code in the language', () => {
    const retry = signIn({ lang, feedback: [{ code: 'too_dark', message: 'The picture is too dark. Find more light.' }] });
    expect(retry).toContain(`<li data-code="too_dark">${lang === 'en' ? 'The picture is too dark. Find more light.' : m.codes.too_dark}</li>`);
    expect(retry).toContain(`<title>${m.signIn.titleRetry} — Facegate</title>`);
  });
});

describe('fallback section', () => {
  it.each(['substantial', 'high'] as const)('offers no photo upload at %s, says why, and lists the other ways', (acr) => {
    for (const lang of ['en', 'fr'] as const) {
      const page = signIn({ acr, lang });
      const section = /<section id="fallback"[\s\S]*?<\/section>/.exec(page)![0];
      expect(page).not.toContain('id="frame"');
      expect(page).not.toContain('id="verify"');
      expect(section).toContain(messagesOf(lang).signIn.noUpload);
      expect(section).toContain(messagesOf(lang).signIn.otherWaysTitle);
      expect(section).toContain(lang === 'en' ? 'Go to a service desk of Pension office with your ID card' : 'guichet');
    }
  });

  it('is visible without JavaScript, the camera part is not', () => {
    const page = signIn();
    expect(page).toMatch(/<section id="fallback"(?![^>]*hidden)[^>]*>/);
    expect(page).toMatch(/<div id="camera" class="camera" hidden>/);
  });
});

describe('consent and error pages in French', () => {
  it('relabels the claims and keeps the decision buttons', () => {
    const page = renderConsent({
      uid: 'u1', clientName: 'Impôts', acr: 'high', csrf: 't', action: '/interaction/u1/consent', lang: 'fr',
      claims: [{ name: 'given_name', label: 'Your first name' }, { name: 'custom', label: 'Custom' }],
    });
    expect(page).toContain('<html lang="fr">');
    expect(page).toContain('<li>Votre prénom</li>');
    expect(page).toContain('<li>Custom</li>');
    expect(page).toMatch(/name="decision" value="allow"[^>]*>Partager et continuer</);
    expect(page).toMatch(/name="decision" value="deny"[^>]*>Ne pas partager</);
  });

  it('renders the error page in French without a language switch', () => {
    const page = renderErrorPage({ title: 'T', message: 'M', code: 'locked', lang: 'fr' });
    expect(page).toContain('<html lang="fr">');
    expect(page).toContain(messagesOf('fr').error.whatToDo);
    expect(page).not.toContain('hreflang');
  });
});

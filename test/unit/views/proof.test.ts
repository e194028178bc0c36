// The proof-of-life pages: the link's page, the capture page (the sign-in page with `proof`), the outcome.
import { describe, expect, it } from '@jest/globals';
import { languages, messagesOf, renderProofDone, renderProofStart, renderSignIn, type Lang } from '../../../views/index.ts';

const endpoints = { capture: '/proof/p1/capture', verify: '/proof/p1/verify', quality: '/proof/p1/quality', abort: '/proof/p1/deny' };

describe.each(languages)('proof of life in %s', (lang: Lang) => {
  const t = messagesOf(lang).proof;

  it('the link\'s page: who asks, the binding message (escaped), the claims, start or "this was not me", nothing else', () => {
    const page = renderProofStart({
      clientName: 'Pension office', bindingMessage: 'A<b>1', claims: ['sub', 'given_name', 'auth_time'], action: '/proof/claim',
      token: 'tok', csrf: 'c', expiresAt: Date.UTC(2026, 10, 28, 8, 15), lang,
    });
    expect(page).toContain('<p class="binding-message" id="binding-message">A&lt;b&gt;1</p>');
    expect(page).toContain(messagesOf(lang).claims.given_name);
    expect(page).toContain('2026-11-28 08:15 UTC');
    expect(page).toContain(`value="start" class="button button--primary">${t.start}</button>`);
    expect(page).toContain(`value="deny" class="button button--secondary">${t.notMe}</button>`);
    expect(page).toContain('<input type="hidden" name="t" value="tok">');
    expect(page).not.toContain('<script src=');
  });

  it('the capture page: the sign-in page\'s camera and script, the binding message, no ID field', () => {
    const page = renderSignIn({
      uid: 'p1', clientName: 'Pension office', acr: 'high', claims: ['sub'], csrf: 'c', endpoints, lang,
      proof: { bindingMessage: 'DESK 4' }, languagePath: '/proof/p1',
    });
    expect(page).toContain('id="sign-in-form"');
    expect(page).toContain('id="camera-start"');
    expect(page).toContain('DESK 4');
    expect(page).not.toContain('id="nationalId"');
    expect(page).toContain(`<button type="submit" id="cancel" class="button button--secondary">${t.notMe}</button>`);
    expect(page).toContain('href="/proof/p1?lang=fr"');
    expect(page).toMatch(/sign-in\.[0-9a-f]{12}\.js/);
  });

  it('the outcome', () => {
    expect(renderProofDone({ clientName: 'Pension office', outcome: 'verified', lang })).toContain(t.verifiedTitle);
    expect(renderProofDone({ clientName: 'Pension office', outcome: 'denied', lang })).toContain('data-outcome="denied"');
  });
});

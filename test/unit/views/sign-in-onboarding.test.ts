// The sign-in page's offer of the remote onboarding (views/sign-in.ts #onboarding-offer): present
// when the gateway has onboarding, hidden until a face check is refused (for every ID alike), shown
// at once on the no-JavaScript page that carries the refusal, in English and French; never on a
// proof of life.
import { describe, expect, it } from '@jest/globals';
import { renderSignIn, type SignInProps } from '../../../views/index.ts';

const endpoints = { capture: '/interaction/u1/capture', verify: '/interaction/u1/verify', quality: '/interaction/u1/quality', abort: '/interaction/u1/abort' };
const page = (over: Partial<SignInProps> = {}) => renderSignIn({
  uid: 'u1', clientName: 'Pension office', acr: 'high', claims: ['sub'], csrf: 'tok', endpoints, onboardingPath: '/onboarding', ...over,
});
const offer = (html: string) => /<section id="onboarding-offer"[^>]*>[\s\S]*?<\/section>/.exec(html)?.[0];

describe('sign-in page: the onboarding offer', () => {
  it('is on the page, hidden, with its link to /onboarding', () => {
    const section = offer(page());
    expect(section).toMatch(/^<section id="onboarding-offer"[^>]* hidden>/);
    expect(section).toContain('<a id="onboarding-link" href="/onboarding" hreflang="en">Enrol with my identity document</a>');
  });

  it('is shown on the page that carries a refused face check, not on one asking for a better picture', () => {
    expect(offer(page({ feedback: [{ code: 'not_verified', message: 'x' }] }))).not.toMatch(/^<section[^>]* hidden>/);
    expect(offer(page({ feedback: [{ code: 'no_match', message: 'x' }] }))).not.toMatch(/^<section[^>]* hidden>/);
    expect(offer(page({ feedback: [{ code: 'too_dark', message: 'x' }] }))).toMatch(/^<section[^>]* hidden>/);
  });

  it('speaks French', () => {
    const section = offer(page({ lang: 'fr' }))!;
    expect(section).toContain('Pas de photo utilisable de vous au registre ?');
    expect(section).toContain('M&#39;inscrire avec ma pièce d&#39;identité');
  });

  it('is absent without onboarding and on a proof of life', () => {
    expect(offer(page({ onboardingPath: undefined }))).toBeUndefined();
    expect(offer(page({ proof: { bindingMessage: 'ABC-123' } }))).toBeUndefined();
  });
});

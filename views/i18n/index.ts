// The page languages: the catalogues, the choice of language for a request (`?lang=`, then the
// cookie, then Accept-Language) and `fill` for `{name}` slots. Imports only the catalogues.
import { en, type Messages } from './en.ts';
import { fr } from './fr.ts';

export type { Messages } from './en.ts';

/** The languages the pages speak, the default first. */
export const languages = ['en', 'fr'] as const;
export type Lang = (typeof languages)[number];

const catalogues: Record<Lang, Messages> = { en, fr };

/** The cookie that keeps the language chosen with the switch (a year, not HttpOnly-sensitive). */
export const languageCookie = 'facegate_lang';

/** Whether a value names a supported language. */
export function isLang(value: unknown): value is Lang {
  return typeof value === 'string' && (languages as readonly string[]).includes(value);
}

/** The catalogue of a language. */
export function messagesOf(lang: Lang): Messages {
  return catalogues[lang];
}

/** The best supported language of an Accept-Language header (RFC 9110 §12.5.4), or the default. */
export function fromAcceptLanguage(header: string | undefined): Lang {
  const ranked = (header ?? '').split(',').map((part, i) => {
    const [tag, ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)).find(Boolean);
    return { base: tag.split('-')[0], q: q ? Number(q[1]) : 1, i };
  }).filter((r) => r.base && r.q > 0).sort((a, b) => b.q - a.q || a.i - b.i);
  return ranked.find((r) => isLang(r.base))?.base as Lang | undefined ?? languages[0];
}

/** The parts of a koa context the choice reads (structural, so views import nothing from koa). */
export interface LanguageContext {
  query: Record<string, unknown>;
  get(header: string): string;
  cookies: { get(name: string): string | undefined; set(name: string, value: string, opts: object): unknown };
}

/**
 * The language of a page request: a valid `?lang=` wins and is remembered in a cookie; then the
 * cookie; then Accept-Language. Unknown values are ignored.
 */
export function languageOf(ctx: LanguageContext): Lang {
  const asked = ctx.query.lang;
  if (isLang(asked)) {
    ctx.cookies.set(languageCookie, asked, { httpOnly: true, sameSite: 'lax', maxAge: 365 * 86400_000, overwrite: true });
    return asked;
  }
  const kept = ctx.cookies.get(languageCookie);
  if (isLang(kept)) return kept;
  return fromAcceptLanguage(ctx.get('accept-language'));
}

/** Replaces `{name}` slots with values; unknown slots stay as they are. */
export function fill(text: string, values: Record<string, string | number>): string {
  return text.replace(/\{(\w+)\}/g, (slot, name: string) => (name in values ? String(values[name]) : slot));
}

/**
 * The message of an error code in a language. In English the server's own message (`fallback`,
 * from src/shared/errors.ts, possibly with details such as a time) wins; other languages use their
 * catalogue, and the server's English only for a code they do not know.
 */
export function codeMessage(lang: Lang, code: string, fallback: string): string {
  if (lang === 'en' && fallback) return fallback;
  return catalogues[lang].codes[code] ?? fallback ?? catalogues.en.codes[code] ?? '';
}

/** What the sign-in script receives as JSON: its strings, action words, live hints and code messages. */
export function clientMessages(lang: Lang): Record<string, unknown> {
  const m = catalogues[lang];
  return { lang, ...m.client, actions: m.actions, hints: m.hints, codes: m.codes };
}

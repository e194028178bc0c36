// Escaping for server-rendered pages: the `html` tagged template, `raw()` and `escapeHtml()`.
// Imports nothing; every page builds its markup through `html` so interpolations are escaped.

const brand: unique symbol = Symbol.for('facegate.safe-html');

/** An already-rendered fragment: `html` inserts it as is instead of escaping it again. */
export class SafeHtml {
  readonly [brand] = true;
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

/** What may be interpolated: text is escaped, `SafeHtml` kept, arrays joined, null/undefined/false dropped. */
export type HtmlValue = string | number | boolean | null | undefined | SafeHtml | readonly HtmlValue[];

const entities: Record<string, string> = {
  '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;',
};

/** Escapes text for use in element content and in quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`]/g, (c) => entities[c]);
}

/** Marks a string as safe HTML. Only for markup the code itself produced, never for input. */
export function raw(value: string): SafeHtml {
  return new SafeHtml(value);
}

/** Whether a value is a `SafeHtml` (by brand, so it holds across module copies and jest realms). */
export function isSafeHtml(value: unknown): value is SafeHtml {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
}

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return '';
  if (isSafeHtml(value)) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

/** Tagged template: `html\`<p>${text}</p>\`` escapes `text` and returns a `SafeHtml`. */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return new SafeHtml(out);
}

/**
 * A URL fit for `href`/`action`: a path on this site, or http(s). Anything else (`javascript:`,
 * `data:`) becomes `about:blank`, so a bad value from upstream cannot run script.
 */
export function safeUrl(value: string): string {
  const v = value.trim();
  if (/^\/(?!\/)/.test(v) || /^https?:\/\//i.test(v) || /^[?#]/.test(v)) return v;
  return 'about:blank';
}

// Interpreting the text of a machine-readable zone (ICAO Doc 9303 parts 4-6): TD1 (3 x 30),
// TD2 (2 x 36), TD3 (2 x 44). Parsing and every check digit are the `mrz` package's (with its
// autocorrection of letters in numeric fields and digits in alphabetic ones); this module fits an
// OCR line to its format's length, names the fields the way Facegate reports them, resolves the
// two-digit years and judges expiry.
import { parse, type Details, type ParseResult } from 'mrz';

export const mrzFormats = {
  TD1: { lines: 3, length: 30 },
  TD2: { lines: 2, length: 36 },
  TD3: { lines: 2, length: 44 },
} as const;
export type MrzFormat = keyof typeof mrzFormats;

const L = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', D = '0123456789', F = '<';
const LF = L + F, ANY = L + D + F, DF = D + F, SEX = 'MFX<';
const run = (chars: string, n: number): string[] => Array.from({ length: n }, () => chars);
/** Birth and expiry: YYMMDD; the month and day may be `<<` when unknown. */
const date = (): string[] => [...run(D, 2), ...run(DF, 4)];

/**
 * The characters each position of each line may hold (ICAO 9303 parts 4-6): letters in codes
 * and names, digits in dates and check digits, anything in numbers and optional data. Used to
 * decode OCR posteriors position by position; the parser checks the same again.
 */
export const mrzTemplates: Record<MrzFormat, string[][]> = {
  TD1: [
    [L, LF, ...run(LF, 3), ...run(ANY, 9), DF, ...run(ANY, 15)],
    [...date(), D, SEX, ...date(), D, ...run(LF, 3), ...run(ANY, 11), D],
    run(LF, 30),
  ],
  TD2: [
    [L, LF, ...run(LF, 3), ...run(LF, 31)],
    [...run(ANY, 9), DF, ...run(LF, 3), ...date(), D, SEX, ...date(), D, ...run(ANY, 7), D],
  ],
  TD3: [
    [L, LF, ...run(LF, 3), ...run(LF, 39)],
    [...run(ANY, 9), D, ...run(LF, 3), ...date(), D, SEX, ...date(), D, ...run(ANY, 14), DF, D],
  ],
};

/**
 * Codes that ICAO 9303 part 3 reserves and the parser's table of states lacks: UTO, the
 * fictional state of ICAO's specimens.
 */
const extraStates = new Set(['UTO']);

export interface DocumentFields {
  documentType: string | null;
  issuingState: string | null;
  documentNumber: string | null;
  surname: string | null;
  givenNames: string | null;
  nationality: string | null;
  /** YYYY-MM-DD (the century resolved: docs/onboarding.md), or the six MRZ characters when a part is unknown (`<<`). */
  birthDate: string | null;
  sex: 'F' | 'M' | 'X' | null;
  expiryDate: string | null;
  personalNumber: string | null;
}

/** Each check digit: true (holds), false (does not), null (the format has none). */
export interface DocumentChecks {
  documentNumber: boolean;
  birthDate: boolean;
  expiryDate: boolean;
  personalNumber: boolean | null;
  composite: boolean | null;
}

export interface MrzRead {
  format: string;
  lines: string[];
  fields: DocumentFields;
  checks: DocumentChecks;
  /** Every check digit holds and every field is well formed (dates, sex, country codes). */
  valid: boolean;
  /** The expiry date is before today (UTC); null when the date is not known. */
  expired: boolean | null;
  /** Check digits that hold, of those the format has. */
  checksPassed: number;
  checksTotal: number;
  /** Fields that are not well formed, with the parser's reason. */
  problems: string[];
}

/**
 * Brings an OCR line to `n` characters by lengthening or shortening its runs of fillers (the
 * usual OCR error: a run of `<` read one too long or short), the longest run first; a line with
 * no filler to spare is cut or padded at its end.
 */
export function fitLength(text: string, n: number): string {
  let s = text;
  while (s.length !== n) {
    const runs = [...s.matchAll(/<{2,}/g)].map((m) => ({ start: m.index, len: m[0].length }));
    const longest = runs.sort((a, b) => b.len - a.len || b.start - a.start)[0];
    if (s.length > n) {
      s = longest ? s.slice(0, longest.start) + s.slice(longest.start + 1) : s.slice(0, n);
    } else {
      s = longest ? `${s.slice(0, longest.start)}<${s.slice(longest.start)}` : s.padEnd(n, '<');
    }
  }
  return s;
}

const clean = (raw: string | null | undefined): string | null => {
  if (raw == null) return null;
  const v = raw.replace(/<+$/g, '').replace(/</g, ' ').replace(/\s+/g, ' ').trim();
  return v === '' ? null : v;
};

/** A two-digit year as a full date: births in the past hundred years, expiries up to 20 years ahead. */
export function resolveDate(yymmdd: string | null, kind: 'birth' | 'expiry', today = new Date()): string | null {
  if (!yymmdd) return null;
  if (!/^\d{6}$/.test(yymmdd)) return yymmdd;
  const yy = Number(yymmdd.slice(0, 2));
  const year = today.getUTCFullYear();
  let full = 2000 + yy;
  if (kind === 'birth' && full > year) full -= 100;
  if (kind === 'expiry' && full > year + 20) full -= 100;
  return `${full}-${yymmdd.slice(2, 4)}-${yymmdd.slice(4, 6)}`;
}

/** The characters of a field as read (the parser keeps them on its range, untyped). */
const rawOf = (d: Details | undefined): string | undefined => (d?.ranges[0] as { raw?: string } | undefined)?.raw;

function detail(details: Details[], field: string): Details | undefined {
  return details.find((d) => d.field === field);
}

/** The field's value, or what was read there when it is not valid. */
function value(details: Details[], field: string): string | null {
  const d = detail(details, field);
  if (!d) return null;
  return clean(d.value ?? rawOf(d) ?? null);
}

function check(details: Details[], field: string): boolean | null {
  const d = detail(details, field);
  return d ? d.valid : null;
}

/** Parses lines already of the format's length. Throws when the text is not in the MRZ alphabet. */
export function interpretMrz(lines: readonly string[], today = new Date()): MrzRead {
  const result: ParseResult = parse([...lines], { autocorrect: true });
  const d = result.details;
  const format = result.format;
  const sexRaw = rawOf(detail(d, 'sex'));
  const sex = sexRaw === 'F' || sexRaw === 'M' ? sexRaw : sexRaw === '<' || sexRaw === 'X' ? 'X' : null;
  const birth = value(d, 'birthDate')?.replace(/ /g, '<') ?? null;
  const expiry = value(d, 'expirationDate')?.replace(/ /g, '<') ?? null;
  let personalNumber: string | null;
  if (format === 'TD3') personalNumber = value(d, 'personalNumber');
  // TD1: the optional data after the document number (where most states put a personal number),
  // unless a long document number runs on into it.
  else if (format === 'TD1') personalNumber = rawOf(detail(d, 'documentNumberCheckDigit')) === '<' ? value(d, 'optional2') : value(d, 'optional1') ?? value(d, 'optional2');
  else personalNumber = value(d, 'optional');
  const fields: DocumentFields = {
    documentType: value(d, 'documentCode'),
    issuingState: value(d, 'issuingState'),
    documentNumber: result.documentNumber ?? value(d, 'documentNumber'),
    surname: value(d, 'lastName'),
    givenNames: value(d, 'firstName'),
    nationality: value(d, 'nationality'),
    birthDate: resolveDate(birth, 'birth', today),
    sex,
    expiryDate: resolveDate(expiry, 'expiry', today),
    personalNumber,
  };
  const checks: DocumentChecks = {
    documentNumber: check(d, 'documentNumberCheckDigit') ?? false,
    birthDate: check(d, 'birthDateCheckDigit') ?? false,
    expiryDate: check(d, 'expirationDateCheckDigit') ?? false,
    personalNumber: check(d, 'personalNumberCheckDigit'),
    composite: check(d, 'compositeCheckDigit'),
  };
  const present = Object.values(checks).filter((c): c is boolean => c !== null);
  const invalid = d.filter((x) => !x.valid && !((x.field === 'issuingState' || x.field === 'nationality') && extraStates.has(rawOf(x)?.replace(/<+$/, '') ?? '')));
  const todayIso = today.toISOString().slice(0, 10);
  const expired = fields.expiryDate && /^\d{4}-\d\d-\d\d$/.test(fields.expiryDate) && checks.expiryDate ? fields.expiryDate < todayIso : null;
  return {
    format,
    lines: result.details.length ? [...lines].map((l, i) => correctedLine(l, i, d)) : [...lines],
    fields,
    checks,
    valid: invalid.length === 0,
    expired,
    checksPassed: present.filter(Boolean).length,
    checksTotal: present.length,
    problems: invalid.map((x) => `${x.label}: ${x.error ?? 'invalid'}`),
  };
}

/** The line as the parser understood it (its autocorrections applied). */
function correctedLine(line: string, index: number, details: Details[]): string {
  const chars = [...line];
  for (const x of details) for (const a of x.autocorrect) if (a.line === index) chars[a.column] = a.corrected;
  return chars.join('');
}

// Whether a document's machine-readable zone names the registry's citizen: names compared after a
// documented normalisation (docs/onboarding.md "The registry cross-check"), the birth date and the
// document number exactly. Pure; imports nothing above shared/.
//
// Names carry no check digit, so OCR confusions in them are tolerated: one edit (a letter changed,
// added or dropped) in a name part of 5 letters or more (MOHANED for MOHAMED), none in a shorter
// one. The number and the dates carry check digits: a valid read of them is exact.
import type { DocumentFields } from './mrz.ts';

/** Letters ICAO 9303 part 3 (§6, transliteration) writes as two; the rest lose their accents. */
const expansions: Record<string, string> = { Æ: 'AE', Œ: 'OE', Ø: 'OE', ß: 'SS', Þ: 'TH', Ĳ: 'IJ', Ł: 'L', Đ: 'D', Ð: 'D', Ħ: 'H', İ: 'I' };
/** The German and Nordic umlauts, which documents may also write as two letters (MÜLLER as MUELLER). */
const umlauts: Record<string, string> = { Ä: 'AE', Ö: 'OE', Ü: 'UE', Å: 'AA' };

/**
 * A name as the MRZ would print it: uppercase, accents dropped (after the ICAO expansions), an
 * apostrophe dropped, anything else that is not A-Z (hyphen, space, `<`, comma) a separator; its parts.
 * With `umlauts`, Ä Ö Ü Å are written AE OE UE AA first.
 */
export function nameParts(name: string, options: { umlauts?: boolean } = {}): string[] {
  let s = name.normalize('NFC').toUpperCase();
  if (options.umlauts) s = s.replace(/[ÄÖÜÅ]/g, (c) => umlauts[c]);
  s = s.replace(/[ÆŒØßÞĲŁĐÐĦİ]/g, (c) => expansions[c] ?? c);
  s = s.normalize('NFD').replace(/\p{M}/gu, '');
  s = s.replace(/['’ʼ`]/g, '');
  return s.replace(/[^A-Z]+/g, ' ').trim().split(' ').filter(Boolean);
}

/** Levenshtein distance, stopping early past `max`. */
export function editDistance(a: string, b: string, max = 2): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      best = Math.min(best, cur[j]);
    }
    if (best > max) return max + 1;
    prev = cur;
  }
  return prev[b.length];
}

/** Edits tolerated in one name part of `length` letters. */
export const toleratedEdits = (length: number): number => (length >= 5 ? 1 : 0);

/**
 * Whether the document's name (as read) is the registry's: the same parts in the same order, each
 * within its tolerated edits. The registry's name is tried as written and with umlauts expanded.
 */
export function sameName(registry: string, document: string): boolean {
  const read = nameParts(document);
  return [nameParts(registry), nameParts(registry, { umlauts: true })].some((parts) =>
    parts.length === read.length && parts.length > 0
    && parts.every((p, i) => editDistance(p, read[i], 1) <= toleratedEdits(Math.max(p.length, read[i].length))));
}

/** What the registry knows of the citizen that the document must agree with. */
export type RegistryRecord = { givenName: string; familyName: string; birthdate: string; documentNumber?: string | null };

/** Which fields disagree (empty: the document names the citizen). */
export function recordMismatches(record: RegistryRecord, fields: Pick<DocumentFields, 'surname' | 'givenNames' | 'birthDate' | 'documentNumber'>): string[] {
  const out: string[] = [];
  if (!sameName(record.familyName, fields.surname ?? '')) out.push('surname');
  if (!sameName(record.givenName, fields.givenNames ?? '')) out.push('givenNames');
  // The MRZ has two-digit years (the reader puts a birth in the last hundred years): the century
  // is not compared, so a citizen over 100 still agrees.
  if (!fields.birthDate || record.birthdate.slice(2) !== fields.birthDate.slice(2)) out.push('birthDate');
  if (record.documentNumber) {
    const norm = (n: string) => n.toUpperCase().replace(/[^A-Z0-9]/g, '');
    if (norm(record.documentNumber) !== norm(fields.documentNumber ?? '')) out.push('documentNumber');
  }
  return out;
}

// Synthetic identity documents for the onboarding tests: a `faces/` photo as the portrait and a
// valid TD3 zone made here (helpers/mrz.ts, every check digit computed independently of the
// reader) on a document-like page, printed and photographed (bench/portrait-document.ts: halftone,
// paper noise, slight perspective and rotation, blur, sensor noise, JPEG).
import { composePrintedDocument } from '../../bench/portrait-document.ts';
import { td3 } from './mrz.ts';

export interface SyntheticHolder {
  portrait: Uint8Array;
  surname: string;
  givenNames: string;
  /** YYYY-MM-DD. */
  birthdate: string;
  /** YYYY-MM-DD. */
  expiry: string;
  number: string;
  sex?: 'F' | 'M';
  state?: string;
  seed?: number;
}

const yymmdd = (iso: string) => iso.slice(2).replace(/-/g, '');

/** The TD3 lines of a holder's passport. */
export const holderMrz = (h: SyntheticHolder): [string, string] => td3({
  state: h.state ?? 'UTO', surname: h.surname, givenNames: h.givenNames, number: h.number, nationality: h.state ?? 'UTO',
  birth: yymmdd(h.birthdate), sex: h.sex ?? 'M', expiry: yymmdd(h.expiry),
});

/** The holder's passport page, photographed (JPEG). */
export async function syntheticDocument(h: SyntheticHolder): Promise<Buffer> {
  return composePrintedDocument({
    portrait: h.portrait, lines: holderMrz(h), seed: h.seed ?? 1,
    words: ['REPUBLIC OF TESTING', 'PASSPORT / PASSEPORT', `${h.surname}`, `${h.givenNames}`, `${h.birthdate}`],
  });
}

/** A date `years` from today (UTC), YYYY-MM-DD: a document still valid, or (negative) expired. */
export const yearsFromNow = (years: number): string => {
  const d = new Date();
  d.setUTCFullYear(d.getUTCFullYear() + years);
  return d.toISOString().slice(0, 10);
};

// Making machine-readable zones for tests: ICAO 9303 check digits (computed here, independently of
// the reader and of the `mrz` package), valid TD3 lines from chosen fields, and a document page
// around them.
import sharp from 'sharp';
import { face } from './data.ts';

const value = (ch: string): number => (ch === '<' ? 0 : /[0-9]/.test(ch) ? Number(ch) : ch.charCodeAt(0) - 55);

/** The ICAO 9303 check digit of a field: weights 7, 3, 1 repeating, sum modulo 10. */
export function checkDigit(field: string): string {
  let sum = 0;
  for (let i = 0; i < field.length; i++) sum += value(field[i]) * [7, 3, 1][i % 3];
  return String(sum % 10);
}

const pad = (s: string, n: number) => s.padEnd(n, '<').slice(0, n);

export interface Td3Fields {
  type?: string; state: string; surname: string; givenNames: string; number: string; nationality: string;
  birth: string; sex: 'F' | 'M' | '<'; expiry: string; personal?: string;
}

/** The two lines of a TD3 (passport) zone with every check digit right. */
export function td3(f: Td3Fields): [string, string] {
  const l1 = pad(`${pad(f.type ?? 'P', 2)}${f.state}${f.surname.replace(/ /g, '<')}<<${f.givenNames.replace(/ /g, '<')}`, 44);
  const number = pad(f.number, 9), personal = pad(f.personal ?? '', 14);
  const personalCheck = f.personal ? checkDigit(personal) : '<';
  const head = `${number}${checkDigit(number)}${f.nationality}${f.birth}${checkDigit(f.birth)}${f.sex}${f.expiry}${checkDigit(f.expiry)}${personal}${personalCheck}`;
  const composite = checkDigit(`${head.slice(0, 10)}${head.slice(13, 20)}${head.slice(21, 43)}`);
  return [l1, `${head}${composite}`];
}

/**
 * Every check digit of the zone's lines holds (TD1, TD2, TD3; recomputed from the lines, not
 * taken from the reader): what a read that says `valid` must satisfy.
 */
export function checkDigitsHold(lines: readonly string[]): boolean {
  const ok = (field: string, digit: string) => checkDigit(field) === digit;
  if (lines.length === 2 && lines[1].length === 44) {
    const l = lines[1];
    const personalOk = l.slice(28, 42).replace(/</g, '') === '' ? ['<', '0'].includes(l[42]) : ok(l.slice(28, 42), l[42]);
    return ok(l.slice(0, 9), l[9]) && ok(l.slice(13, 19), l[19]) && ok(l.slice(21, 27), l[27]) && personalOk
      && ok(l.slice(0, 10) + l.slice(13, 20) + l.slice(21, 43), l[43]);
  }
  if (lines.length === 2 && lines[1].length === 36) {
    const l = lines[1];
    return ok(l.slice(0, 9), l[9]) && ok(l.slice(13, 19), l[19]) && ok(l.slice(21, 27), l[27]) && ok(l.slice(0, 10) + l.slice(13, 20) + l.slice(21, 35), l[35]);
  }
  if (lines.length === 3 && lines[0].length === 30) {
    const [a, b] = lines;
    const docOk = a[14] === '<' ? true : ok(a.slice(5, 14), a[14]); // a long number runs on into the optional data
    return docOk && ok(b.slice(0, 6), b[6]) && ok(b.slice(8, 14), b[14]) && ok(a.slice(5, 30) + b.slice(0, 7) + b.slice(8, 15) + b.slice(18, 29), b[29]);
  }
  return false;
}

/** A document page made here: a face photo as the portrait, a few printed words, a valid TD3 zone, printed-looking. */
export async function composeDocument(lines: [string, string], angle: number): Promise<Buffer> {
  const W = 1250, H = 880;
  const portrait = await sharp(face('kit_harington', 'kit_harington_1.jpg')).resize(300, 380, { fit: 'cover' }).jpeg().toBuffer();
  const esc = (s: string) => s.replace(/</g, '&lt;');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">
    <rect width="100%" height="100%" fill="#eef0e8"/>
    <text x="420" y="110" font-family="DejaVu Sans" font-size="44" fill="#223">REPUBLIC OF TESTING</text>
    <text x="420" y="190" font-family="DejaVu Sans" font-size="30" fill="#334">Surname / Nom: HARINGTON</text>
    <text x="420" y="250" font-family="DejaVu Sans" font-size="30" fill="#334">Given names: KIT</text>
    <text x="420" y="310" font-family="DejaVu Sans" font-size="30" fill="#334">Date of birth: 26 DEC 1986</text>
    <text x="60" y="${H - 130}" font-family="DejaVu Sans Mono" font-size="40" fill="#111">${esc(lines[0])}</text>
    <text x="60" y="${H - 65}" font-family="DejaVu Sans Mono" font-size="40" fill="#111">${esc(lines[1])}</text>
  </svg>`;
  const page = await sharp(Buffer.from(svg)).composite([{ input: portrait, left: 60, top: 80 }]).png().toBuffer();
  return sharp(page).rotate(angle, { background: '#8a8a80' }).blur(0.9).jpeg({ quality: 70 }).toBuffer();
}


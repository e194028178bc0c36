// Synthetic printed identity documents, made at run time with sharp: a face photo as the portrait
// (printed: reduced gamut, halftone, paper noise), a few printed words and the machine-readable
// zone's lines on a document-like page, then photographed: a slight perspective and rotation,
// blur, sensor noise and a phone's JPEG. For `npm run bench:portrait` and the onboarding tests
// (test/helpers/synthetic-document.ts adds valid MRZs). No jest here; seeded, so runs repeat.
import sharp from 'sharp';
import { motion, print, rng, sensor, warp } from './pad-corpus.ts';

export interface PrintedDocument {
  /** The portrait's source photo (any size: cropped to 300 × 380 around its centre). */
  portrait: Uint8Array;
  /** The zone's lines (two of 44 for TD3), printed in a monospaced face at the bottom. */
  lines: readonly string[];
  /** The visual zone's printed words (name, birth date…): decoration, never read. */
  words?: readonly string[];
  /** Seed of the printing and photographing defects. */
  seed?: number;
  /** How hard the photo is taken: 0 flat, 1 the default (±3° rotation, slight keystone). */
  tilt?: number;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** The page as printed, before it is photographed (PNG, 1250 × 880). */
export async function printedPage(doc: PrintedDocument): Promise<Buffer> {
  const W = 1250, H = 880;
  const r = rng(doc.seed ?? 1);
  const photo = await sharp(doc.portrait).rotate().resize(300, 380, { fit: 'cover', position: 'attention' }).jpeg({ quality: 92 }).toBuffer();
  const portrait = await sharp(await print(photo, r)).resize(300, 380).toBuffer();
  const words = (doc.words ?? ['REPUBLIC OF TESTING', 'IDENTITY DOCUMENT']).map((w, i) =>
    `<text x="420" y="${110 + i * 62}" font-family="DejaVu Sans" font-size="${i ? 30 : 44}" fill="#223">${esc(w)}</text>`).join('');
  const zone = doc.lines.map((l, i) =>
    `<text x="60" y="${H - 65 - (doc.lines.length - 1 - i) * 65}" font-family="DejaVu Sans Mono" font-size="40" fill="#111">${esc(l)}</text>`).join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">
    <rect width="100%" height="100%" fill="#eef0e8"/>
    <rect x="20" y="20" width="${W - 40}" height="${H - 40}" fill="none" stroke="#b8c0b0" stroke-width="3"/>
    ${words}${zone}
  </svg>`;
  return sharp(Buffer.from(svg)).composite([{ input: portrait, left: 60, top: 80 }]).png().toBuffer();
}

/** The page photographed: perspective, rotation, blur, sensor noise, JPEG (what a citizen uploads). */
export async function composePrintedDocument(doc: PrintedDocument): Promise<Buffer> {
  const r = rng((doc.seed ?? 1) * 7919 + 13);
  const tilt = doc.tilt ?? 1;
  const page = await printedPage(doc);
  // On a table-coloured margin, so the keystone's edges are not the page's.
  const framed = await sharp(page).extend({ top: 60, bottom: 60, left: 60, right: 60, background: '#8a8a80' }).jpeg({ quality: 95 }).toBuffer();
  const { width: W, height: H } = await sharp(framed).metadata() as { width: number; height: number };
  const h = motion(W, H, {
    rot: tilt * (r() * 6 - 3), scale: 1 + tilt * (r() * 0.04 - 0.02), px: tilt * (r() * 0.08 - 0.04), py: tilt * (r() * 0.06 - 0.03),
  });
  const shot = await sharp(await warp(framed, h)).blur(0.6 + 0.4 * r()).toBuffer();
  return sensor(shot, r, 3, 78);
}

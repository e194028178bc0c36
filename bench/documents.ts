// `npm run bench:documents [-- --ocr paddle,tesseract --rounds N --variants]`: the document
// reader (src/onboarding/) over ../shared/data/documents with each OCR engine: the read rate
// (reads whose check digits all hold) over every document and per group (the specimens that
// must read, the hard ones, the one that cannot), whether the unreadable one is refused, and the
// time per document (median and max, the model load apart), on this thread.
// --variants also reads each document turned upside down, a quarter turn, and tilted by 7 and
// -12 degrees (made at run time with sharp), to measure the search rather than the sample.
// Last stdout line: one JSON object.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { loadConfig } from '../config/load.ts';
import { openDocumentReader } from '../src/onboarding/document.ts';
import { ocrEngines, type OcrEngineName } from '../src/onboarding/ocr.ts';
import { isAppError } from '../src/shared/errors.ts';

const { values } = parseArgs({ options: { ocr: { type: 'string', default: ocrEngines.join(',') }, rounds: { type: 'string', default: '1' }, variants: { type: 'boolean', default: false } } });
const engines = values.ocr!.split(',').map((e) => e.trim()) as OcrEngineName[];
for (const e of engines) if (!ocrEngines.includes(e)) throw new Error(`--ocr: unknown engine ${e}`);
const rounds = Math.max(1, Number(values.rounds));
const dataDir = process.env.FACEGATE_TEST_DATA ?? join(import.meta.dirname, '..', '..', 'shared', 'data');
const docDir = join(dataDir, 'documents');
const config = loadConfig();

const files = readdirSync(docDir).filter((f) => /\.(png|jpe?g)$/i.test(f)).sort();
const group = (f: string) => (f.startsWith('0_') ? 'unreadable' : f.startsWith('100_') || f.startsWith('passport-') ? 'specimen' : 'hard');

type Sample = { name: string; group: string; bytes: Buffer };
const samples: Sample[] = files.map((f) => ({ name: f, group: group(f), bytes: readFileSync(join(docDir, f)) }));
if (values.variants) {
  for (const f of files.filter((x) => group(x) !== 'unreadable')) {
    const bytes = readFileSync(join(docDir, f));
    for (const [label, angle] of [['turned 180', 180], ['turned 90', 90], ['tilted 7', 7], ['tilted -12', -12]] as const) {
      samples.push({ name: `${f} ${label}`, group: `variant (${group(f)})`, bytes: await sharp(bytes).rotate(angle, { background: '#ffffff' }).png().toBuffer() });
    }
  }
}

const pct = (a: number, b: number) => (b ? `${((100 * a) / b).toFixed(0)}%` : '-');
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.floor((s.length - 1) / 2)] : 0; };
const summary: Record<string, unknown> = {};

for (const engine of engines) {
  const t0 = performance.now();
  const reader = await openDocumentReader(config.biometrics, { ocr: engine });
  const loadMs = performance.now() - t0;
  await reader.read(samples[samples.length > 1 ? 1 : 0].bytes, { portrait: false }).catch(() => undefined); // warm-up, not timed
  const rows: Array<{ name: string; group: string; outcome: string; checks: string; ms: number; passes: number }> = [];
  for (const s of samples) {
    const times: number[] = [];
    let outcome = '', checks = '', passes = 0;
    for (let r = 0; r < rounds; r++) {
      const start = performance.now();
      try {
        const rep = await reader.read(s.bytes, { portrait: false });
        const present = Object.values(rep.checks).filter((c) => c !== null);
        outcome = rep.valid ? `valid ${rep.format}` : `mrz_check_failed ${rep.format}`;
        checks = `${present.filter(Boolean).length}/${present.length}`;
        passes = rep.ocr.passes;
      } catch (err) {
        if (!isAppError(err)) throw err;
        outcome = err.code;
        checks = '-';
        passes = Number(err.details.passes ?? 0);
      }
      times.push(performance.now() - start);
    }
    rows.push({ name: s.name, group: s.group, outcome, checks, ms: median(times), passes });
  }
  await reader.close();

  console.log(`\n${engine}: model load ${loadMs.toFixed(0)} ms`);
  console.log(`${'document'.padEnd(32)} ${'group'.padEnd(20)} ${'outcome'.padEnd(22)} checks passes     ms`);
  for (const r of rows) console.log(`${r.name.padEnd(32)} ${r.group.padEnd(20)} ${r.outcome.padEnd(22)} ${r.checks.padStart(6)} ${String(r.passes).padStart(6)} ${r.ms.toFixed(0).padStart(6)}`);
  const of = (pred: (r: (typeof rows)[number]) => boolean) => rows.filter(pred);
  const valid = (rs: typeof rows) => rs.filter((r) => r.outcome.startsWith('valid')).length;
  const originals = of((r) => !r.group.startsWith('variant'));
  const specimen = of((r) => r.group === 'specimen'), hard = of((r) => r.group === 'hard'), variants = of((r) => r.group.startsWith('variant'));
  const unreadable = of((r) => r.group === 'unreadable');
  const figures = {
    documents: originals.length,
    readRate: valid(originals) / originals.length,
    specimens: { valid: valid(specimen), of: specimen.length },
    hard: { valid: valid(hard), of: hard.length },
    unreadableRefused: unreadable.every((r) => r.outcome === 'mrz_not_found'),
    ...(variants.length ? { variants: { valid: valid(variants), of: variants.length } } : {}),
    msPerDocument: { median: Math.round(median(originals.map((r) => r.ms))), mean: Math.round(originals.reduce((s, r) => s + r.ms, 0) / originals.length), max: Math.round(Math.max(...originals.map((r) => r.ms))) },
    modelLoadMs: Math.round(loadMs),
  };
  console.log(`read rate ${pct(valid(originals), originals.length)} (${valid(originals)}/${originals.length}): specimens ${valid(specimen)}/${specimen.length}, hard ${valid(hard)}/${hard.length}, unreadable refused: ${figures.unreadableRefused}`
    + `${variants.length ? `; turned/tilted variants ${valid(variants)}/${variants.length}` : ''}; ms per document median ${figures.msPerDocument.median}, mean ${figures.msPerDocument.mean}, max ${figures.msPerDocument.max}`);
  summary[engine] = figures;
}
console.log(JSON.stringify({ bench: 'documents', rounds, ...summary }));

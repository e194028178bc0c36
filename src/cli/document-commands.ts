// `facegate document IMAGE`: reads an identity document's machine-readable zone and finds its
// portrait (src/onboarding/), in this thread. Exit 0 for a read whose check digits all hold
// (expired or not: `expired` says); 1 with mrz_check_failed for a zone read whose check digits
// do not all hold (the read is printed, with the error); 1 with mrz_not_found when no zone is read.
import type { Command } from 'commander';
import type { Config } from '../../config/schema.ts';
import { documentRefusal, openDocumentReader, type DocumentReport } from '../onboarding/document.ts';
import { ocrEngines, type OcrEngineName } from '../onboarding/ocr.ts';
import { AppError } from '../shared/errors.ts';
import { fixed, print, readInput, type OutputOptions } from './output.ts';

/** The report as printed: the portrait's box and quality only, the lines, the OCR's work. */
export function publicReport(r: DocumentReport) {
  return {
    format: r.format,
    fields: r.fields,
    checks: r.checks,
    valid: r.valid,
    expired: r.expired,
    portrait: r.portrait ? { box: r.portrait.box, quality: r.portrait.quality } : null,
    lines: r.lines,
    ...(r.problems.length ? { problems: r.problems } : {}),
    ocr: { engine: r.ocr.engine, passes: r.ocr.passes, stage: r.ocr.stage, quarterTurns: r.ocr.quarterTurns, ms: Math.round(r.ocr.ms) },
  };
}

const mark = (ok: boolean | null) => (ok === null ? '-' : ok ? 'ok' : 'FAILED');

function describe(r: DocumentReport): string {
  const f = r.fields;
  const lines = [
    `${r.format} ${r.valid ? 'valid' : 'NOT VALID'}${r.expired ? ', expired' : ''} (OCR ${r.ocr.engine}, ${r.ocr.passes} pass${r.ocr.passes === 1 ? '' : 'es'}, ${r.ocr.ms.toFixed(0)} ms)`,
    ...r.lines.map((l) => `  ${l}`),
    `  type ${f.documentType ?? '-'}, issued by ${f.issuingState ?? '-'}, number ${f.documentNumber ?? '-'} [${mark(r.checks.documentNumber)}]`,
    `  ${f.surname ?? '-'}, ${f.givenNames ?? '-'}; nationality ${f.nationality ?? '-'}; sex ${f.sex ?? '-'}`,
    `  born ${f.birthDate ?? '-'} [${mark(r.checks.birthDate)}], expires ${f.expiryDate ?? '-'} [${mark(r.checks.expiryDate)}]`,
    `  personal number ${f.personalNumber ?? '-'} [${mark(r.checks.personalNumber)}], composite [${mark(r.checks.composite)}]`,
  ];
  for (const p of r.problems) lines.push(`  ! ${p}`);
  if (r.portrait) {
    const b = r.portrait.box, q = r.portrait.quality;
    lines.push(`  portrait box ${[b.x1, b.y1, b.x2, b.y2].map((v) => v.toFixed(0)).join(',')}; quality (${q.grade}): ${q.ok ? 'ok' : q.codes.join(', ')}`);
    for (const m of q.measures) lines.push(`    ${m.ok ? ' ' : '!'} ${m.name.padEnd(20)} ${fixed(m.value).padStart(9)} ${m.bound === 'min' ? '>=' : '<='} ${m.threshold}`);
  } else {
    lines.push('  portrait: none found');
  }
  return lines.join('\n');
}

export function registerDocumentCommands(program: Command, config: Readonly<Config>, run: (json: boolean, body: () => Promise<void>) => Promise<void>) {
  program.command('document')
    .description('Read an identity document: its machine-readable zone (every check digit, expiry) and its portrait')
    .argument('<image>', 'JPEG, PNG or WebP photo or scan of the data page')
    .option('--ocr <engine>', `OCR engine: ${ocrEngines.join(' or ')}`, 'paddle')
    .option('--json', 'print JSON')
    .action((image: string, opts: OutputOptions & { ocr: string }) => run(!!opts.json, async () => {
      if (!(ocrEngines as readonly string[]).includes(opts.ocr)) throw new AppError('invalid_input', `--ocr must be one of ${ocrEngines.join(', ')}`);
      const bytes = await readInput(image);
      const reader = await openDocumentReader(config.biometrics, { ocr: opts.ocr as OcrEngineName });
      try {
        const report = await reader.read(bytes);
        // An expired document is still a correct read: only check digits that fail are an error here.
        const refusal = report.valid ? null : documentRefusal(report);
        const out = refusal ? { ...publicReport(report), error: { code: refusal.code, message: refusal.message } } : publicReport(report);
        print(opts, out, () => describe(report));
        if (refusal) {
          process.stderr.write(`error ${refusal.code}: ${refusal.message}\n`);
          process.exitCode = 1;
        }
      } finally {
        await reader.close();
      }
    }));
}

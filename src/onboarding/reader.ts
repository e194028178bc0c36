// Reading the MRZ of a decoded picture: locate the candidate zones, cut out each line
// straightened, OCR it, fit it to each format it may be, parse and check. The first read whose
// check digits all hold ends the search; until then it retries, in this order:
//   1. every candidate zone as found (the picture's own skew), upright, then with the picture
//      turned upside down and a quarter turn each way (a card upside down, a page photographed
//      in portrait), until one orientation gives a read most check digits support;
//   2. that orientation's best zones deskewed again on the zone alone, contrast stretched, and
//      at two other scales of the print.
// A bounded number of OCR passes; what comes back is the best read (most check digits holding),
// which may be invalid. Whether that counts as an MRZ at all is document.ts's decision.
import { performance } from 'node:perf_hooks';
import { pyramid, rotateQuarter, stretch, type Gray } from './gray.ts';
import { cutLine, locateMrz, refineSkew, type MrzCandidate } from './locate.ts';
import { fitLength, interpretMrz, mrzFormats, mrzTemplates, type MrzFormat, type MrzRead } from './mrz.ts';
import type { LineRead, LineRecognizer } from './ocr.ts';

export interface ReadAttempts {
  /** OCR passes over a zone (each reads its two or three lines). */
  passes: number;
  /** Which retry gave the result: 'zone', 'refined', 'stretched', 'scaled', 'turned'. */
  stage: string | null;
  /** Quarter turns clockwise of the picture in which the zone was read. */
  quarterTurns: number;
  ms: number;
}

export interface MrzSearch { read: MrzRead | null; attempts: ReadAttempts }

export interface ReaderOptions {
  today?: Date;
  /** Most OCR passes before giving up (default 20). */
  maxPasses?: number;
}

/** Whether a read is better than another: more check digits holding, then more fields well formed. */
function better(a: MrzRead, b: MrzRead | null): boolean {
  if (!b) return true;
  if (a.valid !== b.valid) return a.valid;
  if (a.checksPassed / a.checksTotal !== b.checksPassed / b.checksTotal) return a.checksPassed / a.checksTotal > b.checksPassed / b.checksTotal;
  return a.problems.length < b.problems.length;
}

/** The format readings to try for the lines of one zone: TD1 on three lines, TD2/TD3 on each consecutive pair. */
function layouts(reads: readonly LineRead[]): Array<{ format: MrzFormat; lines: LineRead[] }> {
  const out: Array<{ format: MrzFormat; lines: LineRead[]; distance: number }> = [];
  const mean = (ls: readonly LineRead[]) => ls.reduce((s, l) => s + l.text.length, 0) / ls.length;
  const lengths = Object.values(mrzFormats).map((f) => f.length);
  for (const format of Object.keys(mrzFormats) as MrzFormat[]) {
    const { lines: n, length } = mrzFormats[format];
    for (let i = 0; i + n <= reads.length; i++) {
      const group = reads.slice(i, i + n);
      const m = mean(group);
      // Lines read at about a format's length are that format, not one further off: stretching
      // 30 characters to 36 makes up text. Judged on the longest line (a run of fillers read as
      // one only shortens a line) within 2 characters of the nearest format, and on the mean
      // within a fifth.
      const longest = Math.max(...group.map((l) => l.text.length));
      const nearest = Math.min(...lengths.map((x) => Math.abs(longest - x)));
      if (Math.abs(longest - length) > nearest + 2 || Math.abs(m - length) > length / 5) continue;
      out.push({ format, lines: group, distance: Math.abs(m - length) / length });
    }
  }
  return out.sort((a, b) => a.distance - b.distance);
}

function fitted(line: LineRead, format: MrzFormat, index: number): string {
  const n = mrzFormats[format].length;
  return line.withLength?.(n, mrzTemplates[format][index]) ?? fitLength(line.text, n);
}

/** A read that most check digits support: the zone was found and read, if not perfectly. */
export const isPlausible = (r: MrzRead | null): boolean => !!r && r.checksPassed * 2 > r.checksTotal;

export async function searchMrz(gray: Gray, recognizer: LineRecognizer, options: ReaderOptions = {}): Promise<MrzSearch> {
  const start = performance.now();
  const maxPasses = options.maxPasses ?? 20;
  const attempts: ReadAttempts = { passes: 0, stage: null, quarterTurns: 0, ms: 0 };
  let best: MrzRead | null = null;

  /** One OCR pass over a zone; true when it gave a valid read. */
  async function tryZone(levels: Gray[], cand: MrzCandidate, stage: string, quarterTurns: number, variant: { stretch?: boolean; scale?: number } = {}) {
    if (attempts.passes >= maxPasses) return false;
    attempts.passes++;
    const textHeight = recognizer.textHeight * (variant.scale ?? 1);
    const crops = cand.lines.map((l) => {
      const crop = cutLine(levels, l, textHeight, recognizer.pad);
      return variant.stretch ? stretch(crop) : crop;
    });
    const reads = await recognizer.read(crops);
    for (const { format, lines } of layouts(reads)) {
      const texts = lines.map((l, i) => fitted(l, format, i));
      let read: MrzRead;
      try {
        read = interpretMrz(texts, options.today);
      } catch {
        continue; // not parseable as any format (the parser's own refusal)
      }
      if (better(read, best)) {
        best = read;
        attempts.stage = stage;
        attempts.quarterTurns = quarterTurns;
      }
      if (read.valid) return true;
    }
    return false;
  }

  const done = () => {
    attempts.ms = performance.now() - start;
    return { read: best, attempts };
  };

  // 1. The zones as found, at each orientation (upright first).
  const orientations: Array<{ quarterTurns: number; levels: Gray[]; zones: MrzCandidate[] }> = [];
  // A picture taller than wide is more likely a quarter turn off than upside down.
  for (const quarterTurns of gray.height > gray.width ? [0, 1, 3, 2] : [0, 2, 1, 3]) {
    const levels = pyramid(rotateQuarter(gray, quarterTurns));
    const zones = locateMrz(levels, { maxCandidates: quarterTurns === 0 ? 4 : 2 });
    orientations.push({ quarterTurns, levels, zones });
    for (const cand of zones) if (await tryZone(levels, cand, quarterTurns ? 'turned' : 'zone', quarterTurns)) return done();
    // A zone read here, if imperfectly: the picture is the right way up.
    if (isPlausible(best)) break;
  }
  // 2. The best orientation's first zones again: deskewed on the zone alone, contrast
  //    stretched, the print at other scales.
  const at = orientations.find((o) => o.quarterTurns === attempts.quarterTurns) ?? orientations[0];
  for (const cand of at.zones.slice(0, 2)) {
    const refined = refineSkew(at.levels, cand);
    const turns = at.quarterTurns;
    if (await tryZone(at.levels, refined, 'refined', turns)) return done();
    if (await tryZone(at.levels, refined, 'stretched', turns, { stretch: true })) return done();
    for (const scale of [0.8, 1.25]) if (await tryZone(at.levels, refined, 'scaled', turns, { scale })) return done();
  }
  return done();
}

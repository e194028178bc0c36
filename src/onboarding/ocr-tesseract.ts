// Tesseract 5 (LSTM) compiled to WebAssembly, from the npm packages tesseract.js and
// tesseract.js-core, with the English model of @tesseract.js-data/eng (tessdata_best, integer).
// Every path points into node_modules: left unset, tesseract.js fetches its language data from a
// CDN and caches it in the working directory. It runs in its own worker thread. Each line is
// read as a single text line (PSM 7) with the MRZ alphabet as the whitelist and no dictionaries.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import Tesseract from 'tesseract.js';
import type { Gray } from './gray.ts';
import { MRZ_ALPHABET, type LineRead, type LineRecognizer } from './ocr.ts';

export function tesseractPaths() {
  const require = createRequire(import.meta.url);
  const pkg = (name: string) => dirname(require.resolve(`${name}/package.json`));
  return {
    workerPath: join(pkg('tesseract.js'), 'src', 'worker-script', 'node', 'index.js'),
    corePath: pkg('tesseract.js-core'),
    langPath: join(pkg('@tesseract.js-data/eng'), '4.0.0_best_int'),
  };
}

async function png(line: Gray): Promise<Buffer> {
  const bytes = new Uint8Array(line.data.length);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.max(0, Math.min(255, Math.round(line.data[i])));
  return sharp(bytes, { raw: { width: line.width, height: line.height, channels: 1 } }).png({ compressionLevel: 1 }).toBuffer();
}

export async function openTesseractRecognizer(): Promise<LineRecognizer> {
  const worker = await Tesseract.createWorker('eng', Tesseract.OEM.LSTM_ONLY, {
    ...tesseractPaths(),
    gzip: true,
    cacheMethod: 'none', // read the model from langPath every time; write no cache file
    logger: () => {},
    errorHandler: () => {},
  }, {
    load_system_dawg: '0', load_freq_dawg: '0', load_unambig_dawg: '0', load_punc_dawg: '0', load_number_dawg: '0', load_bigram_dawg: '0',
  });
  await worker.setParameters({
    tessedit_pageseg_mode: Tesseract.PSM.SINGLE_LINE,
    tessedit_char_whitelist: MRZ_ALPHABET,
    preserve_interword_spaces: '0',
    user_defined_dpi: '300',
  });
  return {
    engine: 'tesseract',
    textHeight: 36,
    pad: 0.5,
    async read(lines) {
      const out: LineRead[] = [];
      for (const line of lines) {
        const { data } = await worker.recognize(await png(line));
        out.push({ text: data.text.replace(/[^A-Z0-9<]/g, ''), confidence: data.confidence / 100 });
      }
      return out;
    },
    close: async () => { await worker.terminate(); },
  };
}

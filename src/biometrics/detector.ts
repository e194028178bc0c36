// Face detection: letterboxes the picture into the detector's 320x240 input, keeps boxes above
// the score threshold, merges overlaps (NMS). A face that fills the picture is found by a second
// pass on a padded canvas.
import type ort from 'onnxruntime-node';
import { nms, type Detection } from './geometry.ts';
import { runModel } from './models.ts';
import { sampleToChw, type ChannelOrder, type RgbImage } from './pixels.ts';

export const DETECT_W = 320;
export const DETECT_H = 240;

export interface DetectorSettings { scoreThreshold: number; nmsIou: number; padFraction: number }
/** The detector's settings and the channel order its input takes (models/manifest.json). */
type DetectOptions = DetectorSettings & { channels?: ChannelOrder };

interface Letterbox { scale: number; ox: number; oy: number }

function letterbox(img: RgbImage, pad: number, channels: ChannelOrder): { input: Float32Array; lb: Letterbox } {
  const scale = Math.min(DETECT_W / (img.width * (1 + 2 * pad)), DETECT_H / (img.height * (1 + 2 * pad)));
  const ox = (DETECT_W - img.width * scale) / 2;
  const oy = (DETECT_H - img.height * scale) / 2;
  // output pixel centre u+0.5 sits at source position (u + 0.5 - ox) / scale.
  const inv = 1 / scale;
  const map = [inv, 0, (0.5 - ox) * inv - 0.5, 0, inv, (0.5 - oy) * inv - 0.5] as const;
  const input = sampleToChw(img, DETECT_W, DETECT_H, map, [127, 127, 127], [128, 128, 128], 127, channels);
  return { input, lb: { scale, ox, oy } };
}

function decode(scores: Float32Array, boxes: Float32Array, lb: Letterbox, threshold: number): Detection[] {
  const out: Detection[] = [];
  const n = scores.length / 2;
  for (let i = 0; i < n; i++) {
    const score = scores[2 * i + 1];
    if (score < threshold) continue;
    const b = 4 * i;
    out.push({
      score,
      box: {
        x1: (boxes[b] * DETECT_W - lb.ox) / lb.scale,
        y1: (boxes[b + 1] * DETECT_H - lb.oy) / lb.scale,
        x2: (boxes[b + 2] * DETECT_W - lb.ox) / lb.scale,
        y2: (boxes[b + 3] * DETECT_H - lb.oy) / lb.scale,
      },
    });
  }
  return out;
}

async function detectOnce(session: ort.InferenceSession, img: RgbImage, s: DetectOptions, pad: number) {
  const { input, lb } = letterbox(img, pad, s.channels ?? 'rgb');
  const out = await runModel(session, input, [1, 3, DETECT_H, DETECT_W]);
  return nms(decode(out.scores, out.boxes, lb, s.scoreThreshold), s.nmsIou);
}

const touchesBorder = (d: Detection, img: RgbImage): boolean => {
  const mx = img.width * 0.01, my = img.height * 0.01;
  return d.box.x1 <= mx || d.box.y1 <= my || d.box.x2 >= img.width - mx || d.box.y2 >= img.height - my;
};

const byAreaDesc = (p: Detection, q: Detection) => (q.box.x2 - q.box.x1) * (q.box.y2 - q.box.y1) - (p.box.x2 - p.box.x1) * (p.box.y2 - p.box.y1);

/**
 * All faces in the picture, largest first, in the picture's pixel coordinates (a box may extend
 * past the edges). When nothing is found, or the largest face touches the border (an ID photo, a
 * tight crop: the detector clips its box there), the search runs again on a padded canvas.
 */
export async function detectFaces(session: ort.InferenceSession, img: RgbImage, s: DetectOptions): Promise<Detection[]> {
  let faces = (await detectOnce(session, img, s, 0)).sort(byAreaDesc);
  if (s.padFraction > 0 && (faces.length === 0 || touchesBorder(faces[0], img))) {
    const padded = (await detectOnce(session, img, s, s.padFraction)).sort(byAreaDesc);
    if (padded.length > 0) faces = padded;
  }
  return faces;
}

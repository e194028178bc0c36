// The per-face model heads: embedding, passive liveness, eye state and head pose. Each crops its
// own input as the model expects (models/manifest.json) and returns plain numbers.
import type ort from 'onnxruntime-node';
import type { Box, Point } from './geometry.ts';
import { runModel, softmax } from './models.ts';
import { crop, cropMap, rectInside, sampleToChw, scale, toChw, toGray, type ChannelOrder, type RgbImage } from './pixels.ts';

/** 512-d L2-normalised embedding of an aligned 112x112 face. */
export async function embedFace(session: ort.InferenceSession, aligned: RgbImage, channels: ChannelOrder): Promise<Float32Array> {
  const { output } = await runModel(session, toChw(aligned, [127, 127, 127], [128, 128, 128], channels), [1, 3, 112, 112]);
  let norm = 0;
  for (let i = 0; i < output.length; i++) norm += output[i] * output[i];
  norm = Math.sqrt(norm) || 1;
  const out = new Float32Array(output.length);
  for (let i = 0; i < output.length; i++) out[i] = output[i] / norm;
  return out;
}

const LIVENESS_SCALE = 2.7;

/** Passive liveness: probability that the face is a live person (softmax class 0). */
export async function livenessScore(session: ort.InferenceSession, img: RgbImage, box: Box, channels: ChannelOrder): Promise<number> {
  const w = box.x2 - box.x1, h = box.y2 - box.y1;
  const k = Math.min((img.height - 1) / h, (img.width - 1) / w, LIVENESS_SCALE);
  const r = rectInside((box.x1 + box.x2) / 2, (box.y1 + box.y2) / 2, w * k, h * k, img.width, img.height);
  const { output } = await runModel(session, sampleToChw(img, 128, 128, cropMap(r, 128, 128), [0, 0, 0], [1, 1, 1], null, channels), [1, 3, 128, 128]);
  return softmax(output)[0];
}

/** Probability that each eye is open: [image-left eye, image-right eye]. */
export async function eyesOpen(session: ort.InferenceSession, img: RgbImage, boxes: readonly Box[]): Promise<number[]> {
  const out: number[] = [];
  for (const b of boxes) {
    const input = scale(toGray(crop(img, b, 24, 24)), 1 / 255);
    const { output } = await runModel(session, input, [1, 1, 24, 24]);
    out.push(softmax(output)[1]);
  }
  return out;
}

export interface Pose { yaw: number; pitch: number; roll: number }

const binsToDegrees = (logits: Float32Array): number => softmax(logits).reduce((s, p, i) => s + p * i, 0) * 3 - 99;

/** Head pose in degrees from the pose model (yaw > 0: the subject turns to the image's left). */
export async function headPose(session: ort.InferenceSession, img: RgbImage, box: Box, channels: ChannelOrder): Promise<Pose> {
  const w = box.x2 - box.x1, h = box.y2 - box.y1;
  const r = rectInside((box.x1 + box.x2) / 2, (box.y1 + box.y2) / 2, w * 1.5, h * 1.5, img.width, img.height);
  const input = sampleToChw(img, 224, 224, cropMap(r, 224, 224), [0.485 * 255, 0.456 * 255, 0.406 * 255], [0.229 * 255, 0.224 * 255, 0.225 * 255], null, channels);
  const out = await runModel(session, input, [1, 3, 224, 224]);
  const [yawLogits, pitchLogits, rollLogits] = session.outputNames.map((n) => out[n]);
  return { yaw: binsToDegrees(yawLogits), pitch: binsToDegrees(pitchLogits), roll: binsToDegrees(rollLogits) };
}

/** Roll in degrees from the eye line (positive: the head tilts clockwise in the image). */
export function rollFromEyes(rightEye: Point, leftEye: Point): number {
  return (Math.atan2(leftEye.y - rightEye.y, leftEye.x - rightEye.x) * 180) / Math.PI;
}

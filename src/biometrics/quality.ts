// Quality assessment of the dominant face, after ISO/IEC 29794-5 (measure definitions as in BSI
// OFIQ, simplified): each measure has a value, the grade's threshold and the code it raises.
import type { QualityGrade } from '../../config/schema.ts';
import { ALIGNED_SIZE } from './align.ts';
import { boxWidth, outsideFraction, type Box, type Detection, type Point } from './geometry.ts';
import type { Pose } from './heads.ts';
import { toGray, type RgbImage } from './pixels.ts';
import type { ErrorCode } from '../shared/errors.ts';

export type QualityCode = Extract<ErrorCode,
  'no_face' | 'multiple_faces' | 'face_too_small' | 'face_too_close' | 'face_cut_off' | 'blurry' | 'too_dark' | 'too_bright'
  | 'uneven_light' | 'face_turned' | 'eyes_closed'>;

export interface QualityMeasure {
  name: string;
  value: number;
  threshold: number;
  /** 'min': value must be >= threshold; 'max': value must be <= threshold. */
  bound: 'min' | 'max';
  ok: boolean;
  code: QualityCode;
}

export interface QualityResult { grade: 'capture' | 'enrollment' | 'document'; ok: boolean; codes: QualityCode[]; measures: QualityMeasure[] }

/** Photometric statistics of the aligned face's skin region (cheeks, nose, forehead, mouth). */
export interface Photometry { brightness: number; darkFraction: number; brightFraction: number; imbalance: number; sharpness: number }

const REGION = { x1: 24, x2: 88, y1: 28, y2: 104 };

export function measurePhotometry(aligned: RgbImage): Photometry {
  const gray = toGray(aligned);
  const W = ALIGNED_SIZE, mid = (REGION.x1 + REGION.x2) / 2;
  let sum = 0, n = 0, dark = 0, bright = 0, left = 0, right = 0, lapSum = 0, lapSq = 0;
  for (let y = REGION.y1; y < REGION.y2; y++) {
    for (let x = REGION.x1; x < REGION.x2; x++) {
      const i = y * W + x, v = gray[i];
      sum += v; n++;
      if (v < 30) dark++;
      if (v > 245) bright++;
      if (x < mid) left += v; else right += v;
      const lap = gray[i - 1] + gray[i + 1] + gray[i - W] + gray[i + W] - 4 * v;
      lapSum += lap; lapSq += lap * lap;
    }
  }
  const lapMean = lapSum / n;
  return {
    brightness: sum / n,
    darkFraction: dark / n,
    brightFraction: bright / n,
    imbalance: Math.abs(left - right) / Math.max(1, left + right),
    sharpness: lapSq / n - lapMean * lapMean,
  };
}

export interface QualityInput {
  faces: readonly Detection[];
  box: Box;
  eyes: readonly [Point, Point];
  /** Source pixels per working pixel, so sizes are judged on the picture as sent. */
  sourceScale: number;
  width: number;
  height: number;
  photometry: Photometry;
  pose: Pose;
  eyesOpen: readonly number[];
}

const measure = (name: string, value: number, threshold: number, bound: 'min' | 'max', code: QualityCode): QualityMeasure => ({
  name, value, threshold, bound, code, ok: bound === 'min' ? value >= threshold : value <= threshold,
});

export function assessQuality(q: QualityInput, t: QualityGrade, grade: QualityResult['grade']): QualityResult {
  const secondRatio = q.faces.length > 1 ? boxWidth(q.faces[1].box) / boxWidth(q.faces[0].box) : 0;
  const ied = Math.hypot(q.eyes[1].x - q.eyes[0].x, q.eyes[1].y - q.eyes[0].y) * q.sourceScale;
  const p = q.photometry;
  const measures = [
    measure('second_face_ratio', secondRatio, t.maxSecondFaceRatio, 'max', 'multiple_faces'),
    measure('outside_fraction', outsideFraction(q.box, q.width, q.height), t.maxOutsideFraction, 'max', 'face_cut_off'),
    measure('inter_eye_px', ied, t.minInterEyePx, 'min', 'face_too_small'),
    measure('face_height_fraction', (q.box.y2 - q.box.y1) / q.height, t.maxFaceHeightFraction, 'max', 'face_too_close'),
    measure('yaw_deg', Math.abs(q.pose.yaw), t.maxYawDeg, 'max', 'face_turned'),
    measure('pitch_deg', Math.abs(q.pose.pitch), t.maxPitchDeg, 'max', 'face_turned'),
    measure('roll_deg', Math.abs(q.pose.roll), t.maxRollDeg, 'max', 'face_turned'),
    measure('eyes_open', Math.max(...q.eyesOpen), t.minEyesOpen, 'min', 'eyes_closed'),
    measure('sharpness', p.sharpness, t.minSharpness, 'min', 'blurry'),
    measure('brightness_low', p.brightness, t.minBrightness, 'min', 'too_dark'),
    measure('dark_fraction', p.darkFraction, t.maxDarkFraction, 'max', 'too_dark'),
    measure('brightness_high', p.brightness, t.maxBrightness, 'max', 'too_bright'),
    measure('bright_fraction', p.brightFraction, t.maxBrightFraction, 'max', 'too_bright'),
    measure('light_imbalance', p.imbalance, t.maxLightImbalance, 'max', 'uneven_light'),
  ];
  const codes = [...new Set(measures.filter((m) => !m.ok).map((m) => m.code))];
  return { grade, ok: codes.length === 0, codes, measures };
}

export function noFaceQuality(grade: QualityResult['grade']): QualityResult {
  return { grade, ok: false, codes: ['no_face'], measures: [] };
}

// Every setting of Facegate, with its default and its meaning, in one zod schema. The loader
// (config/load.ts) is the only code that reads process.env; everything else receives the parsed,
// frozen result. Imports only zod.
import { z } from 'zod';

const qualityGrade = z.object({
  minInterEyePx: z.number().positive().describe('Smallest inter-eye distance in source pixels (ISO/IEC 29794-5 IED); below it: face_too_small'),
  maxOutsideFraction: z.number().min(0).max(1).describe('Largest fraction of the face box allowed outside the picture; above it: face_cut_off'),
  minSharpness: z.number().min(0).describe('Smallest variance of the Laplacian on the aligned 112x112 gray face; below it: blurry'),
  minBrightness: z.number().min(0).max(255).describe('Smallest mean luminance of the aligned face; below it: too_dark'),
  maxBrightness: z.number().min(0).max(255).describe('Largest mean luminance of the aligned face; above it: too_bright'),
  maxDarkFraction: z.number().min(0).max(1).describe('Largest fraction of face pixels with luminance < 30 (under-exposure); above it: too_dark'),
  maxBrightFraction: z.number().min(0).max(1).describe('Largest fraction of face pixels with luminance > 245 (over-exposure); above it: too_bright'),
  maxLightImbalance: z.number().min(0).max(1).describe('Largest |left-right|/(left+right) luminance of the face halves (illumination uniformity); above it: uneven_light'),
  maxYawDeg: z.number().positive().describe('Largest |yaw| in degrees; above it: face_turned'),
  maxPitchDeg: z.number().positive().describe('Largest |pitch| in degrees; above it: face_turned'),
  maxRollDeg: z.number().positive().describe('Largest |roll| in degrees; above it: face_turned'),
  minEyesOpen: z.number().min(0).max(1).describe('Smallest eye-open probability of the more open eye; below it: eyes_closed'),
  maxSecondFaceRatio: z.number().min(0).max(1).describe('Largest width of the second face relative to the dominant one; above it: multiple_faces'),
});

export const configSchema = z.object({
  env: z.enum(['development', 'test', 'production']).default('development').describe('NODE_ENV: development, test or production'),
  biometrics: z.object({
    modelsDir: z.string().describe('Folder holding the ONNX files and manifest.json'),
    workers: z.number().int().min(1).max(64).describe('Worker threads for face analysis'),
    image: z.object({
      maxBytes: z.number().int().positive().default(8 * 1024 * 1024).describe('Largest accepted image in bytes; above it: image_too_large'),
      maxPixels: z.number().int().positive().default(40_000_000).describe('Largest accepted width x height, read from the header before decoding; above it: image_too_large'),
      minSide: z.number().int().positive().default(32).describe('Smallest accepted width or height in pixels; below it: image_too_small'),
      workingMaxSide: z.number().int().positive().default(1280).describe('Decoded images are shrunk on load so the long side is at most this; faces stay well above the embedding resolution'),
    }).prefault({}),
    detector: z.object({
      scoreThreshold: z.number().min(0).max(1).default(0.8).describe('Face score below which a detection is dropped (real faces in the shared data score >= 0.98; the false detections seen scored 0.3-0.73)'),
      nmsIou: z.number().min(0).max(1).default(0.4).describe('IoU above which overlapping detections are merged (non-maximum suppression)'),
      padFraction: z.number().min(0).max(1).default(0.35).describe('When no face is found, or the largest touches the border, the picture is padded by this fraction of its size on each side and searched again (tight crops and ID photos)'),
    }).prefault({}),
    liveness: z.object({
      threshold: z.number().min(0).max(1).default(0.5).describe('Smallest passive liveness score (softmax class "live") for one frame to count as live'),
    }).prefault({}),
    match: z.object({
      substantial: z.number().min(-1).max(1).describe('Cosine similarity threshold at LoA substantial (target FMR <= 1e-4)'),
      high: z.number().min(-1).max(1).describe('Cosine similarity threshold at LoA high (target FMR <= 1e-5)'),
      calibration: z.string().describe('Where the thresholds came from: data, pair counts, method'),
    }),
    quality: z.object({
      capture: qualityGrade.describe('Thresholds for a sign-in capture'),
      enrollment: qualityGrade.describe('Stricter thresholds for a registry (reference) image'),
    }),
  }),
});

export type Config = z.infer<typeof configSchema>;
export type QualityGrade = z.infer<typeof qualityGrade>;
export type BiometricsConfig = Config['biometrics'];

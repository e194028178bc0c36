// The face pipeline for one image: decode -> detect -> landmarks -> align -> embedding, passive
// liveness, eye state, pose -> quality. Runs the same in a worker, the CLI and a test; must not
// import koa, knex or anything above biometrics/.
import { performance } from 'node:perf_hooks';
import type { BiometricsConfig } from '../../config/schema.ts';
import { alignFace } from './align.ts';
import { decodeImage } from './decode.ts';
import { detectFaces } from './detector.ts';
import type { Box, Point } from './geometry.ts';
import { embedFace, eyesOpen, headPose, livenessScore, rollFromEyes, type Pose } from './heads.ts';
import { detectLandmarks, eyeBoxes, eyeCentres, fivePoints } from './landmarks.ts';
import { loadModels, type ModelName, type ModelSet } from './models.ts';
import { assessQuality, measurePhotometry, noFaceQuality, type QualityResult } from './quality.ts';
import { blockMeans } from './pixels.ts';
import { SCENE_GRID } from './signatures.ts';

export type Stage = 'decode' | 'detect' | 'landmarks' | 'align' | 'eyes' | 'pose' | 'embed' | 'scene' | 'liveness' | 'quality';

export interface AnalyzeOptions {
  /** Quality thresholds to apply (default: capture; document: the portrait printed on an ID document). */
  grade?: 'capture' | 'enrollment' | 'document';
  /** Compute the embedding (default true; false for a cheap preview). */
  embed?: boolean;
  /** Compute passive liveness (default true; false for a cheap preview). */
  liveness?: boolean;
}

export interface FaceSummary { box: Box; score: number }

export interface FaceAnalysis {
  box: Box;
  score: number;
  /** 68 landmarks in the picture's coordinates (as sent, after EXIF rotation). */
  landmarks: Point[];
  pose: Pose;
  eyesOpen: number[];
  /** L2-normalised 512-d embedding (absent when not asked for). */
  embedding?: number[];
  /** Passive liveness score, 0..1 (absent when not asked for). */
  liveness?: number;
  /** The scene signature for the presence checks (with the embedding): the whole picture as a SCENE_GRID x SCENE_GRID grid of RGB block means. */
  scene?: { grid: number[] };
}

export { SCENE_GRID };

export interface ImageAnalysis {
  image: { format: string; width: number; height: number };
  /** Every face found, largest first, in the picture's coordinates. */
  faces: FaceSummary[];
  /** Full analysis of the dominant (largest) face, if any. */
  face?: FaceAnalysis;
  quality: QualityResult;
  models: Partial<Record<ModelName, string>>;
  timings: Partial<Record<Stage, number>> & { total: number };
}

export interface FaceEngine {
  analyze(bytes: Uint8Array, options?: AnalyzeOptions): Promise<ImageAnalysis>;
  readonly models: ModelSet;
}

const scaleBox = (b: Box, k: number): Box => ({ x1: b.x1 * k, y1: b.y1 * k, x2: b.x2 * k, y2: b.y2 * k });
const scalePoint = (p: Point, k: number): Point => ({ x: p.x * k, y: p.y * k });

export function createFaceEngine(config: BiometricsConfig, models: ModelSet): FaceEngine {
  const { sessions, ids } = models;
  // The colour plane order each model was trained on (models/manifest.json, pinned by tests).
  const channels = (name: ModelName) => models.manifest.models[name].channels ?? 'rgb';

  async function analyze(bytes: Uint8Array, options: AnalyzeOptions = {}): Promise<ImageAnalysis> {
    const grade = options.grade ?? 'capture';
    const timings: ImageAnalysis['timings'] = { total: 0 };
    const start = performance.now();
    let mark = start;
    const lap = (stage: Stage) => {
      const now = performance.now();
      timings[stage] = (timings[stage] ?? 0) + (now - mark);
      mark = now;
    };

    const img = await decodeImage(bytes, config.image);
    lap('decode');
    const k = img.sourceScale;
    const detections = await detectFaces(sessions.detect, img, { ...config.detector, channels: channels('detect') });
    lap('detect');
    const result: ImageAnalysis = {
      image: { format: img.format, width: img.sourceWidth, height: img.sourceHeight },
      faces: detections.map((d) => ({ box: scaleBox(d.box, k), score: d.score })),
      quality: noFaceQuality(grade),
      models: { detect: ids.detect },
      timings,
    };
    if (detections.length === 0) {
      timings.total = performance.now() - start;
      return result;
    }

    const { box, score } = detections[0];
    const landmarks = await detectLandmarks(sessions.landmark, img, box);
    lap('landmarks');
    const { face: aligned } = alignFace(img, fivePoints(landmarks));
    lap('align');
    const eyes = await eyesOpen(sessions.eye, img, eyeBoxes(landmarks));
    lap('eyes');
    const eyeCentrePoints = eyeCentres(landmarks);
    // In-plane roll from the eye line: the pose model saturates near 30 degrees of roll.
    const pose = { ...(await headPose(sessions.pose, img, box, channels('pose'))), roll: rollFromEyes(...eyeCentrePoints) };
    lap('pose');
    const face: FaceAnalysis = { box: scaleBox(box, k), score, landmarks: landmarks.map((p) => scalePoint(p, k)), pose, eyesOpen: eyes };
    Object.assign(result.models, { landmark: ids.landmark, eye: ids.eye, pose: ids.pose });
    if (options.embed !== false) {
      face.embedding = Array.from(await embedFace(sessions.feature, aligned, channels('feature')));
      result.models.feature = ids.feature;
      lap('embed');
      face.scene = { grid: blockMeans(img, SCENE_GRID, SCENE_GRID) };
      lap('scene');
    }
    if (options.liveness !== false) {
      face.liveness = await livenessScore(sessions.liveness, img, box, channels('liveness'));
      result.models.liveness = ids.liveness;
      lap('liveness');
    }
    result.quality = assessQuality({
      faces: detections,
      box,
      eyes: eyeCentrePoints,
      sourceScale: k,
      width: img.width,
      height: img.height,
      photometry: measurePhotometry(aligned),
      pose,
      eyesOpen: eyes,
    }, config.quality[grade], grade);
    lap('quality');
    result.face = face;
    timings.total = performance.now() - start;
    return result;
  }

  return { analyze, models };
}

/** Loads the models (verifying their checksums) and builds an engine on this thread. */
export async function openFaceEngine(config: BiometricsConfig): Promise<FaceEngine> {
  return createFaceEngine(config, await loadModels(config.modelsDir));
}

// Alignment: the least-squares similarity transform from the five landmarks onto the ArcFace
// 112x112 reference, and the aligned face sampled through it.
import { estimateSimilarity, invertAffine, type Affine, type Point } from './geometry.ts';
import { resample, type RgbImage } from './pixels.ts';

export const ALIGNED_SIZE = 112;

/** ArcFace's reference positions of the five points in a 112x112 crop (insightface). */
export const arcfaceReference: readonly Point[] = [
  { x: 38.2946, y: 51.6963 },
  { x: 73.5318, y: 51.5014 },
  { x: 56.0252, y: 71.7366 },
  { x: 41.5493, y: 92.3655 },
  { x: 70.7299, y: 92.2041 },
];

/** The transform taking picture coordinates to aligned-crop coordinates. */
export function alignmentTransform(five: readonly Point[]): Affine {
  return estimateSimilarity(five, arcfaceReference);
}

export function alignFace(img: RgbImage, five: readonly Point[]): { face: RgbImage; transform: Affine } {
  const transform = alignmentTransform(five);
  const face = resample(img, ALIGNED_SIZE, ALIGNED_SIZE, invertAffine(transform));
  return { face, transform };
}

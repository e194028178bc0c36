// Image intake: checks the container and its size from the header before decoding anything
// (decompression bombs), then decodes with sharp into 8-bit sRGB, honouring EXIF orientation and
// flattening alpha. Accepts JPEG, PNG and WebP stills only.
import sharp, { type Metadata } from 'sharp';
import { AppError } from '../shared/errors.ts';
import type { RgbImage } from './pixels.ts';

export interface ImageLimits { maxBytes: number; maxPixels: number; minSide: number; workingMaxSide: number }

export interface DecodedImage extends RgbImage {
  format: 'jpeg' | 'png' | 'webp';
  /** Size of the picture as sent (after EXIF rotation), before any shrink-on-load. */
  sourceWidth: number;
  sourceHeight: number;
  /** Source pixels per working pixel (1 unless the picture was shrunk on load). */
  sourceScale: number;
}

const accepted = new Set(['jpeg', 'png', 'webp']);

// libvips reports a truncated JPEG or PNG as a warning by default; treat it as an error.
const sharpOptions = { failOn: 'truncated', limitInputPixels: false } as const;

export async function readHeader(bytes: Uint8Array, limits: ImageLimits) {
  if (!(bytes instanceof Uint8Array)) throw new AppError('invalid_input', 'image must be bytes');
  if (bytes.length === 0) throw new AppError('corrupt_image', 'the image is empty');
  if (bytes.length > limits.maxBytes) {
    throw new AppError('image_too_large', `the image has ${bytes.length} bytes; the limit is ${limits.maxBytes}`);
  }
  let meta: Metadata;
  try {
    meta = await sharp(bytes, sharpOptions).metadata();
  } catch {
    throw new AppError('unsupported_image', 'the file is not an image in a supported format');
  }
  if (!meta.format || !accepted.has(meta.format)) {
    throw new AppError('unsupported_image', `format ${meta.format ?? 'unknown'} is not accepted; send JPEG, PNG or WebP`);
  }
  if ((meta.pages ?? 1) > 1) throw new AppError('unsupported_image', 'animated images are not accepted');
  const { width = 0, height = 0 } = meta;
  if (width * height > limits.maxPixels) {
    throw new AppError('image_too_large', `the image has ${width}x${height} pixels; the limit is ${limits.maxPixels}`);
  }
  if (width < limits.minSide || height < limits.minSide) {
    throw new AppError('image_too_small', `the image is ${width}x${height}; at least ${limits.minSide} pixels a side are needed`);
  }
  const rotated = (meta.orientation ?? 1) >= 5;
  return {
    format: meta.format as DecodedImage['format'],
    width: rotated ? height : width,
    height: rotated ? width : height,
  };
}

/** Decodes bytes into an RGB image no larger than `workingMaxSide` on its long side. */
export async function decodeImage(bytes: Uint8Array, limits: ImageLimits): Promise<DecodedImage> {
  const header = await readHeader(bytes, limits);
  const longSide = Math.max(header.width, header.height);
  // libvips' own pixel limit stays on as a second guard behind the header check above.
  let pipeline = sharp(bytes, { ...sharpOptions, limitInputPixels: limits.maxPixels }).rotate();
  if (longSide > limits.workingMaxSide) {
    pipeline = pipeline.resize({ width: limits.workingMaxSide, height: limits.workingMaxSide, fit: 'inside', kernel: 'linear' });
  }
  try {
    const { data, info } = await pipeline
      .flatten({ background: { r: 255, g: 255, b: 255 } })
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`unexpected ${info.channels} channels`);
    return {
      data: new Uint8Array(data.buffer, data.byteOffset, data.length),
      width: info.width,
      height: info.height,
      format: header.format,
      sourceWidth: header.width,
      sourceHeight: header.height,
      sourceScale: header.width / info.width,
    };
  } catch (err) {
    throw new AppError('corrupt_image', 'the image could not be decoded; it may be truncated or damaged', {
      cause: err instanceof Error ? err.message : String(err),
    });
  }
}

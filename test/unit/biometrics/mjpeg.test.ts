import { describe, expect, it } from '@jest/globals';
import sharp from 'sharp';
import { joinMjpeg, splitMjpeg } from '../../../src/biometrics/mjpeg.ts';

const frame = (shade: number) => sharp({ create: { width: 32, height: 24, channels: 3, background: { r: shade, g: 0, b: 255 - shade } } })
  .jpeg({ quality: 80 }).withMetadata({ exif: { IFD0: { Copyright: 'facegate test' } } }).toBuffer();

describe('mjpeg', () => {
  it('splits a joined stream back into the same frames', async () => {
    const frames = await Promise.all([10, 120, 240].map(frame));
    const back = splitMjpeg(joinMjpeg(frames));
    expect(back).toHaveLength(3);
    back.forEach((f, i) => expect(Buffer.from(f).equals(frames[i])).toBe(true));
  });

  it('finds no frame in bytes that are not JPEG', () => {
    expect(splitMjpeg(new TextEncoder().encode('not a video'))).toEqual([]);
  });
});

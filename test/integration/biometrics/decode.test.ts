// Bad input to the engine: every case gets its stable code and nothing crashes.
import { describe, expect, it } from '@jest/globals';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { config, getEngine } from '../../helpers/engine.ts';

const expectCode = async (bytes: Uint8Array, code: string) => {
  const engine = await getEngine();
  await expect(engine.analyze(bytes)).rejects.toMatchObject({ code });
};

function crc32(buf: Buffer): number {
  let c = ~0;
  for (const b of buf) { c ^= b; for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1)); }
  return ~c >>> 0;
}
function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}
/** A real 20000x20000 1-bit PNG: ~50 MB of pixels that deflate to a few kilobytes (a decompression bomb). */
function pngBomb(side = 20000): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0); ihdr.writeUInt32BE(side, 4);
  ihdr[8] = 1; ihdr[9] = 0; // 1-bit grayscale
  const raw = Buffer.alloc((1 + Math.ceil(side / 8)) * side); // filter byte + packed row, all zero
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

describe('image intake', () => {
  it('refuses an empty file as corrupt_image', () => expectCode(new Uint8Array(0), 'corrupt_image'));

  it('refuses a text file as unsupported_image', () => expectCode(new TextEncoder().encode('hello, I am not a picture\n'), 'unsupported_image'));

  it('refuses a truncated JPEG as corrupt_image', async () => {
    const jpeg = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#884422' } }).jpeg().toBuffer();
    await expectCode(jpeg.subarray(0, Math.floor(jpeg.length * 0.6)), 'corrupt_image');
  });

  it('refuses a 20000x20000 PNG bomb from its header as image_too_large', async () => {
    const bomb = pngBomb();
    expect(bomb.length).toBeLessThan(config.biometrics.image.maxBytes);
    await expectCode(bomb, 'image_too_large');
  });

  it('refuses more bytes than the limit as image_too_large', () => expectCode(new Uint8Array(config.biometrics.image.maxBytes + 1), 'image_too_large'));

  it('refuses an animated GIF as unsupported_image', async () => {
    const [red, blue] = await Promise.all(['#f00', '#00f'].map((background) =>
      sharp({ create: { width: 64, height: 64, channels: 3, background } }).png().toBuffer()));
    const gif = await sharp([red, blue], { join: { animated: true } }).gif({ loop: 0, delay: [100, 100] }).toBuffer();
    expect((await sharp(gif).metadata()).pages).toBe(2);
    await expectCode(gif, 'unsupported_image');
  });

  it('refuses a 1x1 image as image_too_small', async () => {
    await expectCode(await sharp({ create: { width: 1, height: 1, channels: 3, background: '#fff' } }).png().toBuffer(), 'image_too_small');
  });

  it('accepts grayscale, CMYK, 16-bit and alpha inputs and reports no face on a blank one', async () => {
    const engine = await getEngine();
    const blank = sharp({ create: { width: 120, height: 90, channels: 4, background: { r: 90, g: 120, b: 150, alpha: 0.5 } } });
    const inputs = [
      await blank.clone().png().toBuffer(),
      await blank.clone().png({ bitdepth: 16 } as never).toBuffer(),
      await blank.clone().toColourspace('b-w').jpeg().toBuffer(),
      await blank.clone().toColourspace('cmyk').jpeg().toBuffer(),
      await blank.clone().webp().toBuffer(),
    ];
    for (const bytes of inputs) {
      const a = await engine.analyze(bytes);
      expect(a.faces).toEqual([]);
      expect(a.quality.codes).toEqual(['no_face']);
    }
  });

  it('refuses bytes that are not a Uint8Array as invalid_input', async () => {
    const engine = await getEngine();
    await expect(engine.analyze('a string' as unknown as Uint8Array)).rejects.toMatchObject({ code: 'invalid_input' });
  });
});

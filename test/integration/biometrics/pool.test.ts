// The worker pool: same answers as the in-thread engine, errors keep their codes, the event loop
// stays free while workers compute.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import sharp from 'sharp';
import { createEnginePool, type FaceAnalyzer } from '../../../src/biometrics/pool.ts';
import { describeWithData, face } from '../../helpers/data.ts';
import { config, getEngine } from '../../helpers/engine.ts';

describe('engine pool', () => {
  let pool: FaceAnalyzer;
  let portrait: Buffer;
  beforeAll(async () => {
    pool = await createEnginePool(config.biometrics, 2);
    // A synthetic picture keeps this test independent of the shared data.
    portrait = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#a0b0c0' } }).jpeg().toBuffer();
  });
  afterAll(() => pool.close());

  describeWithData('on a real photo', () => {
    it('answers exactly like the in-thread engine', async () => {
      const photo = face('obama', 'obama_5.jpg');
      const [a, b] = [await pool.analyze(photo), await (await getEngine()).analyze(photo)];
      expect(a.faces).toHaveLength(1);
      expect(a.faces).toEqual(b.faces);
      expect(a.face!.embedding).toEqual(b.face!.embedding);
      expect(a.quality).toEqual(b.quality);
    });
  });

  it('answers a picture without a face with no_face', async () => {
    expect((await pool.analyze(portrait)).quality.codes).toEqual(['no_face']);
  });

  it('keeps the error code across the thread boundary', async () => {
    await expect(pool.analyze(new TextEncoder().encode('nope'))).rejects.toMatchObject({ code: 'unsupported_image', status: 415 });
  });

  it('does not block the event loop while analysing', async () => {
    let ticks = 0;
    const timer = setInterval(() => { ticks++; }, 1);
    await Promise.all(Array.from({ length: 8 }, () => pool.analyze(portrait)));
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(2);
  });

  it('refuses to start on altered models', async () => {
    await expect(createEnginePool({ ...config.biometrics, modelsDir: '/nonexistent' }, 1)).rejects.toMatchObject({ code: 'model_missing' });
  });
});

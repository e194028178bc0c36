// Verification on the shared photos: every genuine pair above and every impostor pair below the
// substantial threshold; group photos report their faces.
import { beforeAll, expect, it } from '@jest/globals';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { cosineSimilarity } from '../../../src/biometrics/matcher.ts';
import { dataDir, describeWithData, face } from '../../helpers/data.ts';
import { config, getEngine } from '../../helpers/engine.ts';

describeWithData('accuracy on the shared faces', () => {
  const images: { id: string; file: string; embedding: number[] }[] = [];
  beforeAll(async () => {
    const engine = await getEngine();
    const root = join(dataDir, 'faces');
    for (const id of readdirSync(root).filter((d) => !d.startsWith('_'))) {
      for (const file of readdirSync(join(root, id))) {
        const a = await engine.analyze(face(id, file));
        expect(a.face?.embedding).toHaveLength(512);
        images.push({ id, file, embedding: a.face!.embedding! });
      }
    }
  });

  it('embeddings are L2-normalised', () => {
    for (const { embedding } of images) expect(Math.hypot(...embedding)).toBeCloseTo(1, 4);
  });

  it('puts every genuine pair at or above and every impostor pair below the substantial threshold', () => {
    const threshold = config.biometrics.match.substantial;
    const wrong: string[] = [];
    let genuine = 0, impostor = 0;
    for (let i = 0; i < images.length; i++) {
      for (let j = i + 1; j < images.length; j++) {
        const same = images[i].id === images[j].id;
        const s = cosineSimilarity(images[i].embedding, images[j].embedding);
        if (same) genuine++; else impostor++;
        if (same !== s >= threshold) wrong.push(`${images[i].file} ~ ${images[j].file}: ${s.toFixed(3)}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(genuine).toBeGreaterThan(50);
    expect(impostor).toBeGreaterThan(150);
  });

  it('keeps high stricter than substantial', () => {
    expect(config.biometrics.match.high).toBeGreaterThan(config.biometrics.match.substantial);
  });
});

describeWithData('group photos', () => {
  it.each([
    ['kit_harington_and_rose_leslie.jpg', 2, 2],
    ['obama_and_biden_2.jpg', 2, 2],
    ['obama_and_biden_1.jpg', 3, 6], // two people in front, more faces behind
  ])('%s reports its faces', async (file, min, max) => {
    const a = await (await getEngine()).analyze(face('_group', file));
    expect(a.faces.length).toBeGreaterThanOrEqual(min);
    expect(a.faces.length).toBeLessThanOrEqual(max);
    expect(a.quality.codes).toContain('multiple_faces');
  });

  it('orders faces largest first', async () => {
    const a = await (await getEngine()).analyze(face('_group', 'obama_and_biden_1.jpg'));
    const widths = a.faces.map((f) => f.box.x2 - f.box.x1);
    expect(widths).toEqual([...widths].sort((p, q) => q - p));
  });
});

describeWithData('orientation and alpha', () => {
  it('reads the RGBA PNG like its JPEG twin', async () => {
    const engine = await getEngine();
    const [jpeg, rgba] = [await engine.analyze(face('obama', 'obama_2.jpg')), await engine.analyze(face('obama', 'obama_2_rgba32.png'))];
    expect(cosineSimilarity(jpeg.face!.embedding!, rgba.face!.embedding!)).toBeGreaterThan(0.9);
  });

  it('honours EXIF orientation', async () => {
    const sharp = (await import('sharp')).default;
    const engine = await getEngine();
    // Pixels stored rotated, with EXIF orientation 6 (display rotated 90 degrees clockwise).
    const stored = await sharp(face('obama', 'obama_5.jpg')).rotate(-90).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    const a = await engine.analyze(stored);
    expect(a.image).toMatchObject({ width: 320, height: 240 });
    expect(a.quality.codes).toEqual([]);
  });
});

describeWithData('a face that fills the picture', () => {
  it.each([['obama', 'obama_1.jpg'], ['rose_leslie', 'rose_leslie_2.jpg'], ['biden', 'biden_2.jpg']])('is found and matched in a crop tighter than its box (%s)', async (id, file) => {
    const sharp = (await import('sharp')).default;
    const engine = await getEngine();
    const photo = face(id, file);
    const full = await engine.analyze(photo);
    const { x1, y1, x2, y2 } = full.face!.box;
    const inset = 0.1; // cut 10% of the box away on every side: chin and hairline leave the picture
    const w = x2 - x1, h = y2 - y1;
    const tight = await sharp(photo).extract({
      left: Math.round(x1 + w * inset), top: Math.round(y1 + h * inset), width: Math.round(w * (1 - 2 * inset)), height: Math.round(h * (1 - 2 * inset)),
    }).jpeg({ quality: 92 }).toBuffer();
    const a = await engine.analyze(tight);
    expect(a.faces).toHaveLength(1);
    expect(cosineSimilarity(a.face!.embedding!, full.face!.embedding!)).toBeGreaterThanOrEqual(config.biometrics.match.high);
  });
});

// Every quality code, produced by a real photo or one derived from it.
import { beforeAll, expect, it } from '@jest/globals';
import sharp from 'sharp';
import type { ImageAnalysis } from '../../../src/biometrics/engine.ts';
import { describeWithData, face } from '../../helpers/data.ts';
import { blur, closeEyes, cropFromLeft, darken, downscale, overExpose, rotate, shadeLeft } from '../../helpers/derive.ts';
import { getEngine } from '../../helpers/engine.ts';

const analyze = async (bytes: Uint8Array, grade: 'capture' | 'enrollment' = 'capture') => (await getEngine()).analyze(bytes, { grade });

describeWithData('quality codes', () => {
  let obama: Buffer;
  let base: ImageAnalysis;
  beforeAll(async () => {
    obama = face('obama', 'obama_1.jpg');
    base = await analyze(obama, 'enrollment');
  });

  it('passes the clean original at enrollment grade', () => {
    expect(base.quality.codes).toEqual([]);
    expect(base.faces).toHaveLength(1);
  });

  it('no_face: a picture without anyone in it', async () => {
    const empty = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#7a8b6c' } }).jpeg().toBuffer();
    expect((await analyze(empty)).quality.codes).toEqual(['no_face']);
  });

  it('no_face: the portrait turned on its side', async () => {
    expect((await analyze(await rotate(obama, 90))).quality.codes).toEqual(['no_face']);
  });

  it('face_too_close: a close-up whose face fills 85 % of the picture height, not one at half', async () => {
    const kit = face('kit_harington', 'kit_harington_1.jpg');
    const { face: f, image } = await analyze(kit);
    const closeUp = async (fraction: number) => {
      const h = (f!.box.y2 - f!.box.y1) / fraction;
      const w = Math.min(image.width, Math.round(h * 4 / 3));
      const left = Math.max(0, Math.round((f!.box.x1 + f!.box.x2) / 2 - w / 2));
      const top = Math.max(0, Math.round((f!.box.y1 + f!.box.y2) / 2 - h / 2));
      return sharp(kit).extract({ left, top, width: w, height: Math.round(h) }).resize(640).jpeg().toBuffer();
    };
    expect((await analyze(await closeUp(0.85))).quality.codes).toContain('face_too_close');
    expect((await analyze(await closeUp(0.5))).quality.codes).not.toContain('face_too_close');
  });

  it('multiple_faces: two people side by side', async () => {
    expect((await analyze(face('_group', 'obama_and_biden_2.jpg'))).quality.codes).toContain('multiple_faces');
  });

  it('face_too_small: the 240p letterbox frame, at enrollment grade', async () => {
    expect((await analyze(face('obama', 'obama_1_letterbox_240p.jpg'), 'enrollment')).quality.codes).toContain('face_too_small');
  });

  it('face_too_small: the portrait downscaled six times, even at capture grade', async () => {
    expect((await analyze(await downscale(obama, 6))).quality.codes).toContain('face_too_small');
  });

  it('face_cut_off: half the face cut away by the picture edge', async () => {
    const { x1, x2 } = base.face!.box;
    expect((await analyze(await cropFromLeft(obama, x1 + (x2 - x1) * 0.5))).quality.codes).toContain('face_cut_off');
  });

  it('face_cut_off: the shared partial-face photos at enrollment grade', async () => {
    for (const file of ['obama_partial_face_1.jpg', 'obama_partial_face_2.jpg']) {
      expect((await analyze(face('obama', file), 'enrollment')).quality.codes).toContain('face_cut_off');
    }
  });

  it('blurry: a strong Gaussian blur', async () => {
    expect((await analyze(await blur(obama, 8))).quality.codes).toEqual(['blurry']);
  });

  it('too_dark: the photo at a quarter of its brightness', async () => {
    expect((await analyze(await darken(obama))).quality.codes).toContain('too_dark');
  });

  it('too_bright: the photo over-exposed', async () => {
    expect((await analyze(await overExpose(obama))).quality.codes).toContain('too_bright');
  });

  it('uneven_light: one side of the face in deep shadow', async () => {
    const { x1, x2 } = base.face!.box;
    expect((await analyze(await shadeLeft(obama, (x1 + x2) / 2, 0.75))).quality.codes).toEqual(['uneven_light']);
  });

  it('face_turned: the head tilted 40 degrees', async () => {
    expect((await analyze(await rotate(obama, 40))).quality.codes).toEqual(['face_turned']);
  });

  it.each([['obama', 'obama_1.jpg'], ['rose_leslie', 'rose_leslie_2.jpg']])('eyes_closed: eyelids painted over both eyes of %s', async (id, file) => {
    const photo = face(id, file);
    const open = await analyze(photo);
    expect(open.quality.codes).toEqual([]);
    expect((await analyze(await closeEyes(photo, open.face!.landmarks))).quality.codes).toEqual(['eyes_closed']);
  });

  it('keeps mild changes acceptable at capture grade (no over-eager refusals)', async () => {
    for (const bytes of [await blur(obama, 2), await rotate(obama, 15), await downscale(obama, 2)]) {
      expect((await analyze(bytes)).quality.codes).toEqual([]);
    }
  });
});

import { describe, expect, it } from '@jest/globals';
import { applyAffine, estimateSimilarity, invertAffine, iou, nms, outsideFraction } from '../../../src/biometrics/geometry.ts';
import { alignmentTransform, arcfaceReference } from '../../../src/biometrics/align.ts';

describe('estimateSimilarity', () => {
  it('recovers a known rotation, scale and translation exactly', () => {
    const angle = 0.3, k = 2.5, tx = 40, ty = -12;
    const truth = [k * Math.cos(angle), -k * Math.sin(angle), tx, k * Math.sin(angle), k * Math.cos(angle), ty] as const;
    const src = [{ x: 0, y: 0 }, { x: 10, y: 3 }, { x: -4, y: 8 }, { x: 7, y: -6 }];
    const m = estimateSimilarity(src, src.map((p) => applyAffine(truth, p)));
    m.forEach((v, i) => expect(v).toBeCloseTo(truth[i], 9));
    expect(Math.atan2(m[3], m[0])).toBeCloseTo(angle, 9);
  });

  it('never reflects: mirrored points give the best rotation, not a mirror', () => {
    const src = [{ x: 0, y: 0 }, { x: 1, y: 0 }, { x: 0, y: 1 }];
    const m = estimateSimilarity(src, src.map((p) => ({ x: -p.x, y: p.y })));
    expect(m[0]).toBeCloseTo(m[4], 12); // a === e
    expect(m[1]).toBeCloseTo(-m[3], 12); // b === -d
  });

  it('rejects coincident source points', () => {
    expect(() => estimateSimilarity([{ x: 1, y: 1 }, { x: 1, y: 1 }], [{ x: 0, y: 0 }, { x: 1, y: 1 }])).toThrow(RangeError);
  });

  it('inverts to the identity', () => {
    const m = [1.2, -0.4, 5, 0.4, 1.2, -3] as const;
    const p = applyAffine(invertAffine(m), applyAffine(m, { x: 13, y: -7 }));
    expect(p.x).toBeCloseTo(13, 10);
    expect(p.y).toBeCloseTo(-7, 10);
  });
});

describe('alignment', () => {
  it('maps five points of a scaled, rotated, shifted face onto the ArcFace reference', () => {
    const face = arcfaceReference.map((p) => ({ x: 300 + 3 * (p.x * Math.cos(0.2) - p.y * Math.sin(0.2)), y: 80 + 3 * (p.x * Math.sin(0.2) + p.y * Math.cos(0.2)) }));
    const m = alignmentTransform(face);
    face.forEach((p, i) => {
      const q = applyAffine(m, p);
      expect(q.x).toBeCloseTo(arcfaceReference[i].x, 6);
      expect(q.y).toBeCloseTo(arcfaceReference[i].y, 6);
    });
  });
});

describe('iou and nms', () => {
  const a = { x1: 0, y1: 0, x2: 10, y2: 10 };
  it('computes intersection over union', () => {
    expect(iou(a, a)).toBe(1);
    expect(iou(a, { x1: 5, y1: 0, x2: 15, y2: 10 })).toBeCloseTo(50 / 150, 12);
    expect(iou(a, { x1: 20, y1: 20, x2: 30, y2: 30 })).toBe(0);
  });

  it('keeps the best of overlapping boxes and every separate one', () => {
    const kept = nms([
      { box: a, score: 0.8 },
      { box: { x1: 1, y1: 1, x2: 11, y2: 11 }, score: 0.95 },
      { box: { x1: 50, y1: 50, x2: 60, y2: 60 }, score: 0.75 },
    ], 0.4);
    expect(kept.map((d) => d.score)).toEqual([0.95, 0.75]);
  });

  it('keeps boxes whose overlap is at or below the threshold', () => {
    const kept = nms([{ box: a, score: 0.9 }, { box: { x1: 5, y1: 0, x2: 15, y2: 10 }, score: 0.8 }], 0.4);
    expect(kept).toHaveLength(2);
  });
});

describe('outsideFraction', () => {
  it('is the share of the box beyond the picture', () => {
    expect(outsideFraction({ x1: -5, y1: 0, x2: 5, y2: 10 }, 100, 100)).toBeCloseTo(0.5, 12);
    expect(outsideFraction({ x1: 10, y1: 10, x2: 20, y2: 20 }, 100, 100)).toBe(0);
  });
});

import { describe, expect, it } from '@jest/globals';
import { calibrateLevels, equalErrorRate, evaluatePairs, normalQuantile } from '../../../src/biometrics/evaluation.ts';
import { cosineSimilarity, matchEmbeddings } from '../../../src/biometrics/matcher.ts';

const pairs = [
  { genuine: true, score: 0.9 }, { genuine: true, score: 0.7 }, { genuine: true, score: 0.3 },
  { genuine: false, score: 0.1 }, { genuine: false, score: 0.2 }, { genuine: false, score: 0.45 },
];

describe('evaluatePairs', () => {
  it('counts accepts at the threshold into TAR, FAR and accuracy', () => {
    const s = evaluatePairs(pairs, 0.4);
    expect(s.tar).toBeCloseTo(2 / 3, 12);
    expect(s.far).toBeCloseTo(1 / 3, 12);
    expect(s.accuracy).toBeCloseTo(4 / 6, 12);
    expect(s.lowestGenuine).toBe(0.3);
    expect(s.tarAtZeroFar).toBeCloseTo(2 / 3, 12); // 0.3 is below the 0.45 impostor
    expect(s.highestImpostor).toBe(0.45);
  });

  it('treats a score equal to the threshold as a match', () => {
    expect(evaluatePairs([{ genuine: true, score: 0.5 }, { genuine: false, score: 0.1 }], 0.5).tar).toBe(1);
  });
});

describe('equalErrorRate', () => {
  it('is zero with the threshold mid-gap for separated scores', () => {
    const r = equalErrorRate([0.6, 0.8], [0.1, 0.2]);
    expect(r.eer).toBe(0);
    expect(r.threshold).toBeCloseTo(0.4, 12);
  });

  it('is where false rejects meet false accepts', () => {
    expect(equalErrorRate([0.3, 0.7, 0.9], [0.1, 0.2, 0.45]).eer).toBeCloseTo(1 / 3, 12);
  });
});

describe('normalQuantile', () => {
  it('matches tabulated values', () => {
    expect(normalQuantile(0.5)).toBeCloseTo(0, 9);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 5);
    expect(normalQuantile(1e-4)).toBeCloseTo(-3.719016, 5);
    expect(normalQuantile(1e-5)).toBeCloseTo(-4.264891, 5);
  });
});

describe('calibrateLevels', () => {
  const many = Array.from({ length: 200 }, (_, i) => ({ genuine: i % 4 === 0, score: i % 4 === 0 ? 0.6 + (i % 7) / 50 : ((i % 13) - 6) / 40 }));

  it('gives a stricter threshold for high than for substantial', () => {
    const [sub, high] = calibrateLevels(many);
    expect(sub.level).toBe('substantial');
    expect(high.recommended).toBeGreaterThan(sub.recommended);
    expect(sub.recommended).toBeGreaterThan(Math.max(...many.filter((p) => !p.genuine).map((p) => p.score)));
  });

  it('warns when too few impostor pairs stand behind the FMR claimed', () => {
    const [sub] = calibrateLevels(many);
    expect(sub.impostorPairs).toBe(150);
    expect(sub.impostorPairsNeeded).toBe(30000);
    expect(sub.warning).toMatch(/cannot support/);
  });
});

describe('matcher', () => {
  it('reports level and threshold with every decision', () => {
    const r = matchEmbeddings([1, 0], [0.8, 0.6], 'high', { substantial: 0.5, high: 0.9 });
    expect(r).toEqual({ similarity: expect.closeTo(0.8, 12), threshold: 0.9, level: 'high', match: false });
  });

  it('refuses embeddings of different lengths', () => {
    expect(() => cosineSimilarity([1, 0], [1])).toThrow(RangeError);
  });
});

// Development defaults for every setting that has no default in the schema. Thresholds carry a
// note of the data they were calibrated on (docs/calibration.md).
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from './root.ts';

/**
 * Development secrets: public, so that `npm start` works on a fresh clone. The loader refuses to
 * start with any of them when NODE_ENV=production.
 */
export const developmentSecrets = {
  cookieKeys: ['dev-only-cookie-key-0000000000000000000000'],
  dataKeys: { dev: 'ZGV2LW9ubHktZGF0YS1rZXktMDAwMDAwMDAwMDAwMDA=' },
  dataKeyId: 'dev',
  dpopNonceSecret: 'ZGV2LW9ubHktZHBvcC1ub25jZS1zZWNyZXQtMDAwMDA=',
  pairwiseSalt: 'dev-only-pairwise-salt-000000000000000000',
  csrfSecret: 'dev-only-csrf-secret-00000000000000000000',
  auditKeys: { dev: 'ZGV2LW9ubHktYXVkaXQta2V5LTAwMDAwMDAwMDAwMDA=' },
  auditKeyId: 'dev',
};

export const defaults = {
  env: 'development',
  database: { url: 'sqlite:./data/facegate.sqlite' },
  secrets: developmentSecrets,
  biometrics: {
    modelsDir: join(projectRoot, 'models'),
    workers: availableParallelism(),
    match: {
      substantial: 0.36,
      high: 0.41,
      calibration: 'normal-tail fit of 1147 impostor pairs (shared/data stills + 44 selfie-video frames, embedding fed BGR), rounded up: see docs/calibration.md',
    },
    quality: {
      capture: {
        minInterEyePx: 24,
        maxOutsideFraction: 0.1,
        maxFaceHeightFraction: 0.75,
        minSharpness: 40,
        minBrightness: 50,
        maxBrightness: 215,
        maxDarkFraction: 0.35,
        maxBrightFraction: 0.2,
        maxLightImbalance: 0.35,
        maxYawDeg: 30,
        maxPitchDeg: 30,
        maxRollDeg: 30,
        minEyesOpen: 0.3,
        maxSecondFaceRatio: 0.6,
      },
      enrollment: {
        minInterEyePx: 50,
        maxOutsideFraction: 0,
        maxFaceHeightFraction: 0.95,
        minSharpness: 80,
        minBrightness: 70,
        maxBrightness: 200,
        maxDarkFraction: 0.2,
        maxBrightFraction: 0.1,
        maxLightImbalance: 0.25,
        maxYawDeg: 20,
        maxPitchDeg: 20,
        maxRollDeg: 15,
        minEyesOpen: 0.5,
        maxSecondFaceRatio: 0.3,
      },
      // The portrait of an identity document (docs/onboarding.md): printed small (ICAO 9303
      // part 3: 32-45 mm high, so 20+ px between the eyes in a 600 px wide photo of a passport
      // page), halftoned and laminated (softer, glare), with a ghost image beside it on many
      // documents (not a second person). Measured on the shared specimens: docs/onboarding.md.
      document: {
        minInterEyePx: 12,
        maxOutsideFraction: 0.05,
        maxFaceHeightFraction: 1,
        minSharpness: 10,
        minBrightness: 50,
        maxBrightness: 230,
        maxDarkFraction: 0.35,
        maxBrightFraction: 0.3,
        maxLightImbalance: 0.35,
        maxYawDeg: 25,
        maxPitchDeg: 25,
        maxRollDeg: 20,
        minEyesOpen: 0.3,
        maxSecondFaceRatio: 1,
      },
    },
  },
};

// Every setting of Facegate, with its default and its meaning, in one zod schema. The loader
// (config/load.ts) is the only code that reads process.env; everything else receives the parsed,
// frozen result. Imports only zod.
import { z } from 'zod';

const qualityGrade = z.object({
  minInterEyePx: z.number().positive().describe('Smallest inter-eye distance in source pixels (ISO/IEC 29794-5 IED); below it: face_too_small'),
  maxOutsideFraction: z.number().min(0).max(1).describe('Largest fraction of the face box allowed outside the picture; above it: face_cut_off'),
  maxFaceHeightFraction: z.number().positive().describe('Largest face box height as a fraction of the picture height; above it: face_too_close (passive liveness needs the surroundings of the face)'),
  minSharpness: z.number().min(0).describe('Smallest variance of the Laplacian on the aligned 112x112 gray face; below it: blurry'),
  minBrightness: z.number().min(0).max(255).describe('Smallest mean luminance of the aligned face; below it: too_dark'),
  maxBrightness: z.number().min(0).max(255).describe('Largest mean luminance of the aligned face; above it: too_bright'),
  maxDarkFraction: z.number().min(0).max(1).describe('Largest fraction of face pixels with luminance < 30 (under-exposure); above it: too_dark'),
  maxBrightFraction: z.number().min(0).max(1).describe('Largest fraction of face pixels with luminance > 245 (over-exposure); above it: too_bright'),
  maxLightImbalance: z.number().min(0).max(1).describe('Largest |left-right|/(left+right) luminance of the face halves (illumination uniformity); above it: uneven_light'),
  maxYawDeg: z.number().positive().describe('Largest |yaw| in degrees; above it: face_turned'),
  maxPitchDeg: z.number().positive().describe('Largest |pitch| in degrees; above it: face_turned'),
  maxRollDeg: z.number().positive().describe('Largest |roll| in degrees; above it: face_turned'),
  minEyesOpen: z.number().min(0).max(1).describe('Smallest eye-open probability of the more open eye; below it: eyes_closed'),
  maxSecondFaceRatio: z.number().min(0).max(1).describe('Largest width of the second face relative to the dominant one; above it: multiple_faces'),
});

const secret = (what: string) => z.string().min(32).describe(what);

export const acrSubstantial = 'http://eidas.europa.eu/LoA/substantial';
export const acrHigh = 'http://eidas.europa.eu/LoA/high';

export const configSchema = z.object({
  env: z.enum(['development', 'test', 'production']).default('development').describe('NODE_ENV: development, test or production'),
  server: z.object({
    port: z.number().int().min(0).max(65535).default(3000).describe('TCP port the gateway listens on (0: any free port)'),
    host: z.string().default('0.0.0.0').describe('Address the gateway listens on'),
    issuer: z.url().optional().describe('Public issuer URL as agencies see it (https in production); default http://localhost:$PORT'),
    trustProxy: z.boolean().default(false).describe('Trust X-Forwarded-* headers (set when behind a TLS-offloading proxy)'),
    shutdownGraceMs: z.number().int().min(0).default(10_000).describe('How long a graceful shutdown waits for requests in flight'),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('pino log level'),
  }).prefault({}),
  database: z.object({
    url: z.string().min(1).describe('postgres://… for PostgreSQL, or sqlite:PATH (a file; created with its folder)'),
    schema: z.string().regex(/^[a-z_][a-z0-9_]*$/).optional().describe('PostgreSQL schema to use (created by migrate); default: the server default (public)'),
    poolMax: z.number().int().min(1).default(10).describe('Largest number of PostgreSQL connections per instance'),
  }),
  secrets: z.object({
    cookieKeys: z.array(secret('cookie signing key')).min(1).describe('Keys that sign the provider cookies, newest first (comma-separated in the environment); the same on every instance'),
    dataKeys: z.record(z.string().regex(/^[A-Za-z0-9_-]{1,32}$/), z.string()).describe('AES-256-GCM keys for data at rest (face templates, private signing keys) by key id: id:base64 pairs, comma-separated in the environment; each key is 32 bytes'),
    dataKeyId: z.string().describe('Id of the data key that encrypts new rows; the others still decrypt old rows'),
    dpopNonceSecret: secret('Secret (32 bytes, base64) from which DPoP nonces are derived; the same on every instance'),
    pairwiseSalt: secret('Salt of the pairwise subject identifiers; changing it changes every agency\'s `sub`'),
    csrfSecret: secret('Secret of the CSRF tokens of the sign-in pages'),
  }),
  oidc: z.object({
    ttl: z.object({
      authorizationCode: z.number().int().min(1).max(60).default(60).describe('Authorization code lifetime in seconds (at most 60)'),
      accessToken: z.number().int().min(1).max(600).default(600).describe('Access token lifetime in seconds (at most 600)'),
      idToken: z.number().int().min(1).max(3600).default(600).describe('ID token lifetime in seconds'),
      interaction: z.number().int().min(60).max(600).default(600).describe('Sign-in interaction lifetime in seconds (at most 600)'),
      session: z.number().int().min(60).max(1800).default(1800).describe('Session lifetime in seconds since its last use (idle timeout, at most 1800)'),
      grant: z.number().int().min(60).default(1800).describe('Grant (consent) lifetime in seconds'),
    }).prefault({}),
    defaultAcr: z.enum([acrSubstantial, acrHigh]).default(acrSubstantial).describe('Level used when an agency asks for none (and has no default_acr_values)'),
  }).prefault({}),
  capture: z.object({
    ttlSeconds: z.number().int().min(30).max(600).default(300).describe('Lifetime of a capture session'),
    maxAttempts: z.number().int().min(1).max(10).default(3).describe('Verification attempts (no match or not live) per capture session before it is closed'),
    maxSubmissions: z.number().int().min(1).max(50).default(10).describe('Frame submissions per capture session, including quality retries'),
    maxCapturesPerInteraction: z.number().int().min(1).max(20).default(3).describe('Capture sessions one sign-in may start (a new ID or the form without JavaScript starts one each); then the citizen goes back to the agency'),
    substantial: z.object({
      minFrames: z.number().int().min(1).default(1).describe('Frames per submission at substantial (at least)'),
      maxFrames: z.number().int().min(1).default(5).describe('Frames per submission at substantial (at most)'),
    }).prefault({}),
    high: z.object({
      minFrames: z.number().int().min(2).default(3).describe('Frames per submission at high (at least); passive liveness must hold over them'),
      maxFrames: z.number().int().min(2).default(12).describe('Frames per submission at high (at most)'),
      actions: z.number().int().min(1).max(4).default(2).describe('Number of random challenge actions at high'),
    }).prefault({}),
    minLiveFraction: z.number().min(0).max(1).default(0.5).describe('Share of the frames that must pass passive liveness (and the median score must reach the threshold)'),
  }).prefault({}),
  demo: z.object({
    enabled: z.boolean().describe('Register the demo agency and serve the /demo relying-party page'),
  }),
  biometrics: z.object({
    modelsDir: z.string().describe('Folder holding the ONNX files and manifest.json'),
    workers: z.number().int().min(1).max(64).describe('Worker threads for face analysis'),
    image: z.object({
      maxBytes: z.number().int().positive().default(8 * 1024 * 1024).describe('Largest accepted image in bytes; above it: image_too_large'),
      maxPixels: z.number().int().positive().default(40_000_000).describe('Largest accepted width x height, read from the header before decoding; above it: image_too_large'),
      minSide: z.number().int().positive().default(32).describe('Smallest accepted width or height in pixels; below it: image_too_small'),
      workingMaxSide: z.number().int().positive().default(1280).describe('Decoded images are shrunk on load so the long side is at most this; faces stay well above the embedding resolution'),
    }).prefault({}),
    detector: z.object({
      scoreThreshold: z.number().min(0).max(1).default(0.8).describe('Face score below which a detection is dropped (real faces in the shared data score >= 0.98; the false detections seen scored 0.3-0.73)'),
      nmsIou: z.number().min(0).max(1).default(0.4).describe('IoU above which overlapping detections are merged (non-maximum suppression)'),
      padFraction: z.number().min(0).max(1).default(0.35).describe('When no face is found, or the largest touches the border, the picture is padded by this fraction of its size on each side and searched again (tight crops and ID photos)'),
    }).prefault({}),
    liveness: z.object({
      threshold: z.number().min(0).max(1).default(0.5).describe('Smallest passive liveness score (softmax class "live") for one frame to count as live'),
    }).prefault({}),
    match: z.object({
      substantial: z.number().min(-1).max(1).describe('Cosine similarity threshold at LoA substantial (target FMR <= 1e-4)'),
      high: z.number().min(-1).max(1).describe('Cosine similarity threshold at LoA high (target FMR <= 1e-5)'),
      calibration: z.string().describe('Where the thresholds came from: data, pair counts, method'),
    }),
    quality: z.object({
      capture: qualityGrade.describe('Thresholds for a sign-in capture'),
      enrollment: qualityGrade.describe('Stricter thresholds for a registry (reference) image'),
    }),
  }),
});

type Parsed = z.infer<typeof configSchema>;
/** The loaded configuration: as parsed, with the issuer resolved from the port when not set. */
export type Config = Parsed & { server: Parsed['server'] & { issuer: string } };
export type QualityGrade = z.infer<typeof qualityGrade>;
export type BiometricsConfig = Config['biometrics'];

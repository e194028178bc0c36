// Benchmark peer: @vladmandic/face-api on tfjs-backend-wasm (single-threaded SIMD), weights read from the npm package.
// Used by the benchmark to compare our face engine's embeddings, accuracy and latency against an off-the-shelf stack.
import { createRequire } from 'node:module';
import path from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import * as tfWasm from '@tensorflow/tfjs-backend-wasm';
import * as faceapi from '@vladmandic/face-api/dist/face-api.node-wasm.js';

/** Result of {@link Peer.describe} for one image. */
export interface PeerResult {
  /** 128-d face descriptor of the largest detected face, or `null` when no face was found. */
  embedding: Float32Array | null;
  /** Wall-clock milliseconds for the whole call, including image decode. */
  ms: number;
}

/** A face-recognition peer as seen by the benchmark. */
export interface Peer {
  /** Human-readable identification incl. library, backend and model versions. */
  name: string;
  /** Decode (with sharp, to RGB), detect the largest face, landmarks, 128-d descriptor. ms = wall time of the whole call incl. decode. */
  describe(bytes: Uint8Array): Promise<PeerResult>;
  /** face-api's own similarity convention turned into a score where higher = same person: e.g. 1 - euclideanDistance; and its recommended decision threshold on that scale (face-api's 0.6 distance => 0.4). */
  similarity(a: Float32Array, b: Float32Array): number;
  /** Decision threshold on the {@link Peer.similarity} scale: same person iff `similarity >= threshold`. */
  threshold: number;
  /** Releases this peer; model weights are disposed once the last open peer is closed. */
  close(): Promise<void>;
}

/** face-api's recommended euclidean-distance threshold (FaceMatcher default). */
const FACE_API_DISTANCE_THRESHOLD = 0.6;
/** SSD MobileNet v1 options: face-api defaults (min confidence 0.5), spelled out so they are visible here. */
const DETECTOR_OPTIONS = new faceapi.SsdMobilenetv1Options({ minConfidence: 0.5, maxResults: 100 });

const require = createRequire(import.meta.url);
const packageDir = (pkg: string): string => path.dirname(require.resolve(`${pkg}/package.json`));
const MODEL_DIR = path.join(packageDir('@vladmandic/face-api'), 'model');
const WASM_DIR = path.join(packageDir('@tensorflow/tfjs-backend-wasm'), 'dist') + path.sep;

const NETS = [faceapi.nets.ssdMobilenetv1, faceapi.nets.faceLandmark68Net, faceapi.nets.faceRecognitionNet] as const;

let backendReady: Promise<void> | undefined;
let openPeers = 0;

/** Selects the wasm backend once per process; setWasmPaths() may not be called again after initialisation. */
function initBackend(): Promise<void> {
  backendReady ??= (async () => {
    // Pin the single-threaded SIMD binary (Node 20 already reports no wasm-thread support; the threaded build's
    // Blob-URL workers would not start in Node anyway).
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    tfWasm.setWasmPaths(WASM_DIR); // plain file path: emscripten reads it with fs in Node, nothing is fetched
    if (!(await tf.setBackend('wasm'))) throw new Error('peer-face-api: could not initialise tfjs-backend-wasm');
    await tf.ready();
  })();
  return backendReady;
}

/** Decodes any sharp-supported image (EXIF-oriented, alpha dropped) into an int32 [h, w, 3] RGB tensor. */
async function decodeRgb(bytes: Uint8Array): Promise<tf.Tensor3D> {
  const { data, info } = await sharp(bytes).rotate().toColourspace('srgb').removeAlpha().raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`peer-face-api: expected 3 channels after decode, got ${info.channels}`);
  return tf.tensor3d(Int32Array.from(data), [info.height, info.width, 3], 'int32');
}

/** Runs detection, then landmarks + descriptor for the largest face only. */
async function describeTensor(input: tf.Tensor3D): Promise<Float32Array | null> {
  // face-api's typings carry their own (narrower) copy of the tfjs Tensor type; the runtime object is the same.
  const netInput = input as unknown as faceapi.TNetInput;
  const detections = await faceapi.detectAllFaces(netInput, DETECTOR_OPTIONS);
  if (detections.length === 0) return null;
  const area = (d: faceapi.FaceDetection): number => d.box.width * d.box.height;
  const largest = detections.reduce((best, d) => (area(d) > area(best) ? d : best));
  // Same pipeline as detectSingleFace().withFaceLandmarks().withFaceDescriptor(), fed with our chosen detection.
  const parent = Promise.resolve(faceapi.extendWithFaceDetection({}, largest));
  const result = await new faceapi.DetectSingleFaceLandmarksTask(parent, netInput, false).withFaceDescriptor();
  return result?.descriptor ?? null;
}

/** Runs each net once on blank input so one-off wasm/XNNPACK set-up is paid in openPeer(), not in the first describe(). */
async function warmUp(): Promise<void> {
  const blank = (size: number) => tf.zeros([size, size, 3], 'int32') as tf.Tensor3D;
  const asInput = (t: tf.Tensor3D) => t as unknown as faceapi.TNetInput;
  const [det, lm, rec] = [blank(512), blank(112), blank(150)];
  try {
    await faceapi.nets.ssdMobilenetv1.locateFaces(asInput(det), DETECTOR_OPTIONS);
    await faceapi.nets.faceLandmark68Net.detectLandmarks(asInput(lm));
    await faceapi.nets.faceRecognitionNet.computeFaceDescriptor(asInput(rec));
  } finally {
    tf.dispose([det, lm, rec]);
  }
}

/**
 * Opens the face-api peer: initialises tfjs-backend-wasm from the local package files and loads
 * ssdMobilenetv1, faceLandmark68Net and faceRecognitionNet weights from face-api's bundled `model/` folder.
 */
export async function openPeer(): Promise<Peer> {
  await initBackend();
  if (!NETS.every((net) => net.isLoaded)) {
    for (const net of NETS) if (!net.isLoaded) await net.loadFromDisk(MODEL_DIR);
    await warmUp();
  }
  openPeers += 1;
  let closed = false;

  return {
    name: `@vladmandic/face-api ${faceapi.version} (tfjs-backend-wasm ${tfWasm.version_wasm}, ssdMobilenetv1 + faceLandmark68Net + faceRecognitionNet)`,
    threshold: 1 - FACE_API_DISTANCE_THRESHOLD,

    async describe(bytes: Uint8Array): Promise<PeerResult> {
      if (closed) throw new Error('peer-face-api: describe() after close()');
      const t0 = performance.now();
      const input = await decodeRgb(bytes);
      try {
        const embedding = await describeTensor(input);
        return { embedding, ms: performance.now() - t0 };
      } finally {
        input.dispose();
      }
    },

    similarity(a: Float32Array, b: Float32Array): number {
      return 1 - faceapi.euclideanDistance(a, b);
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      openPeers -= 1;
      if (openPeers === 0) for (const net of NETS) net.dispose();
    },
  };
}

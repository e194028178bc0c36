// One in-thread face engine per test file, on the real models and the default configuration.
import { loadConfig } from '../../config/load.ts';
import { openFaceEngine, type FaceEngine } from '../../src/biometrics/engine.ts';

export const config = loadConfig({});
let engine: Promise<FaceEngine> | undefined;
export const getEngine = (): Promise<FaceEngine> => (engine ??= openFaceEngine(config.biometrics));

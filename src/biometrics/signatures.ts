// Size of the scene signature the engine computes for the presence checks (src/capture/presence.ts).
// A module of its own so that the capture code reads them without loading the engine (onnxruntime).

/** The whole picture as a SCENE_GRID x SCENE_GRID grid of RGB block means. */
export const SCENE_GRID = 24;
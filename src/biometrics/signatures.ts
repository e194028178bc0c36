// Sizes of the scene signatures the engine computes for the presence checks (src/capture/presence.ts).
// A module of its own so that the capture code reads them without loading the engine (onnxruntime).

/** The whole picture as a SCENE_GRID x SCENE_GRID grid of RGB block means. */
export const SCENE_GRID = 24;
/** The aligned face as a FACE_GRID x FACE_GRID grid of gray block means. */
export const FACE_GRID = 14;

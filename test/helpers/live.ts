// A live citizen for the tests: the shared selfie video's person (registry photo
// lin_manuel_miranda_1.png), whose camera follows the server's instructions (bench/pad-corpus.ts:
// two neutral frames, then each action as filmed, each frame with its own sensor noise, so every
// frame is new bytes). A still photo never passes presence; this is what a real citizen sends.
import { rng } from '../../bench/pad-corpus.ts';
import { selfieCitizen, sensor } from '../../bench/pad-corpus.ts';
import type { ChallengeAction } from '../../src/capture/flow.ts';
import { dataDir, face } from './data.ts';
import { config, getEngine } from './engine.ts';

export const citizenPhoto = (): Buffer => face('lin_manuel_miranda', 'lin_manuel_miranda_1.png');
let citizen: ReturnType<typeof selfieCitizen> | undefined;
const getCitizen = async () => (citizen ??= selfieCitizen(await getEngine(), dataDir, config.capture.challenge));
// A fixed seed: each test file sees the same frames on every run (the bench varies them: bench:pad).
const r = rng(20261201);

/** Classifies the video's frames once per test file (a few seconds): call from a beforeAll with a long timeout. */
export const warmLiveCitizen = async (): Promise<void> => {
  const c = await getCitizen();
  await sensor(c.video[c.base], rng(1)); // the sensor's noise pool, made once (seconds under jest)
  const cam = c.camera(rng(2)); // and the painted blink, checked with the engine once
  await cam.follow('blink');
  await cam.next();
};

/** The frames a cooperative citizen's camera delivers for `actions` (none: a short natural window). */
export async function liveFrames(actions: readonly ChallengeAction[] = []): Promise<Buffer[]> {
  const c = await getCitizen();
  return actions.length ? c.perform(actions, r) : c.window(config.capture.substantial.minFrames + 2, r);
}

/**
 * The live citizen's camera for a streamed capture: straight until a prompt, then the action as
 * filmed, then straight again; each frame new bytes (helpers/stream.ts sends them as they come).
 */
export async function liveCamera(): Promise<{ next(): Promise<Buffer>; follow(action: ChallengeAction): Promise<void> }> {
  return (await getCitizen()).camera(r);
}

/**
 * Gateway settings for browser tests that sign the live citizen in several times to test a flow
 * around the face (a handoff, passkeys): the risk rules' thin-margin step-ups off (they are tested
 * on their own), shorter prompt delays.
 */
export const flowTestConfig = {
  risk: { rules: { thinMatchMargin: 0, thinLivenessMargin: 0, stepUpFlags: [] } },
  capture: { stream: { promptDelayMs: [300, 700], neutralMs: 600 } },
};

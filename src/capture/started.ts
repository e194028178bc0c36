// The answer to a capture start (201), the same for every page that starts one (sign-in, proof of
// life, onboarding, a phone's handoff): the actions are not told, only how many there are (the
// stream's prompts reveal them one at a time), and the frames go to the capture's stream.
import type { StartResult } from './service.ts';

/** `captureBase`: the page's capture endpoint; `maxFrames`: the stream's own limit (not the retired batch's). */
export function startedBody(started: StartResult, captureBase: string, maxFrames: number) {
  const { actions, maxFrames: _batch, ...rest } = started;
  return { ...rest, maxFrames, steps: actions.length, stream: `${captureBase}/${encodeURIComponent(started.captureId)}/stream` };
}

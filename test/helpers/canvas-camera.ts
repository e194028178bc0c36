// The canvas camera of the browser tests and `npm run bench:capture`: getUserMedia answers a
// canvas the test draws into, one new frame each time the page takes a picture. No jest here.
import type { BrowserContext } from 'playwright-core';
import type { ChallengeAction } from '../../src/capture/flow.ts';

/**
 * What draws the canvas camera: `next(action)` gives the frame to show after the page took one
 * (`action`: the instruction the page shows now, #challenge[data-action], or '' for none).
 */
export type CanvasCamera = { next(action: string): Promise<Uint8Array> };

/**
 * The canvas camera: an init script replaces getUserMedia with a 640×480 canvas's captureStream
 * and lists one video input; whenever the page encodes a picture of the preview (camera.js's
 * toBlob), the test is told (with the instruction the page shows) and draws the next frame, so
 * every picture the page takes is a new frame, as from a real camera.
 */
export async function useCanvasCamera(context: BrowserContext, camera: CanvasCamera): Promise<void> {
  let drawing = Promise.resolve();
  // One frame made ahead, so the next is on the canvas well before the page takes its next picture.
  let ahead: Promise<Uint8Array> | undefined;
  await context.exposeBinding('__cameraTook', ({ page }, action: string) => {
    drawing = drawing.then(async () => {
      const jpeg = await (ahead ?? camera.next(action));
      ahead = camera.next(action);
      ahead.catch(() => undefined);
      await page.evaluate((url) => (window as unknown as { __cameraDraw(u: string): Promise<void> }).__cameraDraw(url), `data:image/jpeg;base64,${Buffer.from(jpeg).toString('base64')}`);
    }).catch(() => undefined);
  });
  await context.addInitScript(() => {
    const w = window as unknown as { __cameraTook(a: string): void; __cameraDraw(u: string): Promise<void> };
    const canvas = document.createElement('canvas');
    canvas.width = 640;
    canvas.height = 480;
    const g = canvas.getContext('2d')!;
    g.fillStyle = '#202020';
    g.fillRect(0, 0, 640, 480);
    let stream: MediaStream | undefined;
    w.__cameraDraw = async (url) => {
      const img = new Image();
      img.src = url;
      await img.decode();
      g.drawImage(img, 0, 0, 640, 480);
    };
    const media = navigator.mediaDevices;
    if (!media) return;
    media.getUserMedia = async () => {
      stream ??= canvas.captureStream(30);
      w.__cameraTook(''); // the first frame
      return stream;
    };
    media.enumerateDevices = async () => [{ kind: 'videoinput', deviceId: 'canvas', groupId: 'canvas', label: 'Canvas camera', toJSON: () => ({}) } as MediaDeviceInfo];
    const toBlob = HTMLCanvasElement.prototype.toBlob;
    HTMLCanvasElement.prototype.toBlob = function (this: HTMLCanvasElement, ...args: Parameters<HTMLCanvasElement['toBlob']>) {
      if (this !== canvas) w.__cameraTook(document.getElementById('challenge')?.getAttribute('data-action') ?? '');
      return toBlob.apply(this, args);
    };
  });
}

/**
 * A citizen in front of the camera doing what the page shows (#challenge[data-action]): `cam`
 * (bench/pad-corpus.ts camera()) follows each new instruction once, and gives a frame per picture.
 */
export function followingThePage(cam: { follow(action: ChallengeAction): Promise<void>; next(): Promise<Uint8Array> }): CanvasCamera {
  let following = '';
  return {
    async next(action) {
      if (action && action !== following) await cam.follow(action as ChallengeAction);
      following = action;
      return cam.next();
    },
  };
}

// A streamed capture as a client would run it (docs/capture-api.md, "Streamed capture"): the
// WebSocket with the interaction's cookies and the page's Origin, the start message with the CSRF
// token, then a frame every `intervalMs` from a camera that follows each prompt as it comes.
import WebSocket from 'ws';
import type { ChallengeAction } from '../../src/capture/flow.ts';
import type { ServerMessage } from '../../src/capture/stream.ts';

/** What sends the frames: a camera that follows prompts, or a fixed script of frames. */
export type StreamCamera = { next(): Promise<Uint8Array | undefined>; follow?(action: ChallengeAction): Promise<void> | void };

export type StreamRun = {
  messages: ServerMessage[];
  verdict?: Extract<ServerMessage, { type: 'verdict' }>;
  error?: Extract<ServerMessage, { type: 'error' }>;
  /** The close code and reason. */
  closed: { code: number; reason: string };
  /** Prompts as received: the action and when (ms since the stream opened). */
  prompts: Array<{ action: string; at: number }>;
};

/** A camera that sends these frames in order whatever the prompts say, then ends the capture. */
export const scripted = (frames: Uint8Array[]): StreamCamera => {
  const left = [...frames];
  return { next: async () => left.shift() };
};

/** A frame as the protocol sends it: a 4-byte big-endian sequence number, then the JPEG. */
export const framed = (seq: number, jpeg: Uint8Array) => {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(seq);
  return Buffer.concat([head, jpeg]);
};

/** Opens the stream of a capture and runs it to its end. */
export function runStream(options: {
  url: string; origin: string; cookie: string; csrf: unknown; camera: StreamCamera; intervalMs?: number;
  /** Sends the start message (default true); false tests the start timeout. */
  start?: boolean;
  /** Called for every message before the default handling (tests inject faults here). */
  onMessage?: (m: ServerMessage, ws: WebSocket) => void;
  /** More headers for the upgrade request (a proxy hop's X-Forwarded-For in a load test). */
  headers?: Record<string, string>;
}): Promise<StreamRun> {
  const ws = new WebSocket(options.url, { headers: { ...options.headers, origin: options.origin, cookie: options.cookie } });
  const run: StreamRun = { messages: [], prompts: [], closed: { code: 0, reason: '' } };
  const opened = Date.now();
  let sending = false;
  let seq = 0;
  const loop = async () => {
    sending = true;
    while (sending && ws.readyState === WebSocket.OPEN) {
      const t = Date.now();
      const frame = await options.camera.next();
      if (!frame) {
        if (sending && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'end' }));
        break;
      }
      if (!sending || ws.readyState !== WebSocket.OPEN) break;
      ws.send(framed(seq++, frame));
      await new Promise((r) => setTimeout(r, Math.max(0, (options.intervalMs ?? 180) - (Date.now() - t))));
    }
  };
  return new Promise((resolve, reject) => {
    ws.on('unexpected-response', (_req, res) => { reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode })); });
    ws.on('error', (err) => reject(err));
    ws.on('open', () => { if (options.start !== false) ws.send(JSON.stringify({ type: 'start', csrf: options.csrf })); });
    ws.on('message', (data, binary) => {
      if (binary) return;
      const m = JSON.parse(String(data)) as ServerMessage;
      run.messages.push(m);
      options.onMessage?.(m, ws);
      if (m.type === 'ready') void loop();
      if (m.type === 'prompt') {
        run.prompts.push({ action: m.action, at: Date.now() - opened });
        if (m.action !== 'look_straight') void options.camera.follow?.(m.action);
      }
      if (m.type === 'checking') sending = false;
      if (m.type === 'verdict') run.verdict = m;
      if (m.type === 'error') run.error = m;
    });
    ws.on('close', (code, reason) => {
      sending = false;
      run.closed = { code, reason: String(reason) };
      resolve(run);
    });
  });
}

/** The stream URL of a capture, as ws:// on the gateway. */
export const streamUrl = (issuer: string, captureEndpoint: string, captureId: string) =>
  `${issuer.replace(/^http/, 'ws')}${captureEndpoint}/${encodeURIComponent(captureId)}/stream`;

/**
 * For tests of a flow around the face (not of presence): while `runOf(result)` ended `retry` with
 * attempts left, streams again (`again`), at most `retries` times, as the page lets the citizen.
 * On a loaded machine the live citizen can miss a head turn (a late frame).
 */
export async function againAfterRetry<R>(result: R, again: () => Promise<R>, runOf: (r: R) => StreamRun, retries: number): Promise<R> {
  for (let left = retries; left > 0; left--) {
    const verdict = runOf(result).verdict;
    if (verdict?.status !== 'retry' || verdict.attemptsLeft <= 0) break;
    result = await again();
  }
  return result;
}

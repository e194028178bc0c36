// A streamed capture (docs/capture-api.md, "Streamed capture"): the page sends each frame as it is
// taken over one WebSocket per submission; the server stamps each arrival with its own clock,
// starts the frame's analysis on the worker pool at once, times the prompts itself (look straight,
// then each action after a random delay, revealed one at a time), and decides when the last step
// is over: the client controls neither time nor order. One LiveCapture per socket; no koa, no ws:
// the socket is an interface (routes wire the real one). The decision itself is the service's.
import { randomInt } from 'node:crypto';
import type { Config } from '../../config/schema.ts';
import type { ImageAnalysis } from '../biometrics/engine.ts';
import type { FaceAnalyzer } from '../biometrics/pool.ts';
import { AppError, errorCatalogue, isAppError, isOutage, toAppError, type ErrorCode } from '../shared/errors.ts';
import { performs } from './challenge.ts';
import type { Frames } from './checks.ts';
import type { ChallengeAction } from './flow.ts';
import type { CaptureService, Requester, SubmitResult } from './service.ts';

/** What the server sends (JSON text messages). */
export type ServerMessage =
  | { type: 'ready'; steps: number; maxFrames: number; minIntervalMs: number; maxFrameBytes: number; deadlineMs: number }
  | { type: 'prompt'; step: number; steps: number; action: 'look_straight' | ChallengeAction; windowMs?: number }
  | { type: 'ack'; seq: number; received: number }
  | { type: 'refused'; seq: number; code: ErrorCode; message: string }
  | { type: 'hint'; code: ErrorCode; message: string }
  | { type: 'done'; step: number; steps: number }
  | { type: 'checking' }
  | { type: 'verdict'; status: SubmitResult['status']; feedback: SubmitResult['feedback']; attemptsLeft: number; stepUp?: { steps: number }; redirectTo?: string }
  | { type: 'error'; code: ErrorCode; message: string; retryAt?: string; retryAfterSeconds?: number };

/** The socket as the live capture sees it. close(): 1000 after a verdict or error message, 1008 for a protocol fault. */
export type StreamSocket = { send(message: ServerMessage): void; close(code: number, reason: string): void };

export type StreamContext = {
  interactionUid: string; captureId: string;
  /** Throws csrf_invalid unless the token belongs to the interaction. */
  verifyCsrf(token: unknown): void;
  /** Ends the login step for a verified capture; returns where the page goes next. */
  onVerified(result: SubmitResult): Promise<string | undefined>;
} & Requester;

export type StreamDeps = {
  capture: Pick<CaptureService, 'open' | 'submit' | 'abandon'>; analyzer: Pick<FaceAnalyzer, 'analyze'>; config: Readonly<Config>;
  clock?: () => number;
  /** Timers (tests may pass their own). */
  setTimer?: (fn: () => void, ms: number) => { cancel(): void };
  /** A random delay in [min, max] ms (crypto by default). */
  delay?: (min: number, max: number) => number;
  /** Told of a failure on the service's side (status ≥ 500), for the log. */
  onError?: (err: unknown, code: ErrorCode) => void;
};

type Phase = 'waiting_start' | 'opening' | 'neutral' | 'pausing' | 'step' | 'checking' | 'ended';
const SEQ_BYTES = 4;
const messageOf = (code: ErrorCode) => errorCatalogue[code].message;

/**
 * The streams of one instance: at most `maxStreamsPerIp` open at once per client IP, one per
 * capture. accept() takes a new socket and returns its message and close handlers.
 */
export function createStreamHub(deps: StreamDeps) {
  const s = deps.config.capture.stream;
  const perIp = new Map<string, number>();
  const busy = new Set<string>();

  function accept(socket: StreamSocket, ctx: StreamContext): { message(data: Buffer, binary: boolean): void; closed(): void } {
    const ip = ctx.ip ?? 'unknown';
    const open = perIp.get(ip) ?? 0;
    // Each stream holds its frames in memory until its decision: bounded per IP and per instance.
    if (open >= s.maxStreamsPerIp || busy.size >= s.maxStreams || busy.has(ctx.captureId)) {
      const code: ErrorCode = busy.has(ctx.captureId) ? 'capture_busy' : 'too_many_streams';
      socket.send({ type: 'error', code, message: messageOf(code) });
      socket.close(1000, code);
      return { message() {}, closed() {} };
    }
    perIp.set(ip, open + 1);
    busy.add(ctx.captureId);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const n = (perIp.get(ip) ?? 1) - 1;
      if (n > 0) perIp.set(ip, n); else perIp.delete(ip);
      busy.delete(ctx.captureId);
    };
    const live = liveCapture(socket, ctx, deps, release);
    // A capture being decided stays busy until its decision is in (end() releases it then).
    return { message: live.message, closed: () => { if (!live.closed()) release(); } };
  }

  return { accept, open: () => [...perIp.values()].reduce((a, b) => a + b, 0) };
}

export type StreamHub = ReturnType<typeof createStreamHub>;

function liveCapture(socket: StreamSocket, ctx: StreamContext, deps: StreamDeps, release: () => void) {
  const { config, capture, analyzer } = deps;
  const s = config.capture.stream;
  const ch = config.capture.challenge;
  const clock = deps.clock ?? Date.now;
  const setTimer = deps.setTimer ?? ((fn, ms) => { const t = setTimeout(fn, ms); return { cancel: () => clearTimeout(t) }; });
  const delay = deps.delay ?? ((min, max) => (max > min ? randomInt(min, max + 1) : min));

  let phase: Phase = 'waiting_start';
  let actions: ChallengeAction[] = [];
  let minFrames = 3;
  const frames: Uint8Array[] = [];
  const arrivals: number[] = [];
  const analyses: Array<Promise<ImageAnalysis>> = [];
  /** Each frame's analysis once it is in (undefined until then, null when it failed). */
  const analysed: Array<ImageAnalysis | null | undefined> = [];
  const prompts: number[] = [];
  let bytes = 0;
  let nextSeq = 0;
  let tokens = s.burstFrames;
  let lastArrival = 0;
  let neutralSince = 0;
  let lastHint: ErrorCode | undefined;
  const timers: Array<{ cancel(): void }> = [];
  const later = (fn: () => void, ms: number) => { timers.push(setTimer(fn, ms)); };
  const startTimeout = setTimer(() => fault('invalid_input', 'the stream was opened but no start message came'), s.startTimeoutMs);

  const send = (m: ServerMessage) => { if (phase !== 'ended') socket.send(m); };
  function end(code: number, reason: string) {
    if (phase === 'ended') return;
    phase = 'ended';
    for (const t of timers) t.cancel();
    startTimeout.cancel();
    release();
    socket.close(code, reason);
  }
  /** A protocol fault: the error, then the socket closes; nothing is submitted. */
  function fault(code: ErrorCode, message: string = messageOf(code)) {
    send({ type: 'error', code, message });
    end(1008, code);
  }

  async function start(token: unknown) {
    startTimeout.cancel();
    phase = 'opening';
    let opened: Awaited<ReturnType<CaptureService['open']>>;
    try {
      ctx.verifyCsrf(token);
      opened = await capture.open({ interactionUid: ctx.interactionUid, captureId: ctx.captureId, ip: ctx.ip, userAgent: ctx.userAgent });
    } catch (err) {
      return refuse(err);
    }
    if (phase !== 'opening') return;
    if (opened.verified) {
      // Decided before (its verdict was lost): the same verdict again, no frames.
      phase = 'checking';
      return void answer(opened.verified);
    }
    actions = opened.flow.actions;
    minFrames = opened.minFrames;
    phase = 'neutral';
    neutralSince = clock();
    send({ type: 'ready', steps: actions.length, maxFrames: s.maxFrames, minIntervalMs: s.minIntervalMs, maxFrameBytes: s.maxFrameBytes, deadlineMs: s.deadlineMs });
    send({ type: 'prompt', step: 0, steps: actions.length, action: 'look_straight' });
    later(() => void finish(), s.deadlineMs);
    later(() => advance(), s.neutralMs);
  }

  function refuse(err: unknown) {
    const e = isAppError(err) || isOutage(err) ? toAppError(err) : new AppError('internal_error');
    if (e.status >= 500) deps.onError?.(err, e.code);
    // An outage's detail is for the log: the citizen gets the catalogue's words.
    const shown = e.expose && e.status < 500 ? e.message : messageOf(e.code);
    const { retryAt, retryAfterSeconds } = e.details;
    send({
      type: 'error', code: e.code, message: shown,
      ...(typeof retryAt === 'string' ? { retryAt } : {}), ...(typeof retryAfterSeconds === 'number' ? { retryAfterSeconds } : {}),
    });
    end(1000, e.code);
  }

  function frame(data: Buffer) {
    if (phase === 'waiting_start' || phase === 'opening') return fault('invalid_input', 'send the start message first and wait for ready');
    if (data.length < SEQ_BYTES) return fault('invalid_input', 'a frame is a 4-byte sequence number followed by a JPEG');
    const seq = data.readUInt32BE(0);
    if (phase === 'checking') return send({ type: 'refused', seq, code: 'stream_closed', message: messageOf('stream_closed') });
    if (seq !== nextSeq) return fault('frame_out_of_order', `expected frame ${nextSeq}, got ${seq}`);
    nextSeq++;
    const now = clock();
    // A token bucket: one frame per minIntervalMs on average, a few back to back after a stall.
    tokens = Math.min(s.burstFrames, tokens + (lastArrival ? (now - lastArrival) / s.minIntervalMs : 0));
    lastArrival = now;
    if (tokens < 1) return send({ type: 'refused', seq, code: 'frame_too_fast', message: messageOf('frame_too_fast') });
    tokens -= 1;
    const jpeg = data.subarray(SEQ_BYTES);
    bytes += jpeg.length;
    if (jpeg.length > s.maxFrameBytes || bytes > s.maxCaptureBytes) return fault('frame_too_large');
    const i = frames.length;
    frames.push(jpeg);
    arrivals.push(now);
    // Analysed on the worker pool now; the decision awaits the same promise.
    const analysis = analyzer.analyze(jpeg, { grade: 'capture' });
    analyses.push(analysis);
    void analysis.then((a) => { analysed[i] = a; advance(); }, () => { analysed[i] = null; advance(); });
    send({ type: 'ack', seq, received: frames.length });
    if (frames.length >= s.maxFrames) return void finish();
    advance();
  }

  /** The neutral frame: the first whose analysis passed the full quality gate (as the challenge reads it). */
  function neutralFrame(): number {
    for (let i = 0; i < analysed.length; i++) {
      const a = analysed[i];
      if (a === undefined) return -1; // not known yet: the first must come first
      if (a?.quality.ok && a.face) return i;
    }
    return -1;
  }

  /** Moves the capture on when its step is over; called on every frame, analysis and timer. */
  function advance() {
    const now = clock();
    if (phase === 'neutral') {
      const base = neutralFrame();
      if (base < 0) return hint();
      if (now - neutralSince < s.neutralMs || frames.length < Math.max(s.neutralFrames, actions.length ? 0 : minFrames)) return;
      if (!actions.length) return void finish();
      return pause();
    }
    if (phase !== 'step') return;
    const k = prompts.length - 1;
    const base = analysed[neutralFrame()] as Frames[number] | undefined;
    // Seen: a frame after the prompt shows the action; then settleFrames more (the way back).
    let seen = -1;
    for (let i = 0; i < frames.length; i++) {
      const a = analysed[i];
      if (arrivals[i] <= prompts[k] || !a?.face || !base) continue;
      if (performs(actions[k], a as Frames[number], base, ch)) { seen = i; break; }
    }
    if (seen >= 0 && frames.length - 1 - seen >= s.settleFrames) return k + 1 < actions.length ? pause() : void finish();
    if (now - prompts[k] > ch.actionWindowMs) return void finish();
  }

  /** Live guidance while no frame passes the quality gate yet (the first look straight). */
  function hint() {
    const last = [...analysed].reverse().find((a) => a);
    const code = last?.quality.codes[0];
    if (code && code !== lastHint) send({ type: 'hint', code, message: messageOf(code) });
    lastHint = code;
  }

  /** Between steps: the next prompt after a random delay the client cannot know. */
  function pause() {
    phase = 'pausing';
    // The step just ended (0: the look straight); the page says "get ready" until the next prompt.
    send({ type: 'done', step: prompts.length, steps: actions.length });
    later(() => {
      if (phase !== 'pausing') return;
      const k = prompts.length;
      prompts.push(clock());
      phase = 'step';
      send({ type: 'prompt', step: k + 1, steps: actions.length, action: actions[k], windowMs: ch.actionWindowMs });
      later(() => advance(), ch.actionWindowMs + 1);
    }, delay(s.promptDelayMs[0], s.promptDelayMs[1]));
  }

  async function finish() {
    if (phase === 'checking' || phase === 'ended') return;
    phase = 'checking';
    for (const t of timers) t.cancel();
    send({ type: 'checking' });
    // The actions not prompted yet (the deadline came first) count as prompted now: never seen.
    while (prompts.length < actions.length) prompts.push(clock());
    let result: SubmitResult;
    try {
      // Rejections are read by the decision; these handlers only keep them from going unhandled.
      for (const a of analyses) a.catch(() => {});
      await Promise.allSettled(analyses);
      // Frames before the first one that passed the quality gate are the citizen getting into
      // view (what the hints were for): the decision starts there. None passed: all are judged.
      const from = Math.max(0, neutralFrame());
      result = await capture.submit({
        interactionUid: ctx.interactionUid, captureId: ctx.captureId, frames: frames.slice(from), arrivals: arrivals.slice(from),
        prompts: actions.length ? prompts : undefined, analyses: analyses.slice(from), ip: ctx.ip, userAgent: ctx.userAgent,
      });
    } catch (err) {
      return refuse(err);
    }
    return answer(result);
  }

  /** The verdict (a verified one finishes the sign-in first), then the socket closes. */
  async function answer(result: SubmitResult) {
    let redirectTo: string | undefined;
    try {
      redirectTo = result.status === 'verified' ? await ctx.onVerified(result) : undefined;
    } catch (err) {
      return refuse(err);
    }
    // A step-up only while the capture stays open (on its last submission it is rejected instead).
    const stepUp = result.status === 'retry' && result.actions?.length ? { steps: result.actions.length } : undefined;
    send({ type: 'verdict', status: result.status, feedback: result.feedback, attemptsLeft: result.attemptsLeft, ...(stepUp ? { stepUp } : {}), ...(redirectTo ? { redirectTo } : {}) });
    end(1000, 'verdict');
  }

  function message(data: Buffer, binary: boolean) {
    if (phase === 'ended') return;
    if (binary) return frame(data);
    // While deciding, a text message changes nothing (and never cuts the decision short).
    if (phase === 'checking') return;
    let parsed: unknown;
    try {
      parsed = data.length <= 4096 ? JSON.parse(data.toString('utf8')) : undefined;
    } catch {
      parsed = undefined;
    }
    const m = parsed as { type?: unknown; csrf?: unknown } | undefined;
    if (m?.type === 'start' && phase === 'waiting_start') return void start(m.csrf);
    // The client has no more frames (its camera stopped): the decision on what arrived, now.
    if (m?.type === 'end' && (phase === 'neutral' || phase === 'pausing' || phase === 'step')) return void finish();
    fault('invalid_input', 'unknown or unexpected message');
  }

  return {
    message,
    /**
     * The client went away. Before the decision: nothing is submitted (the analyses running finish
     * unread), and once an action was prompted the flow spends a submission (service abandon()).
     * While deciding: the decision goes on and counts. True while it is still being decided.
     */
    closed(): boolean {
      for (const a of analyses) a.catch(() => {});
      if (phase === 'checking') return true;
      if (phase !== 'ended') {
        const prompted = prompts.length;
        phase = 'ended';
        for (const t of timers) t.cancel();
        startTimeout.cancel();
        if (prompted) capture.abandon({ interactionUid: ctx.interactionUid, captureId: ctx.captureId, prompted, ip: ctx.ip, userAgent: ctx.userAgent }).catch(() => {});
      }
      return false;
    },
  };
}

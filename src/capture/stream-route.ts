// The HTTP upgrade to a capture stream: GET /interaction/:uid/capture/:captureId/stream with
// `Upgrade: websocket` (ws), or a binding's (a proof of life: /proof/:id/capture/:captureId/stream).
// Checked before the upgrade: the path, the page's Origin (the issuer's: no other site can open a
// stream with the citizen's cookies) and the interaction cookie, which must be the one in the URL
// (a binding checks its own cookie). Then stream.ts runs the capture; the CSRF token comes in its start
// message. Uses koa's own request context for the client address (server.trustProxy applies).
import type { IncomingMessage } from 'node:http';
import { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Config } from '../../config/schema.ts';
import type { FaceAnalyzer } from '../biometrics/pool.ts';
import type { Csrf } from '../server/csrf.ts';
import type { Logger } from '../server/logger.ts';
import { finishSignIn } from './finish.ts';
import type { CaptureService } from './service.ts';
import { createStreamHub, type ServerMessage, type StreamContext } from './stream.ts';

/**
 * A capture not bound to an oidc-provider interaction (a proof of life, src/proof/): its streams
 * are at /<prefix>/:id/capture/:captureId/stream. `open` checks the request (its cookies) for the
 * binding `id`; undefined refuses the upgrade (404). `interactionUid`: what the capture flows are
 * bound to when it is not `id` (a phone's handoff, src/handoff/: the desktop's interaction).
 */
export type StreamBinding = {
  prefix: string;
  open(koa: Koa.Context, id: string): Promise<(Pick<StreamContext, 'verifyCsrf' | 'onVerified'> & { interactionUid?: string }) | undefined>;
};

export type StreamRouteDeps = {
  app: Koa; provider: Provider; capture: CaptureService; analyzer: FaceAnalyzer; csrf: Csrf; config: Readonly<Config>; logger: Logger;
  bindings?: StreamBinding[];
};

const PATH = /^\/([a-z]{1,32})\/([A-Za-z0-9_-]{1,64})\/capture\/([A-Za-z0-9_-]{1,64})\/stream$/;

/** Answers an upgrade request with a plain HTTP status and closes the socket. */
function reject(socket: Duplex, status: number, text: string) {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

export function createStreamUpgrade({ app, provider, capture, analyzer, csrf, config, logger, bindings = [] }: StreamRouteDeps) {
  const hub = createStreamHub({ capture, analyzer, config, onError: (err, code) => logger.error({ err, code }, 'capture stream failed') });
  // Frames are checked against maxFrameBytes by the capture; this only stops a larger message early.
  const wss = new WebSocketServer({ noServer: true, maxPayload: config.capture.stream.maxFrameBytes + 1024, perMessageDeflate: false });
  const origin = new URL(config.server.issuer).origin;

  async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', origin);
    const m = PATH.exec(url.pathname);
    const binding = m && m[1] !== 'interaction' ? bindings.find((b) => b.prefix === m[1]) : undefined;
    if (!m || req.method !== 'GET' || (m[1] !== 'interaction' && !binding)) return reject(socket, 404, 'Not Found');
    if (req.headers.origin !== origin) return reject(socket, 403, 'Forbidden');
    const [, , uid, captureId] = m;
    const res = new ServerResponse(req);
    const koa = app.createContext(req, res);
    // In production a stream comes over TLS (wss, or https per X-Forwarded-Proto), as pages do.
    if (config.env === 'production' && !koa.secure) return reject(socket, 403, 'Forbidden');
    let bound: (Pick<StreamContext, 'verifyCsrf' | 'onVerified'> & { interactionUid?: string }) | undefined;
    if (binding) {
      bound = await binding.open(koa, uid);
    } else {
      let interaction: Awaited<ReturnType<Provider['interactionDetails']>> | undefined;
      try {
        interaction = await provider.interactionDetails(req, res);
      } catch {
        interaction = undefined;
      }
      if (interaction?.uid === uid && interaction.prompt.name === 'login') {
        bound = {
          verifyCsrf: (token) => csrf.verify(uid, token),
          // auth_time is when the face check was decided (verified_claims' verification time);
          // finish.ts runs the step after the face (a passkey) when one applies.
          onVerified: (result) => finishSignIn(provider, req, res, {
            citizenId: result.flow.citizenId!, acr: result.flow.acr, amr: ['face', 'user'], ts: Math.floor(result.flow.updatedAt / 1000),
          }),
        };
      }
    }
    if (!bound) return reject(socket, 404, 'Not Found');
    const { verifyCsrf, onVerified, interactionUid = uid } = bound;
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      const send = (message: ServerMessage) => { if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message)); };
      const live = hub.accept({ send, close: (code, reason) => ws.close(code, reason) }, {
        interactionUid, captureId, ip: koa.ip, userAgent: req.headers['user-agent'], verifyCsrf, onVerified,
      });
      ws.on('message', (data, binary) => live.message(Buffer.isBuffer(data) ? data : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]), binary));
      ws.on('close', () => live.closed());
      ws.on('error', (err) => logger.debug({ err }, 'capture stream error'));
    });
  }

  return {
    /** For the HTTP server's 'upgrade' event. */
    handle(req: IncomingMessage, socket: Duplex, head: Buffer): void {
      socket.on('error', () => socket.destroy());
      upgrade(req, socket, head).catch((err) => {
        logger.error({ err }, 'capture stream upgrade failed');
        reject(socket, 500, 'Internal Server Error');
      });
    },
    /** Streams open on this instance (metrics, tests). */
    open: () => hub.open(),
    close: () => { for (const ws of wss.clients) ws.terminate(); wss.close(); },
  };
}

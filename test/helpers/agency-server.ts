// An agency's own HTTPS endpoints for the proof-of-life tests: its JWKS (a CIBA agency registers a
// jwks_uri), the CIBA ping endpoint and the notification webhook, on 127.0.0.1 with a certificate
// made for the test by openssl (the gateway trusts it through oidc.outbound.caFile).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type Received = { path: string; authorization?: string; contentType?: string; body: string; at: number };

/** A self-signed certificate for 127.0.0.1 (a day), its key, and the file the gateway trusts. */
export function testCertificate(): { key: string; cert: string; caFile: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'facegate-tls-'));
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
  ], { stdio: 'ignore' });
  return {
    key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8'), caFile: join(dir, 'cert.pem'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** GET /jwks/:clientId serves that agency's public keys; every POST is recorded and answered `status`. */
export async function startAgencyServer(tls: { key: string; cert: string }) {
  const jwks = new Map<string, object>();
  const received: Received[] = [];
  const waiting: Array<() => void> = [];
  let status = 204;
  const server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      if (req.method === 'GET' && path.startsWith('/jwks/') && jwks.has(path.slice(6))) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks.get(path.slice(6))));
        return;
      }
      if (req.method !== 'POST') return void res.writeHead(404).end();
      received.push({ path, authorization: req.headers.authorization, contentType: req.headers['content-type'], body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
      for (const w of waiting.splice(0)) w();
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin, received,
    jwksUri: (clientId: string, keys: object) => { jwks.set(clientId, keys); return `${origin}/jwks/${clientId}`; },
    /** The next POST to `path` matching `test`, waiting up to `ms`. */
    async next(path: string, test: (r: Received) => boolean = () => true, ms = 60_000): Promise<Received> {
      const deadline = Date.now() + ms;
      for (;;) {
        const found = received.find((r) => r.path === path && test(r));
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no POST to ${path} within ${ms} ms`);
        await new Promise<void>((resolve) => { waiting.push(resolve); setTimeout(resolve, 250); });
      }
    },
    answer: (s: number) => { status = s; },
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

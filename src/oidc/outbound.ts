// Requests the gateway makes to agencies: oidc-provider's (an agency's jwks_uri, CIBA pings) through
// its `fetch` option, and the proof-of-life notification webhooks. The system's trust anchors plus
// oidc.outbound.caFile, and, unless oidc.outbound.allowPrivateNetworks, no connection to a loopback,
// private or other special-use address (SSRF), as oidc-provider's own dispatcher refuses them.
// Imports node only.
import { readFileSync } from 'node:fs';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP } from 'node:net';
import { Readable } from 'node:stream';
import { rootCertificates } from 'node:tls';

export type OutboundSettings = { allowPrivateNetworks: boolean; caFile?: string };
export type OutboundFetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** Special-use ranges (RFC 6890 and successors) a registered URL must not reach. */
const specialUse = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24],
  ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) specialUse.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [['::', 128], ['::1', 128], ['64:ff9b::', 96], ['100::', 64], ['2001:db8::', 32], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8]] as const) {
  specialUse.addSubnet(net, prefix, 'ipv6');
}

/** Whether an address is loopback, private, link-local or otherwise not globally routable. */
export function isSpecialUse(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return specialUse.check(mapped[1], 'ipv4');
  const family = isIP(address);
  return family === 0 ? true : specialUse.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

const refused = (host: string) => Object.assign(new Error(`${host} resolves to a special-use address: refused (oidc.outbound.allowPrivateNetworks)`), { code: 'ESPECIALUSE' });

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** dns.lookup that refuses special-use answers (net.connect calls it for every host name). */
function guardedLookup(hostname: string, options: object, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options }, ((err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => {
    if (err) return callback(err, address, family);
    const all = Array.isArray(address) ? address.map((a) => a.address) : [address];
    if (all.some(isSpecialUse)) return callback(refused(hostname), address, family);
    callback(null, address, family);
  }) as never);
}

/** A body as oidc-provider and the notifiers send them. */
function bodyOf(body: RequestInit['body']): string | Buffer | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return body;
  if (body instanceof URLSearchParams) return body.toString();
  if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return Buffer.from(body as ArrayBuffer);
  throw new TypeError('outbound fetch: unsupported body type');
}

/**
 * The fetch for requests to agencies, over node:http(s) (so the trust anchors and the address
 * check apply whatever realm it runs in): never follows a redirect, answers a WHATWG Response.
 * Also given to oidc-provider as its `fetch` option when oidc.outbound is set: it then stands for
 * the provider's own dispatcher (the same refusal of special-use addresses, plus the extra anchors).
 */
export function createOutboundFetch(settings: OutboundSettings): OutboundFetch {
  const ca = settings.caFile ? [...rootCertificates, readFileSync(settings.caFile, 'utf8')] : undefined;
  return (input, init = {}) => new Promise<Response>((resolve, reject) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const host = url.hostname.replace(/^\[|\]$/g, '');
    // An address in the URL is connected to without a lookup: checked here.
    if (!settings.allowPrivateNetworks && isIP(host) && isSpecialUse(host)) return reject(refused(host));
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return reject(new TypeError(`outbound fetch: ${url.protocol} is not http(s)`));
    const method = (init.method ?? 'GET').toUpperCase();
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, name) => { if (value !== '') headers[name] = value; });
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(url, {
      method, headers, signal: init.signal ?? undefined, ...(ca ? { ca } : {}), ...(settings.allowPrivateNetworks ? {} : { lookup: guardedLookup as never }),
    }, (res) => {
      const status = res.statusCode ?? 500;
      const out = new Headers();
      for (const [name, value] of Object.entries(res.headers)) for (const v of [value ?? []].flat()) out.append(name, String(v));
      const empty = [204, 205, 304].includes(status) || method === 'HEAD';
      if (empty) res.resume();
      resolve(new Response(empty ? null : Readable.toWeb(res) as ReadableStream, { status, headers: out }));
    });
    req.on('error', reject);
    req.end(bodyOf(init.body));
  });
}

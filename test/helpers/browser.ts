// A minimal user agent for driving the sign-in over HTTP: a cookie jar and manual redirects, so a
// test sees every hop (authorize → interaction → resume → redirect_uri).
export type Hop = { status: number; location?: string; body: string; json?: unknown; headers: Headers };

export function createBrowser(options: { headers?: Record<string, string>; timeoutMs?: number } = {}) {
  const jar = new Map<string, string>();
  const cookieHeader = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  async function request(url: string, init: RequestInit = {}): Promise<Hop> {
    const headers = new Headers(init.headers);
    for (const [k, v] of Object.entries(options.headers ?? {})) if (!headers.has(k)) headers.set(k, v);
    if (jar.size) headers.set('cookie', cookieHeader());
    const signal = options.timeoutMs ? AbortSignal.timeout(options.timeoutMs) : init.signal;
    const res = await fetch(url, { ...init, headers, redirect: 'manual', signal });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const at = pair.indexOf('=');
      const [name, value] = [pair.slice(0, at), pair.slice(at + 1)];
      if (/expires=Thu, 01 Jan 1970/i.test(c) || value === '') jar.delete(name);
      else jar.set(name, value);
    }
    const body = await res.text();
    let json: unknown;
    if ((res.headers.get('content-type') ?? '').includes('json')) json = JSON.parse(body);
    const location = res.headers.get('location') ? new URL(res.headers.get('location')!, url).href : undefined;
    return { status: res.status, location, body, json, headers: res.headers };
  }
  /** Follows redirects until one leaves `origin` or a page answers; returns the last hop. */
  async function follow(url: string, origin: string): Promise<Hop & { url: string }> {
    let current = url;
    for (let i = 0; i < 10; i++) {
      const hop = await request(current, { headers: { accept: 'text/html' } });
      if (!hop.location || !hop.location.startsWith(origin)) return { ...hop, url: current };
      current = hop.location;
    }
    throw new Error('too many redirects');
  }
  return { request, follow, jar };
}

// The page assets under views/static, read once at start and served with an ETag. A fixed list:
// nothing outside that folder can be named by a request.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { Middleware } from 'koa';

const types: Record<string, string> = { '.js': 'application/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml' };

export function serveStatic(dir: string, prefix = '/static/'): Middleware {
  const files = new Map(readdirSync(dir).filter((f) => types[extname(f)]).map((f) => {
    const body = readFileSync(join(dir, f));
    return [f, { body, type: types[extname(f)], etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"` }];
  }));
  return async (ctx, next) => {
    if (!ctx.path.startsWith(prefix) || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    const file = files.get(ctx.path.slice(prefix.length));
    if (!file) return next();
    ctx.set('ETag', file.etag);
    ctx.set('Cache-Control', 'public, max-age=300');
    if (ctx.get('if-none-match') === file.etag) {
      ctx.status = 304;
      return;
    }
    ctx.type = file.type;
    ctx.body = file.body;
  };
}

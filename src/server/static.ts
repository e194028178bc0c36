// The page assets under views/static, read once at start. Hashed names (`sign-in.<hash>.js`, what
// the pages reference) are cached for a year as immutable; the plain names still answer, revalidated
// by ETag. A fixed list: nothing outside that folder can be named by a request.
import type { Middleware } from 'koa';
import { assetManifest, type Asset } from '../../views/assets.ts';

/** Serves the files of `dir` at `<prefix><hashed name>` (immutable) and `<prefix><name>` (no-cache). */
export function serveStatic(dir: string, prefix = '/static/'): Middleware {
  const byName = assetManifest(dir);
  const files = new Map<string, { asset: Asset; cache: string }>();
  for (const asset of byName.values()) {
    files.set(asset.hashed, { asset, cache: 'public, max-age=31536000, immutable' });
    files.set(asset.file, { asset, cache: 'no-cache' });
  }
  return async (ctx, next) => {
    if (!ctx.path.startsWith(prefix) || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    const found = files.get(ctx.path.slice(prefix.length));
    if (!found) return next();
    const { asset, cache } = found;
    ctx.set('ETag', asset.etag);
    ctx.set('Cache-Control', cache);
    if (ctx.get('if-none-match') === asset.etag) {
      ctx.status = 304;
      return;
    }
    ctx.type = asset.type;
    ctx.body = asset.body;
  };
}

// Multipart parsing of captured frames (multer, in memory, with hard limits) and the mapping of
// its limit errors to stable codes: too big → 413 image_too_large, too many → too_many_frames.
import type { Context } from 'koa';
import multer from 'multer';
import { AppError } from '../shared/errors.ts';

export type Multipart = { files: Buffer[]; fields: Record<string, string> };

const limitCodes: Record<string, ConstructorParameters<typeof AppError>[0]> = {
  LIMIT_FILE_SIZE: 'image_too_large',
  LIMIT_FILE_COUNT: 'too_many_frames',
  LIMIT_PART_COUNT: 'too_many_frames',
  LIMIT_UNEXPECTED_FILE: 'invalid_input',
  LIMIT_FIELD_KEY: 'invalid_input',
  LIMIT_FIELD_VALUE: 'invalid_input',
  LIMIT_FIELD_COUNT: 'invalid_input',
};

/**
 * Reads up to `maxFiles` parts named `field` of at most `maxBytes` each, plus small text fields.
 * With `discardFiles` the file parts are read past and dropped, never kept in memory (a form whose
 * files are not used).
 */
export async function readMultipart(ctx: Context, field: string, maxFiles: number, maxBytes: number, options: { discardFiles?: boolean } = {}): Promise<Multipart> {
  if (!ctx.is('multipart/form-data')) throw new AppError('invalid_input', `send the images as multipart/form-data parts named "${field}"`);
  const upload = multer({
    storage: multer.memoryStorage(),
    limits: { fileSize: maxBytes, files: maxFiles, fields: 8, fieldSize: 16 * 1024, parts: maxFiles + 8 },
    ...(options.discardFiles ? { fileFilter: (_req: unknown, _file: unknown, keep: (e: null, k: boolean) => void) => keep(null, false) } : {}),
  }).array(field, maxFiles);
  const req = ctx.req as typeof ctx.req & { files?: Express.Multer.File[]; body?: Record<string, string> };
  await new Promise<void>((resolve, reject) => {
    upload(req as never, ctx.res as never, (err: unknown) => {
      if (!err) return resolve();
      const code = (err as { code?: string }).code;
      if (code === 'LIMIT_UNEXPECTED_FILE') return reject(new AppError('invalid_input', `unexpected file field; images go in parts named "${field}"`));
      if (code && limitCodes[code]) return reject(new AppError(limitCodes[code], undefined, { limit: code }));
      reject(new AppError('invalid_input', 'the multipart body could not be read'));
    });
  });
  return { files: (req.files ?? []).map((f) => f.buffer), fields: { ...(req.body ?? {}) } };
}

// Content keys: what a result was made from, as a short hash. A result is
// reused only when its key matches, so editing an image or retraining a
// model makes it again. File hashes are remembered per (path, size, mtime):
// a worker reads a 20 MB model once, not once per job.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isRefinedModel, REFINED_FILE } from '../refine/checkpoint.js';
import { FINE_FILE } from '../refine/fine/model-file.js';
import { extractorFile } from './models.js';

export const hashOf = (...parts: (string | Uint8Array)[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex').slice(0, 32);
};

const known = new Map<string, { stamp: string; key: string }>();

/** Hash of a file's bytes. */
export async function fileKey(path: string): Promise<string> {
  const s = await stat(path);
  const stamp = `${s.size}|${s.mtimeMs}`;
  const seen = known.get(path);
  if (seen?.stamp === stamp) return seen.key;
  const key = hashOf(await readFile(path));
  known.set(path, { stamp, key });
  return key;
}

/** The weights a model folder (or extractor file) detects with: a refined model's, with its fine stage when used. */
export async function modelKey(path: string, o: { fine?: boolean } = {}): Promise<string> {
  if (!isRefinedModel(path)) return `extractor:${await fileKey(extractorFile(path))}`;
  const fine = o.fine !== false && existsSync(join(path, FINE_FILE));
  return `refined:${await fileKey(join(path, REFINED_FILE))}${fine ? `+${await fileKey(join(path, FINE_FILE))}` : ''}`;
}

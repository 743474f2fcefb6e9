// `fewmark phantom`: the phantom dataset (src/phantom/dataset.ts) with a
// progress line every ~10% for large sets; a bad option is a usage error.
import { type PhantomOptions, type PhantomResult, writePhantomDataset } from '../../phantom/dataset.js';
import { UsageError } from '../errors.js';

export type { PhantomOptions, PhantomResult } from '../../phantom/dataset.js';

export async function phantom(options: PhantomOptions & { quiet?: boolean }): Promise<PhantomResult> {
  const report =
    options.onProgress ??
    (options.quiet || options.n < 50
      ? undefined
      : (done: number, total: number) => {
          const step = Math.ceil(total / 10);
          if (done % step === 0 || done === total)
            process.stderr.write(`phantom: ${done}/${total} images (${Math.round((100 * done) / total)}%)\n`);
        });
  try {
    return await writePhantomDataset({ ...options, onProgress: report });
  } catch (err) {
    if (err instanceof RangeError) throw new UsageError(err.message);
    throw err;
  }
}

// The fine stage after the self-training rounds: the last round's network
// labels the unlabeled images (OUT/stage1-labels.csv, kept for people to
// inspect), the labeled and pseudo-labeled images are
// loaded at fine resolution, and the fine network trains into OUT beside
// the first stage.
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DataError } from '../../io/errors.js';
import { imageId } from '../../io/folder.js';
import { findImage } from '../../io/image-ids.js';
import { isMissing } from '../../io/types.js';
import type { LoopResult } from '../../util/training-loop.js';
import type { RefineConfig } from '../config.js';
import type { RoundHooks } from '../hooks.js';
import { type LabeledImage, readPseudoLabels } from '../load.js';
import { relabel } from '../relabel.js';
import { loadFineImage, toFinePoint } from './images.js';
import { FINE_CHECKPOINT_FILE } from './model-file.js';
import type { FineSample } from './train.js';
import { trainFineStage } from './train.js';

/** The first stage's labels of the unlabeled images, which the fine stage trains on. */
export const STAGE1_LABELS_FILE = 'stage1-labels.csv';

export interface FineStageInput {
  /** The refined model's folder, its first stage trained. */
  out: string;
  config: RefineConfig;
  labeled: LabeledImage[];
  unlabeled: string[];
  landmarks: string[];
  resume?: boolean;
}

export async function trainFineAfterRounds(input: FineStageInput, hooks: RoundHooks): Promise<LoopResult> {
  const { out, config } = input;
  const labelsFile = join(out, STAGE1_LABELS_FILE);
  // Made again on every run, resumed ones too (about 0.1 s an image): a
  // resumed first stage may have trained on. Unchanged, it labels the same
  // and the fine checkpoint resumes; changed, the fine stage starts over.
  const before = existsSync(labelsFile) ? await readFile(labelsFile, 'utf8') : undefined;
  hooks.log?.(`labeling the unlabeled images with the first stage for the fine stage: ${labelsFile}`);
  await relabel(out, input.unlabeled, labelsFile, hooks, { fine: false });
  const checkpoint = join(out, FINE_CHECKPOINT_FILE);
  if (existsSync(checkpoint) && before !== (await readFile(labelsFile, 'utf8'))) {
    hooks.log?.('the first stage has changed since the fine stage was trained: the fine stage starts over');
    await rm(checkpoint);
  }
  const byId = new Map(input.unlabeled.map((f) => [imageId(f), f]));
  const pseudo = (await readPseudoLabels(labelsFile)).images.map((p) => {
    const file = findImage(p.id, byId);
    if (!file) throw new DataError(labelsFile, `image '${p.id}' is not among the unlabeled images`);
    return { id: p.id, file, points: p.points };
  });

  const all = [
    ...input.labeled.map((im) => ({ im, labeled: true })),
    ...pseudo.map((im) => ({ im, labeled: false })),
  ];
  const samples: FineSample[] = [];
  try {
    for (const { im, labeled } of all) {
      if (hooks.signal?.aborted) throw hooks.signal.reason;
      const image = await loadFineImage(im.file, config.fine.longSide);
      samples.push({
        id: im.id,
        image,
        points: im.points.map((p) => (isMissing(p) ? p : toFinePoint(p, image))),
        labeled,
      });
      hooks.progress?.('loading images (fine)', samples.length, all.length);
    }
    const run = hooks.training?.(config.fine, 'fine stage');
    try {
      return await trainFineStage({
        samples,
        landmarks: input.landmarks,
        out,
        config: config.fine,
        seed: config.seed,
        checkpointMinutes: config.checkpointMinutes,
        resume: input.resume,
        shouldStop: () => (run?.shouldStop() ?? false) || hooks.signal?.aborted === true,
        onStep: run ? (s) => run.step(s) : undefined,
        onCheckpoint: run ? (path, step) => run.onCheckpoint(path, step) : undefined,
      });
    } finally {
      run?.end();
    }
  } finally {
    for (const s of samples) s.image.pixels.dispose();
  }
}

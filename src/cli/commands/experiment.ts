// `fewmark experiment selection`: the SCP against random templates and the
// baselines on ISBI 2015, with the search, direction and key point tables
// and the figures (see src/experiment/selection-experiment.ts).
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import {
  runSelectionExperiment,
  type SelectionExperimentResult,
} from '../../experiment/selection-experiment.js';
import { writeSelectionOutputs } from '../../experiment/selection-report.js';
import { FeatureCache } from '../../features/cache.js';
import { loadExtractor } from '../../features/checkpoint.js';
import { DataError } from '../../io/errors.js';
import type { ProposalMethod } from '../../keypoints/propose.js';
import { UsageError } from '../errors.js';
import { type Progress, startProgress } from '../progress.js';
import { extractorPath } from './detect.js';

export interface ExperimentSelectionOptions {
  data: string;
  model: string;
  out: string;
  budgets: number[];
  randomSets: number;
  searchSets: number;
  keypoints: string;
  maxKeypoints: number;
  contrastThreshold: number;
  gridStride: number;
  ablation: boolean;
  ablationGridStride: number;
  seed: number;
  poolLimit?: number;
  targetLimit?: number;
  targets: string;
  fusion: string;
}

const METHODS: ProposalMethod[] = ['sift', 'orb', 'akaze', 'random', 'grid'];

export async function experimentSelection(
  o: ExperimentSelectionOptions,
): Promise<{ result: SelectionExperimentResult; out: string }> {
  const data = resolve(o.data);
  if (!existsSync(join(data, 'RawImage')))
    throw new DataError(data, 'not the ISBI 2015 folder (no RawImage/ inside); pass --data');
  if (o.targets !== 'test1' && o.targets !== 'train')
    throw new UsageError(`--targets must be test1 or train, got ${o.targets}`);
  if (o.fusion !== 'max-peak' && o.fusion !== 'median')
    throw new UsageError(`--fusion must be max-peak or median, got ${o.fusion}`);
  if (!METHODS.includes(o.keypoints as ProposalMethod))
    throw new UsageError(`--keypoints must be one of ${METHODS.join(', ')}, got ${o.keypoints}`);
  if (o.budgets.some((m) => !Number.isInteger(m) || m < 1 || m > (o.poolLimit ?? 150)))
    throw new UsageError(
      `--budgets must be integers in 1..${o.poolLimit ?? 150}, got ${o.budgets.join(',')}`,
    );
  const modelFile = extractorPath(o.model);
  const { model, meta } = await loadExtractor(modelFile);
  const cache = await FeatureCache.open(join(dirname(modelFile), 'cache'), modelFile);
  const out = resolve(o.out);
  await mkdir(out, { recursive: true });
  const bars = new Map<string, Progress>();
  const result = await runSelectionExperiment({
    data,
    model,
    inputSize: meta.inputSize,
    cache,
    out,
    budgets: [...o.budgets].sort((a, b) => a - b),
    randomSets: o.randomSets,
    searchSets: o.searchSets,
    keypoints: {
      method: o.keypoints as ProposalMethod,
      maxPoints: o.maxKeypoints,
      contrastThreshold: o.contrastThreshold,
    },
    gridStride: o.gridStride,
    ablation: o.ablation,
    ablationGridStride: o.ablationGridStride,
    ablationMethods: METHODS,
    ablationCounts: [50, 75, 100, 150],
    seed: o.seed,
    targets: o.targets,
    fusion: o.fusion,
    poolLimit: o.poolLimit,
    targetLimit: o.targetLimit,
    log: (line) => process.stderr.write(`${line}\n`),
    progress: (label, done, total) => {
      let bar = bars.get(label);
      if (!bar) {
        bar = startProgress(label, total);
        bars.set(label, bar);
      }
      bar.update(done);
      if (done >= total) bar.stop();
    },
  });
  const header = [
    `Command: \`fewmark experiment selection --model ${o.model} --targets ${o.targets} --fusion ${o.fusion} --random-sets ${o.randomSets} --search-sets ${o.searchSets} --keypoints ${o.keypoints} --max-keypoints ${o.maxKeypoints} --grid-stride ${o.gridStride} --seed ${o.seed}\``,
    `Extractor: ${modelFile} (input ${meta.inputSize}x${meta.inputSize}); key points ${o.keypoints}, at most ${o.maxKeypoints} per image, contrast threshold ${o.contrastThreshold}; similarity maximum on a stride-${o.gridStride} grid (key point ablation: stride ${o.ablationGridStride}).`,
  ];
  await writeSelectionOutputs(result, out, header);
  return { result, out };
}

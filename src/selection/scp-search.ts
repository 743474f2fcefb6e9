// The SCP strategies' searches over a similarity matrix, shared by the
// exact and the sampled selection; the chosen set comes back in greedy order.
import { greedyOrder } from './ranking.js';
import { exhaustiveSingle, greedy, greedySwap, randomSearch, type SimilarityMatrix } from './search.js';

export type ScpStrategy = 'scp' | 'scp-greedy' | 'scp-random';

export interface ScpSearchOptions {
  /** Columns labeled already: they count as chosen. */
  labeled: readonly number[];
  /** scp-random: how many random sets to score. */
  randomSets: number;
  seed: number;
}

export function searchScp(
  r: SimilarityMatrix,
  strategy: ScpStrategy,
  m: number,
  o: ScpSearchOptions,
): { order: number[]; evaluated?: number } {
  const labeled = [...o.labeled];
  if (strategy === 'scp-random') {
    const found = randomSearch(r, m, o.randomSets, o.seed);
    return { order: greedyOrder(r, found.selected), evaluated: found.evaluated };
  }
  if (strategy === 'scp-greedy')
    return { order: greedy(r, labeled.length + m, labeled).selected.slice(labeled.length) };
  const found = m === 1 && labeled.length === 0 ? exhaustiveSingle(r) : greedySwap(r, m, undefined, labeled);
  return { order: greedyOrder(r, found.selected, labeled) };
}

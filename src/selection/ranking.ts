// Turning a chosen set into a ranked list under the representativeness
// score R: an order in which each image adds as much as it can to those
// before it, and each prefix's R with the gain of its last image. The
// order matters to a user who may annotate only the first few of the list.
import { type SimilarityMatrix, score } from './search.js';

/**
 * The members of a set in greedy order: each next member is the one that
 * adds most to R of the members before it (ties: the earlier one in `set`).
 * After swaps the set is no longer in greedy order; this restores one.
 * `given` members (labeled already) count as before all of them.
 */
export function greedyOrder(
  r: SimilarityMatrix,
  set: readonly number[],
  given: readonly number[] = [],
): number[] {
  const { rows, candidates: J, values } = r;
  const current = new Float64Array(rows).fill(Number.NEGATIVE_INFINITY);
  for (const j of given)
    for (let p = 0; p < rows; p++) current[p] = Math.max(current[p]!, values[p * J + j]!);
  const rest = [...set];
  const order: number[] = [];
  while (rest.length > 0) {
    let best = 0;
    let bestGain = Number.NEGATIVE_INFINITY;
    rest.forEach((j, i) => {
      let gain = 0;
      for (let p = 0; p < rows; p++) {
        const v = values[p * J + j]!;
        const c = current[p]!;
        gain += c === Number.NEGATIVE_INFINITY ? v : Math.max(v - c, 0);
      }
      if (gain > bestGain) {
        bestGain = gain;
        best = i;
      }
    });
    const [j] = rest.splice(best, 1) as [number];
    order.push(j);
    for (let p = 0; p < rows; p++) current[p] = Math.max(current[p]!, values[p * J + j]!);
  }
  return order;
}

/**
 * For each prefix of `order`: its R (through `score`, so it equals R
 * recomputed) and the gain of its last member; `given` members (labeled
 * already) are in every prefix.
 */
export function prefixScores(
  r: SimilarityMatrix,
  order: readonly number[],
  given: readonly number[] = [],
): { score: number; gain: number }[] {
  let previous = score(r, given);
  return order.map((_, i) => {
    const s = score(r, [...given, ...order.slice(0, i + 1)]);
    const out = { score: s, gain: s - previous };
    previous = s;
    return out;
  });
}

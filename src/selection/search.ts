// Searching for the template set with the highest representativeness
// (DESIGN.md, method steps 4-5). The score is a facility-location function:
// for a similarity matrix r[p, j] (p: a key point of some image, j: a
// candidate template) R(S) = mean over p of max over j in S of r[p, j].
// It is monotone submodular, so greedy selection is within (1 - 1/e) of the
// optimum, and swaps can only improve it. Pure functions, no I/O.
import { Rng } from '../util/random.js';

/** r[p, j] as a dense row-major matrix: P key points x J candidates. */
export interface SimilarityMatrix {
  rows: number;
  candidates: number;
  values: Float32Array;
}

export interface SearchResult {
  /** Chosen candidate indices, in the order they were picked. */
  selected: number[];
  score: number;
  seconds: number;
  /** Greedy only: the score each pick added. */
  gains?: number[];
  /** Random sampling only: how many sets were scored. */
  evaluated?: number;
}

export function score(r: SimilarityMatrix, set: readonly number[]): number {
  if (set.length === 0) return 0;
  const { rows, candidates: J, values } = r;
  let total = 0;
  for (let p = 0; p < rows; p++) {
    let best = Number.NEGATIVE_INFINITY;
    for (const j of set) best = Math.max(best, values[p * J + j]!);
    total += best;
  }
  return total / rows;
}

const timed = <T>(fn: () => T): [T, number] => {
  const t0 = performance.now();
  const out = fn();
  return [out, (performance.now() - t0) / 1000];
};

function checkBudget(r: SimilarityMatrix, m: number): void {
  if (!Number.isInteger(m) || m < 1 || m > r.candidates)
    throw new RangeError(`selection: budget must be an integer in 1..${r.candidates}, got ${m}`);
}

/** Every single candidate's score (M = 1 exhaustively), best first. */
export function rankSingles(r: SimilarityMatrix): { candidate: number; score: number }[] {
  const { rows, candidates: J, values } = r;
  const sums = new Float64Array(J);
  for (let p = 0; p < rows; p++) for (let j = 0; j < J; j++) sums[j]! += values[p * J + j]!;
  return Array.from(sums, (s, j) => ({ candidate: j, score: s / rows })).sort((a, b) => b.score - a.score);
}

export function exhaustiveSingle(r: SimilarityMatrix): SearchResult {
  const [ranked, seconds] = timed(() => rankSingles(r));
  return { selected: [ranked[0]!.candidate], score: ranked[0]!.score, seconds };
}

/** The seed paper's search: the best of `count` uniformly random sets of size m. */
export function randomSearch(r: SimilarityMatrix, m: number, count: number, seed = 0): SearchResult {
  checkBudget(r, m);
  const rng = new Rng(seed, 0x5e1ec7);
  const [best, seconds] = timed(() => {
    let top = { selected: [] as number[], score: Number.NEGATIVE_INFINITY };
    for (let i = 0; i < count; i++) {
      const set = rng.permutation(r.candidates).slice(0, m);
      const s = score(r, set);
      if (s > top.score) top = { selected: set, score: s };
    }
    return top;
  });
  return { ...best, seconds, evaluated: count };
}

/** Greedy: repeatedly add the candidate with the largest marginal gain. */
export function greedy(r: SimilarityMatrix, m: number, forced: number[] = []): SearchResult {
  checkBudget(r, m);
  const [result, seconds] = timed(() => {
    const { rows, candidates: J, values } = r;
    const current = new Float64Array(rows).fill(Number.NEGATIVE_INFINITY);
    const selected: number[] = [];
    const gains: number[] = [];
    let total = 0;
    for (let step = 0; step < m; step++) {
      let bestJ = -1;
      let bestGain = Number.NEGATIVE_INFINITY;
      for (let j = 0; j < J; j++) {
        if (selected.includes(j) || (step < forced.length && j !== forced[step])) continue;
        let gain = 0;
        for (let p = 0; p < rows; p++) {
          const v = values[p * J + j]!;
          const c = current[p]!;
          gain += c === Number.NEGATIVE_INFINITY ? v : v > c ? v - c : 0;
        }
        if (gain > bestGain) {
          bestGain = gain;
          bestJ = j;
        }
      }
      selected.push(bestJ);
      gains.push(bestGain / rows);
      total += bestGain;
      for (let p = 0; p < rows; p++) current[p] = Math.max(current[p]!, values[p * J + bestJ]!);
    }
    return { selected, gains, score: total / rows };
  });
  return { ...result, seconds };
}

/**
 * Local search from a starting set: swap one member for one outsider while
 * that raises the score (first improvement, until no swap helps). Each
 * row's best and second-best member make a candidate swap O(P). The first
 * `pinned` members (images labeled already) are never swapped out.
 */
export function swapSearch(r: SimilarityMatrix, start: number[], pinned = 0): SearchResult {
  const [result, seconds] = timed(() => {
    const { rows, candidates: J, values } = r;
    const set = [...start];
    let current = score(r, set);
    let improved = true;
    while (improved) {
      improved = false;
      // best and second best value per row over the set, and who holds the best
      const first = new Float64Array(rows);
      const second = new Float64Array(rows);
      const owner = new Int32Array(rows);
      for (let p = 0; p < rows; p++) {
        let a = Number.NEGATIVE_INFINITY;
        let b = Number.NEGATIVE_INFINITY;
        let who = -1;
        for (const j of set) {
          const v = values[p * J + j]!;
          if (v > a) {
            b = a;
            a = v;
            who = j;
          } else if (v > b) b = v;
        }
        first[p] = a;
        second[p] = b;
        owner[p] = who;
      }
      search: for (let i = pinned; i < set.length; i++) {
        const out = set[i]!;
        for (let j = 0; j < J; j++) {
          if (set.includes(j)) continue;
          let total = 0;
          for (let p = 0; p < rows; p++) {
            const keep = owner[p] === out ? second[p]! : first[p]!;
            const v = values[p * J + j]!;
            total += Math.max(v, keep);
          }
          const s = total / rows;
          if (s > current + 1e-12) {
            set[i] = j;
            current = s;
            improved = true;
            break search;
          }
        }
      }
    }
    return { selected: set, score: current };
  });
  return { ...result, seconds };
}

/**
 * Greedy, then swaps (the recommended strategy); restarted from greedy sets that begin with each of
 * the next best single images, since one swap at a time can stall in a
 * local optimum (ISBI, M=2-3: 1e-4 below the best of 100,000 random sets
 * without restarts). Gains are the plain greedy's.
 *
 * With `labeled` (images annotated already, in an earlier round) the set
 * starts with them and m more are chosen around them; the result lists
 * only the m new ones, and its score is R of labeled and new together.
 */
export function greedySwap(
  r: SimilarityMatrix,
  m: number,
  restarts = 8,
  labeled: number[] = [],
): SearchResult {
  const started = performance.now();
  const k = labeled.length;
  const g = greedy(r, k + m, labeled);
  const newOnes = (s: SearchResult) => ({ ...s, selected: s.selected.slice(k), gains: s.gains?.slice(k) });
  if (m === 1 && k === 0) return g;
  let best = swapSearch(r, g.selected, k);
  const firsts = rankSingles(r)
    .map((x) => x.candidate)
    .filter((c) => c !== g.selected[k] && !labeled.includes(c))
    .slice(0, restarts);
  for (const first of firsts) {
    const s = swapSearch(r, greedy(r, k + m, [...labeled, first]).selected, k);
    if (s.score > best.score + 1e-12) best = s;
  }
  return newOnes({
    selected: best.selected,
    score: best.score,
    seconds: (performance.now() - started) / 1000,
    gains: g.gains,
  });
}

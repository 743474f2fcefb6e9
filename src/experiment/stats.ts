// Small statistics for experiment reports: correlation and where a value
// ranks in a distribution.

export function pearson(x: readonly number[], y: readonly number[]): number {
  const n = x.length;
  const mx = x.reduce((s, v) => s + v, 0) / n;
  const my = y.reduce((s, v) => s + v, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i]! - mx) * (y[i]! - my);
    sxx += (x[i]! - mx) ** 2;
    syy += (y[i]! - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

/** Ranks 1..n, ties sharing their mean rank. */
function ranks(v: readonly number[]): number[] {
  const order = v.map((x, i) => [x, i] as const).sort((a, b) => a[0] - b[0]);
  const r = new Array<number>(v.length);
  for (let k = 0; k < order.length; ) {
    let end = k;
    while (end + 1 < order.length && order[end + 1]![0] === order[k]![0]) end++;
    for (let t = k; t <= end; t++) r[order[t]![1]] = (k + end) / 2 + 1;
    k = end + 1;
  }
  return r;
}

export const spearman = (x: readonly number[], y: readonly number[]) => pearson(ranks(x), ranks(y));

/** 1 + how many of `others` are strictly lower than `value` (1 = best when lower is better). */
export const rankAmong = (value: number, others: readonly number[]) =>
  1 + others.filter((o) => o < value).length;

export interface Distribution {
  count: number;
  mean: number;
  std: number;
  best: number;
  worst: number;
}

export function distribution(v: readonly number[]): Distribution {
  const mean = v.reduce((s, x) => s + x, 0) / v.length;
  const std = Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / v.length);
  return { count: v.length, mean, std, best: Math.min(...v), worst: Math.max(...v) };
}

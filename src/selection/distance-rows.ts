// Euclidean distances between points of an embedding set by one matrix
// product in libtorch (|a|^2 + |b|^2 - 2ab): from a few points to the whole
// pool costs rows x N x D, which at 10,000 images is a fraction of a second
// where a JavaScript loop would take seconds.
import type { Tensor } from '../engine/index.js';
import * as E from '../engine/index.js';
import type { PointSet } from './baselines.js';

export class DistanceRows {
  private constructor(
    private readonly points: Tensor,
    private readonly squaredNorms: Tensor,
    readonly count: number,
  ) {}

  static of(p: PointSet): DistanceRows {
    const points = E.tensor(p.values, [p.count, p.dim]).keep();
    const squaredNorms = E.tidy(() => points.square().sum(1)).keep();
    return new DistanceRows(points, squaredNorms, p.count);
  }

  /** Distances from the points `rows` to the points `columns` (default all): [row * columns + column]. */
  rows(rows: readonly number[], columns?: readonly number[]): Float64Array {
    const width = columns ? columns.length : this.count;
    if (rows.length === 0 || width === 0) return new Float64Array(0);
    const pick = (indices: readonly number[]) => E.tensor([...indices], [indices.length], 'int64');
    const values = E.tidy(() => {
      const a = this.points.indexSelect(0, pick(rows));
      const b = columns ? this.points.indexSelect(0, pick(columns)) : this.points;
      const bNorms = columns ? this.squaredNorms.indexSelect(0, pick(columns)) : this.squaredNorms;
      const squared = a
        .square()
        .sum(1, true)
        .add(bNorms.reshape([1, width]))
        .sub(a.matmul(b.transpose(0, 1)).mul(2));
      return squared.clamp(0).sqrt().data() as Float32Array;
    });
    return Float64Array.from(values);
  }

  dispose(): void {
    this.points.dispose();
    this.squaredNorms.dispose();
  }
}

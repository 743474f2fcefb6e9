// Adam and AdamW. The update runs natively in place (one op per parameter);
// the moment estimates live here as tensors so checkpoints can hold them.
import { zeros } from '../ops/create.js';
import type { Tensor } from '../tensor.js';
import { run } from '../tensor.js';
import { Optimizer } from './optimizer.js';

export interface AdamOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  /** AdamW: decay the weights directly instead of adding wd*w to the gradient. */
  decoupled?: boolean;
}

export class Adam extends Optimizer {
  readonly betas: [number, number];
  readonly eps: number;
  weightDecay: number;
  readonly decoupled: boolean;
  readonly #expAvg: Tensor[];
  readonly #expAvgSq: Tensor[];

  constructor(params: Tensor[], o: AdamOptions = {}) {
    super(params, o.lr ?? 1e-3);
    this.betas = o.betas ?? [0.9, 0.999];
    this.eps = o.eps ?? 1e-8;
    this.weightDecay = o.weightDecay ?? 0;
    this.decoupled = o.decoupled ?? false;
    this.#expAvg = params.map((p) => zeros([...p.shape], p.dtype).keep());
    this.#expAvgSq = params.map((p) => zeros([...p.shape], p.dtype).keep());
  }

  step(): void {
    this.stepCount++;
    const [b1, b2] = this.betas;
    for (let i = 0; i < this.params.length; i++) {
      run('adam_step', [
        this.params[i]!,
        this.#expAvg[i]!,
        this.#expAvgSq[i]!,
        this.stepCount,
        this.lr,
        b1,
        b2,
        this.eps,
        this.weightDecay,
        this.decoupled,
      ]);
    }
  }

  stateTensors(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    this.#expAvg.forEach((t, i) => {
      out[`${i}.exp_avg`] = t;
    });
    this.#expAvgSq.forEach((t, i) => {
      out[`${i}.exp_avg_sq`] = t;
    });
    return out;
  }
}

/** Adam with decoupled weight decay (Loshchilov & Hutter), default decay 0.01. */
export class AdamW extends Adam {
  constructor(params: Tensor[], o: Omit<AdamOptions, 'decoupled'> = {}) {
    super(params, { weightDecay: 0.01, ...o, decoupled: true });
  }
}

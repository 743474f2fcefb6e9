// Stochastic gradient descent with optional momentum and weight decay.
import { zeros } from '../ops/create.js';
import type { Tensor } from '../tensor.js';
import { run } from '../tensor.js';
import { Optimizer } from './optimizer.js';

export interface SgdOptions {
  lr: number;
  momentum?: number;
  weightDecay?: number;
}

export class SGD extends Optimizer {
  readonly momentum: number;
  readonly weightDecay: number;
  readonly #buffers: Tensor[];

  constructor(params: Tensor[], o: SgdOptions) {
    super(params, o.lr);
    this.momentum = o.momentum ?? 0;
    this.weightDecay = o.weightDecay ?? 0;
    this.#buffers = this.momentum ? params.map((p) => zeros([...p.shape], p.dtype).keep()) : [];
  }

  step(): void {
    this.stepCount++;
    this.params.forEach((p, i) => {
      run('sgd_step', [p, this.#buffers[i] ?? null, this.lr, this.momentum, this.weightDecay]);
    });
  }

  stateTensors(): Record<string, Tensor> {
    return Object.fromEntries(this.#buffers.map((t, i) => [`${i}.momentum`, t]));
  }
}

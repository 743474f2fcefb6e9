// Optimiser base: parameters, a settable learning rate, and state tensors
// that a checkpoint can save and restore (so --resume continues exactly).
import type { Tensor } from '../tensor.js';

export abstract class Optimizer {
  lr: number;
  stepCount = 0;

  constructor(
    readonly params: Tensor[],
    lr: number,
  ) {
    if (!(lr > 0)) throw new RangeError(`Optimizer: learning rate must be positive, got ${lr}`);
    this.lr = lr;
  }

  abstract step(): void;

  zeroGrad(): void {
    for (const p of this.params) p.zeroGrad();
  }

  /** State tensors by name, e.g. "3.exp_avg" for parameter 3. */
  abstract stateTensors(): Record<string, Tensor>;

  stateDict(): { tensors: Record<string, Tensor>; stepCount: number; lr: number } {
    return { tensors: this.stateTensors(), stepCount: this.stepCount, lr: this.lr };
  }

  loadStateDict(state: { tensors: Record<string, Tensor>; stepCount: number; lr: number }): void {
    const own = this.stateTensors();
    for (const [k, t] of Object.entries(own)) {
      const src = state.tensors[k];
      if (!src || src.shape.join() !== t.shape.join())
        throw new Error(`Optimizer.loadStateDict: state ${k} is missing or has the wrong shape`);
      t.copy_(src);
    }
    this.stepCount = state.stepCount;
    this.lr = state.lr;
  }

  dispose(): void {
    for (const t of Object.values(this.stateTensors())) t.dispose();
  }
}

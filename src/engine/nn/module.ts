// Module: a tree of named parameters, buffers and child modules, with
// train/eval mode and a state dict. Subclasses define their own forward().
import { noGrad } from '../runtime.js';
import type { Tensor } from '../tensor.js';

export abstract class Module {
  training = true;
  readonly #params = new Map<string, Tensor>();
  readonly #buffers = new Map<string, Tensor>();
  readonly #children = new Map<string, Module>();

  /** Registers a trainable tensor; it is kept alive and records gradients. */
  protected param(name: string, t: Tensor): Tensor {
    this.#params.set(name, t.keep().requiresGrad_(true));
    return t;
  }

  /** Registers a non-trainable state tensor (e.g. running statistics). */
  protected buffer(name: string, t: Tensor): Tensor {
    this.#buffers.set(name, t.keep());
    return t;
  }

  protected child<M extends Module>(name: string, m: M): M {
    this.#children.set(name, m);
    return m;
  }

  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [k, t] of this.#params) out.push([prefix + k, t]);
    for (const [k, m] of this.#children) out.push(...m.namedParameters(`${prefix}${k}.`));
    return out;
  }

  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [k, t] of this.#buffers) out.push([prefix + k, t]);
    for (const [k, m] of this.#children) out.push(...m.namedBuffers(`${prefix}${k}.`));
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  parameterCount(): number {
    return this.parameters().reduce((n, t) => n + t.size, 0);
  }

  /** Parameters and buffers by dotted name (the safetensors keys). */
  stateDict(): Record<string, Tensor> {
    return Object.fromEntries([...this.namedParameters(), ...this.namedBuffers()]);
  }

  /** Copies values in; every key must exist with the same shape. */
  loadStateDict(state: Record<string, Tensor>, source = 'state dict'): void {
    const own = this.stateDict();
    const missing = Object.keys(own).filter((k) => !(k in state));
    const extra = Object.keys(state).filter((k) => !(k in own));
    if (missing.length || extra.length)
      throw new Error(
        `loadStateDict: ${source} does not fit this model` +
          (missing.length ? `; missing: ${missing.slice(0, 5).join(', ')}` : '') +
          (extra.length ? `; unexpected: ${extra.slice(0, 5).join(', ')}` : ''),
      );
    for (const [k, t] of Object.entries(own)) {
      const src = state[k]!;
      if (src.shape.join() !== t.shape.join())
        throw new Error(
          `loadStateDict: ${source} has ${k} of shape [${src.shape.join(', ')}], model needs [${t.shape.join(', ')}]`,
        );
      noGrad(() => t.copy_(src));
    }
  }

  train(on = true): this {
    this.training = on;
    for (const m of this.#children.values()) m.train(on);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  zeroGrad(): void {
    for (const t of this.parameters()) t.zeroGrad();
  }

  dispose(): void {
    for (const [, t] of [...this.namedParameters(), ...this.namedBuffers()]) t.dispose();
  }
}

/** A module mapping one tensor to one tensor, composable in Sequential. */
export abstract class Layer extends Module {
  abstract forward(x: Tensor): Tensor;
}

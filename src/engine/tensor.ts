// The Tensor handle: an id into the native table plus its shape and dtype.
// Chained methods are one-line calls of `run`; argument checks that ATen
// would report obscurely are done here first.
import { NativeError } from './errors.js';
import { type DType, native, type OpArg, type TensorInfo } from './native.js';
import { keep, track } from './scope.js';

export type { DType } from './native.js';
export type TypedData = Float32Array | Float64Array | BigInt64Array | Uint8Array;

// Frees native memory of tensors that were dropped without dispose().
const finalizer = new FinalizationRegistry<{ id: number; reported: number }>((held) => {
  native.release(held.id);
  if (held.reported) native.externalMemory(-held.reported);
});

export class Tensor {
  readonly id: number;
  readonly shape: readonly number[];
  readonly dtype: DType;
  kept = false;
  #disposed = false;
  readonly #nbytes: number;
  // Bytes reported to V8 as external memory. Only tensors whose release
  // waits on the GC are reported: reporting every scoped temporary made V8
  // collect once per training step for nothing (+15% step time, measured).
  readonly #held: { id: number; reported: number };

  constructor(info: TensorInfo) {
    this.id = info.id;
    this.shape = info.shape;
    this.dtype = info.dtype;
    this.#nbytes = info.nbytes;
    this.#held = { id: info.id, reported: 0 };
    finalizer.register(this, this.#held, this);
    if (!track(this)) this.unscoped();
  }

  /** The scope no longer frees this tensor: V8 must account for it. */
  unscoped(): void {
    if (this.#held.reported || this.#disposed || !this.#nbytes) return;
    this.#held.reported = this.#nbytes;
    native.externalMemory(this.#nbytes);
  }

  get rank(): number {
    return this.shape.length;
  }

  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  get isDisposed(): boolean {
    return this.#disposed;
  }

  /** Frees the native memory now. Safe to call twice. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    finalizer.unregister(this);
    native.release(this.id);
    if (this.#held.reported) native.externalMemory(-this.#held.reported);
  }

  /** Keeps this tensor alive past the enclosing tidy() scopes. */
  keep(): this {
    return keep(this);
  }

  throwIfDisposed(fn: string): void {
    if (this.#disposed)
      throw new Error(`${fn}: tensor of shape [${this.shape.join(', ')}] was already disposed`);
  }

  // ---- reading
  data(): TypedData {
    this.throwIfDisposed('data');
    const buf = native.read(this.id);
    switch (this.dtype) {
      case 'float32':
        return new Float32Array(buf);
      case 'float64':
        return new Float64Array(buf);
      case 'int64':
        return new BigInt64Array(buf);
      default:
        return new Uint8Array(buf);
    }
  }

  /** All values as plain numbers, row-major. */
  toArray(): number[] {
    const d = this.data();
    return d instanceof BigInt64Array ? Array.from(d, Number) : Array.from(d);
  }

  item(): number {
    if (this.size !== 1)
      throw new Error(`item: tensor must hold one value, it has shape [${this.shape.join(', ')}]`);
    return this.toArray()[0]!;
  }

  toString(): string {
    return `Tensor(${this.dtype}, [${this.shape.join(', ')}])`;
  }

  // ---- shape
  reshape(shape: number[]): Tensor {
    return run1('reshape', [this, shape]);
  }
  permute(dims: number[]): Tensor {
    return run1('permute', [this, dims]);
  }
  transpose(a: number, b: number): Tensor {
    return run1('transpose', [this, a, b]);
  }
  narrow(dim: number, start: number, length: number): Tensor {
    return run1('narrow', [this, dim, start, length]);
  }
  slice(dim: number, start?: number, end?: number, step = 1): Tensor {
    return run1('slice', [this, dim, start, end, step]);
  }
  select(dim: number, index: number): Tensor {
    return run1('select', [this, dim, index]);
  }
  squeeze(dim?: number): Tensor {
    return run1('squeeze', [this, dim]);
  }
  unsqueeze(dim: number): Tensor {
    return run1('unsqueeze', [this, dim]);
  }
  flatten(start = 0, end = -1): Tensor {
    return run1('flatten', [this, start, end]);
  }
  expand(shape: number[]): Tensor {
    return run1('expand', [this, shape]);
  }
  repeat(reps: number[]): Tensor {
    return run1('repeat', [this, reps]);
  }
  flip(dims: number[]): Tensor {
    return run1('flip', [this, dims]);
  }
  indexSelect(dim: number, index: Tensor): Tensor {
    return run1('index_select', [this, dim, index]);
  }
  gather(dim: number, index: Tensor): Tensor {
    return run1('gather', [this, dim, index]);
  }
  contiguous(): Tensor {
    return run1('contiguous', [this]);
  }
  clone(): Tensor {
    return run1('clone', [this]);
  }
  detach(): Tensor {
    return run1('detach', [this]);
  }
  to(dtype: DType): Tensor {
    return run1('to', [this, dtype]);
  }

  // ---- element-wise
  add(o: Tensor | number): Tensor {
    return run1('add', [this, o]);
  }
  sub(o: Tensor | number): Tensor {
    return run1('sub', [this, o]);
  }
  mul(o: Tensor | number): Tensor {
    return run1('mul', [this, o]);
  }
  div(o: Tensor | number): Tensor {
    return run1('div', [this, o]);
  }
  pow(o: Tensor | number): Tensor {
    return run1('pow', [this, o]);
  }
  eq(o: Tensor | number): Tensor {
    return run1('eq', [this, o]);
  }
  lt(o: Tensor | number): Tensor {
    return run1('lt', [this, o]);
  }
  le(o: Tensor | number): Tensor {
    return run1('le', [this, o]);
  }
  gt(o: Tensor | number): Tensor {
    return run1('gt', [this, o]);
  }
  ge(o: Tensor | number): Tensor {
    return run1('ge', [this, o]);
  }
  neg(): Tensor {
    return run1('neg', [this]);
  }
  abs(): Tensor {
    return run1('abs', [this]);
  }
  exp(): Tensor {
    return run1('exp', [this]);
  }
  log(): Tensor {
    return run1('log', [this]);
  }
  sqrt(): Tensor {
    return run1('sqrt', [this]);
  }
  square(): Tensor {
    return run1('square', [this]);
  }
  clamp(min?: number | null, max?: number | null): Tensor {
    return run1('clamp', [this, min, max]);
  }
  relu(): Tensor {
    return run1('relu', [this]);
  }
  sigmoid(): Tensor {
    return run1('sigmoid', [this]);
  }

  // ---- reductions
  sum(dims?: number | number[], keepDim = false): Tensor {
    return run1('sum', [this, dims, keepDim]);
  }
  mean(dims?: number | number[], keepDim = false): Tensor {
    return run1('mean', [this, dims, keepDim]);
  }
  max(dims?: number | number[], keepDim = false): Tensor {
    return run1('amax', [this, dims, keepDim]);
  }
  min(dims?: number | number[], keepDim = false): Tensor {
    return run1('amin', [this, dims, keepDim]);
  }
  argmax(dim?: number, keepDim = false): Tensor {
    return run1('argmax', [this, dim, keepDim]);
  }
  matmul(o: Tensor): Tensor {
    return run1('matmul', [this, o]);
  }

  // ---- in place and autograd
  copy_(src: Tensor): this {
    run('copy_', [this, src]);
    return this;
  }
  fill_(value: number): this {
    run('fill_', [this, value]);
    return this;
  }
  requiresGrad_(on = true): this {
    run('requires_grad_', [this, on]);
    return this;
  }
  get requiresGrad(): boolean {
    const flag = run1('requires_grad', [this]);
    const value = flag.item() === 1;
    flag.dispose();
    return value;
  }
  /** The accumulated gradient as a new handle, or null before backward(). */
  get grad(): Tensor | null {
    return run('grad', [this])[0] ?? null;
  }
  zeroGrad(): void {
    run('zero_grad', [this]);
  }
  backward(gradient?: Tensor, retainGraph?: boolean): void {
    run('backward', [this, gradient, retainGraph]);
  }
}

/** Runs a native op; tensors it returns are tracked by the current scope. */
export function run(name: string, args: OpArg[]): Tensor[] {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a instanceof Tensor) a.throwIfDisposed(name);
  }
  let infos: TensorInfo[];
  try {
    infos = native.op(name, args);
  } catch (err) {
    throw new NativeError(`${name}: ${err instanceof Error ? err.message : String(err)}`);
  }
  return infos.map((info) => new Tensor(info));
}

export function run1(name: string, args: OpArg[]): Tensor {
  return run(name, args)[0]!;
}

// Making tensors: from JS data, constants, ranges and seeded random draws.
import { invalidArgument } from '../errors.js';
import { type DType, native } from '../native.js';
import { run1, Tensor } from '../tensor.js';

type Nested = number | boolean | Nested[];
type FlatData = ArrayLike<number> | BigInt64Array;

const BYTES: Record<DType, number> = { float32: 4, float64: 8, int64: 8, bool: 1, uint8: 1 };

function isShape(shape: unknown): shape is number[] {
  return Array.isArray(shape) && shape.every((s) => Number.isInteger(s) && s >= 0);
}

function inferShape(data: Nested): number[] {
  const shape: number[] = [];
  let level: Nested = data;
  while (Array.isArray(level)) {
    shape.push(level.length);
    level = level[0] as Nested;
  }
  return shape;
}

function flatten(data: Nested[]): number[] {
  const out: number[] = [];
  const walk = (v: Nested): void => {
    if (Array.isArray(v)) for (const x of v) walk(x);
    else out.push(typeof v === 'boolean' ? Number(v) : v);
  };
  walk(data);
  return out;
}

function toTyped(values: FlatData, dtype: DType): ArrayBufferView {
  if (dtype === 'int64') {
    if (values instanceof BigInt64Array) return values;
    const out = new BigInt64Array(values.length);
    for (let i = 0; i < values.length; i++) out[i] = BigInt(Math.trunc(values[i] as number));
    return out;
  }
  if (values instanceof BigInt64Array)
    throw invalidArgument('tensor', 'data', `numbers for ${dtype}`, 'BigInt64Array');
  const arr = values as ArrayLike<number>;
  switch (dtype) {
    case 'float32':
      return arr instanceof Float32Array ? arr : Float32Array.from(arr);
    case 'float64':
      return arr instanceof Float64Array ? arr : Float64Array.from(arr);
    default:
      return arr instanceof Uint8Array
        ? arr
        : Uint8Array.from(arr, (v) => (dtype === 'bool' ? (v ? 1 : 0) : v));
  }
}

/**
 * A tensor from JS values: nested arrays (shape inferred) or flat data with
 * an explicit shape. The data is copied.
 */
export function tensor(data: Nested | FlatData, shape?: number[], dtype: DType = 'float32'): Tensor {
  if (typeof data === 'number' || typeof data === 'boolean')
    return tensor([Number(data)], shape ?? [], dtype);
  const nested = Array.isArray(data);
  const flat: FlatData = nested ? flatten(data as Nested[]) : (data as FlatData);
  const dims = shape ?? (nested ? inferShape(data as Nested) : [flat.length]);
  if (!isShape(dims)) throw invalidArgument('tensor', 'shape', 'a list of non-negative integers', dims);
  const count = dims.reduce((a, b) => a * b, 1);
  if (count !== flat.length)
    throw invalidArgument(
      'tensor',
      'data',
      `${count} values for shape [${dims.join(', ')}]`,
      `${flat.length} values`,
    );
  const typed = toTyped(flat, dtype);
  if (typed.byteLength !== count * BYTES[dtype])
    throw invalidArgument('tensor', 'data', dtype, typed.constructor.name);
  return new Tensor(native.createTensor(dtype, dims, typed));
}

export function scalar(value: number, dtype: DType = 'float32'): Tensor {
  return tensor([value], [], dtype);
}

function checkedShape(fn: string, shape: number[]): number[] {
  if (!isShape(shape)) throw invalidArgument(fn, 'shape', 'a list of non-negative integers', shape);
  return shape;
}

export const zeros = (shape: number[], dtype: DType = 'float32') =>
  run1('zeros', [checkedShape('zeros', shape), dtype]);
export const ones = (shape: number[], dtype: DType = 'float32') =>
  run1('ones', [checkedShape('ones', shape), dtype]);
export const full = (shape: number[], value: number, dtype: DType = 'float32') =>
  run1('full', [checkedShape('full', shape), value, dtype]);
export const arange = (start: number, end: number, step = 1, dtype: DType = 'float32') =>
  run1('arange', [start, end, step, dtype]);
export const linspace = (start: number, end: number, steps: number, dtype: DType = 'float32') =>
  run1('linspace', [start, end, steps, dtype]);
export const eye = (n: number, dtype: DType = 'float32') => run1('eye', [n, dtype]);

/** Uniform on [0, 1), from the generator seeded by `seed()`. */
export const rand = (shape: number[], dtype: DType = 'float32') =>
  run1('rand', [checkedShape('rand', shape), dtype]);
export const randn = (shape: number[], dtype: DType = 'float32') =>
  run1('randn', [checkedShape('randn', shape), dtype]);
/** Integers in [low, high). */
export const randint = (low: number, high: number, shape: number[]) =>
  run1('randint', [low, high, checkedShape('randint', shape), 'int64']);
export const randperm = (n: number) => run1('randperm', [n, 'int64']);

/** Seeds the engine's global random generator. */
export function seed(value: number): void {
  if (!Number.isInteger(value) || value < 0)
    throw invalidArgument('seed', 'value', 'a non-negative integer', value);
  native.seed(value);
}

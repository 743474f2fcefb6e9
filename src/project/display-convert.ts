// Decoding an image and encoding its 8-bit display PNG, in a worker thread:
// decoding a large X-ray is synchronous native work (tens to hundreds of
// milliseconds), which in the server's thread would hold up every request,
// annotation saves included. One worker converts one image at a time; it
// is started on first use and ended after a second without work (a worker
// holding the native engine keeps the process from exiting otherwise).
import { Worker } from 'node:worker_threads';
import * as E from '../engine/index.js';
import { DataError } from '../io/errors.js';
import { readImage } from '../io/image.js';
import type { Spacing } from '../io/types.js';

export interface Converted {
  png: Uint8Array;
  width: number;
  height: number;
  bitDepth: number;
  spacing?: Spacing;
}

/** The conversion itself (what the worker runs). */
export async function convertForDisplay(source: string): Promise<Converted> {
  const image = await readImage(source);
  try {
    const png = E.tidy(() => E.encodeImage(image.pixels.add(0.5).clamp(0, 255).to('uint8'), '.png'));
    return {
      png: new Uint8Array(png.buffer, png.byteOffset, png.byteLength),
      width: image.width,
      height: image.height,
      bitDepth: image.bitDepth,
      ...(image.spacing ? { spacing: image.spacing } : {}),
    };
  } finally {
    image.pixels.dispose();
  }
}

type Reply = {
  id: number;
  converted?: Converted;
  error?: { file?: string; problem: string; message: string };
};

// The worker's own code: it imports this module and answers each request.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
import(workerData.module).then(({ convertForDisplay }) => {
  parentPort.on('message', async ({ id, source }) => {
    try {
      const converted = await convertForDisplay(source);
      parentPort.postMessage({ id, converted }, [converted.png.buffer]);
    } catch (err) {
      parentPort.postMessage({ id, error: { file: err.file, problem: err.problem, message: String(err.message) } });
    }
  });
});
`;

let worker: Worker | undefined;
let idleTimer: NodeJS.Timeout | undefined;
let nextId = 0;
const IDLE_MS = 1000;
const waiting = new Map<number, { resolve: (c: Converted) => void; reject: (e: Error) => void }>();

function startWorker(): Worker {
  const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { module: import.meta.url } });
  w.on('message', (r: Reply) => {
    const p = waiting.get(r.id);
    if (!p) return;
    waiting.delete(r.id);
    if (waiting.size === 0) endWhenIdle();
    if (r.converted) p.resolve(r.converted);
    else if (r.error?.file !== undefined && r.error.problem !== undefined)
      p.reject(new DataError(r.error.file, r.error.problem));
    else p.reject(new Error(r.error?.message ?? 'display conversion failed'));
  });
  // A worker that dies fails what it had; the next conversion starts a new one.
  w.on('error', (err) => {
    for (const p of waiting.values()) p.reject(err);
    waiting.clear();
    worker = undefined;
  });
  return w;
}

/** With nothing to convert the worker no longer holds the process open, and ends soon. */
function endWhenIdle(): void {
  worker?.unref();
  clearTimeout(idleTimer);
  idleTimer = setTimeout(() => {
    if (waiting.size > 0 || !worker) return;
    void worker.terminate();
    worker = undefined;
  }, IDLE_MS);
  idleTimer.unref();
}

/** Converts in the worker thread (the server's thread stays free). */
export function convertInWorker(source: string): Promise<Converted> {
  clearTimeout(idleTimer);
  worker ??= startWorker();
  worker.ref(); // a conversion is awaited
  const id = nextId++;
  return new Promise((resolve, reject) => {
    waiting.set(id, { resolve, reject });
    worker!.postMessage({ id, source });
  });
}

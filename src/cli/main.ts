#!/usr/bin/env node
// fewmark's command line: declares the verbs, lazy-loads each command, and
// is the only place that turns errors into exit codes.
import { Command } from 'commander';
import { InputError, UsageError } from './errors.js';

const program = new Command()
  .name('fewmark')
  .description('Choose which few X-rays to annotate, then find the landmarks on all the others.')
  .showHelpAfterError();

program
  .command('doctor')
  .description('check that the native engine (libtorch + OpenCV) loads and works')
  .action(async () => {
    const { doctor } = await import('./commands/doctor.js');
    const r = await doctor();
    const mark = (ok: boolean) => (ok ? 'ok' : 'FAILED');
    console.log(`node ${r.node}, ${r.threads} torch threads, ${r.ops} ops`);
    console.log(`matmul: ${mark(r.matmulOk)}; image codec: ${mark(r.imageCodecOk)}; SIFT: ${mark(r.siftOk)}`);
    if (!(r.matmulOk && r.imageCodecOk && r.siftOk)) process.exitCode = 1;
  });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof UsageError || err instanceof InputError) {
    console.error(`fewmark: ${err.message}`);
    process.exitCode = err.exitCode;
  } else {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exitCode = 1;
  }
}

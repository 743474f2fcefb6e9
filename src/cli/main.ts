#!/usr/bin/env node
// fewmark's command line: declares the verbs, lazy-loads each command, and
// is the only place that turns errors into exit codes.
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { parseQueueUrl, QueueUrlError } from '../queue/url.js';
import { exitWithParent } from '../util/parent-watch.js';

exitWithParent();

const int = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0)
    throw new InvalidArgumentError(`expected a non-negative integer for ${name}`);
  return n;
};
const count = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`expected a whole number of at least 1 for ${name}`);
  return n;
};
const positive = (name: string) => (v: string) => {
  const n = Number(v);
  if (!(n > 0)) throw new InvalidArgumentError(`expected a positive number for ${name}`);
  return n;
};

/** --queue checked as a flag, before any work (the URL module loads no Redis client). */
const queueUrl = (v: string) => {
  try {
    return parseQueueUrl(v).url;
  } catch (err) {
    if (err instanceof QueueUrlError) throw new InvalidArgumentError(err.problem);
    throw err;
  }
};

const program = new Command()
  .name('fewmark')
  .description('Choose which few X-rays to annotate, then find the landmarks on all the others.')
  .showHelpAfterError()
  // Bad flags exit 2 (commander's own default is 1, the code for bad data).
  .exitOverride();

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

program
  .command('demo')
  .description('run the main job end to end on built-in phantoms (a few minutes)')
  .option('--out <dir>', 'output folder (replaced)', 'demo-output')
  .option('--minutes <n>', 'training budget in minutes', positive('--minutes'), 2)
  .option('--budget <m>', 'how many images to choose and annotate', count('--budget'), 3)
  .option('--seed <n>', 'random seed (phantoms, training, random sets)', int('--seed'), 1)
  .action(async (o) => {
    const { demo } = await import('./commands/demo.js');
    const { renderText } = await import('../eval/report.js');
    const r = await demo(o);
    console.log(renderText(r.evaluation));
    console.log(`\nchosen: ${r.templates.join(', ')}. ${r.verdict}.`);
    console.log(`${(r.seconds / 60).toFixed(1)} min; report: ${r.out}/report.md`);
  });

program
  .command('phantom')
  .description('make synthetic X-ray-like phantoms with known landmarks (for tests and the demo)')
  .requiredOption('--out <dir>', 'output folder (images/ and landmarks.csv)')
  .option('--n <count>', 'number of images', count('--n'), 40)
  .option('--seed <n>', 'random seed', int('--seed'), 0)
  .option('--size <px>', 'image size (multiple of 32, 64..2048)', count('--size'), 512)
  .option('--landmarks <count>', 'number of landmarks (1..17)', int('--landmarks'))
  .option('--atypical <fraction>', 'fraction of atypical images (0..0.5)', Number)
  .option('--overwrite', 'replace a non-empty output folder')
  .action(async (o) => {
    const { phantom } = await import('./commands/phantom.js');
    const r = await phantom({ ...o, atypicalRate: o.atypical });
    console.log(`wrote ${r.images} phantoms in ${r.seconds.toFixed(1)} s to ${r.out}`);
  });

program
  .command('train')
  .description('train the self-supervised feature extractor on a folder of unlabeled images')
  .requiredOption('--images <dir>', 'folder of training images')
  .requiredOption('--out <model>', 'model folder (weights, checkpoint)')
  .option('--minutes <n>', 'training time budget in minutes (default 30)', positive('--minutes'))
  .option('--steps <n>', 'train for this many steps instead', count('--steps'))
  .option('--size <px>', 'working size (multiple of 64, default 384)', count('--size'))
  .option('--batch <n>', 'batch size (default 8)', count('--batch'))
  .option('--seed <n>', 'random seed (default 0)', int('--seed'))
  .option('--config <file>', 'JSON file of training config overrides')
  .option('--resume', 'continue from the checkpoint in --out')
  .option('--allow-inside-images', 'allow --out inside the images folder')
  .action(async (o) => {
    const { train } = await import('./commands/train.js');
    const { exitCodeOf } = await import('./training-run.js');
    const r = await train(o);
    console.log(
      `trained ${r.steps} steps in ${(r.elapsed / 60).toFixed(1)} min (stopped by ${r.stoppedBy}); final loss ${r.finalLoss.toFixed(3)}; model in ${o.out}`,
    );
    if (r.signal) process.exitCode = exitCodeOf(r.signal);
  });

program
  .command('detect')
  .description("find the templates' landmarks in every other image (template matching or a refined model)")
  .requiredOption('--model <model>', 'model folder from fewmark train, or a refined one from fewmark refine')
  .option('--templates <labels>', 'annotated templates (needed unless --model is refined; then skipped)')
  .requiredOption('--images <dir>', 'folder holding the templates and the images to label')
  .requiredOption('--out <pred>', 'predictions file (format from its name, e.g. .csv)')
  .option('--format <name>', 'output landmark format (default: from the file name)')
  .option('--no-subpixel', 'integer peak positions (no parabolic refinement)')
  .option('--no-fine', "a refined model: its first stage alone (not the fine stage's local crops)")
  .option('--fusion <rule>', 'several templates: median of their peaks (default) or max-peak (paper eq. 3)')
  .option('--no-cache', 'do not cache feature pyramids')
  .option('--allow-inside-images', 'allow --out inside the images folder')
  .option(
    '--queue <url>',
    'redis://HOST[:PORT]: fan the images out to fewmark workers (docs/workers.md)',
    queueUrl,
  )
  .action(async (o) => {
    const { detect } = await import('./commands/detect.js');
    const r = await detect(o);
    console.log(
      `detected landmarks on ${r.detections.length} images with ${r.templates.length} template(s): ${o.out}`,
    );
  });

program
  .command('features')
  .description("fill a model's feature cache for every image of a folder (before select or detect)")
  .requiredOption('--model <model>', 'model folder from fewmark train (the cache is beside it)')
  .requiredOption('--images <dir>', 'folder of images')
  .option(
    '--queue <url>',
    'redis://HOST[:PORT]: fan the images out to fewmark workers (docs/workers.md)',
    queueUrl,
  )
  .option(
    '--embeddings-only',
    "cache only the selection's embeddings (2 KB an image), not the pyramids (6 MB): pools of thousands",
  )
  .action(async (o) => {
    const { features } = await import('./commands/features.js');
    const r = await features(o);
    const computed =
      r.computed === undefined ? '' : ` (${r.computed} computed, ${r.images - r.computed} already there)`;
    console.log(`features of ${r.images} images in the cache${computed}: ${r.cache}`);
  });

program
  .command('worker')
  .description('run jobs (features, detection, ...) from a Redis queue until stopped (docs/workers.md)')
  .requiredOption('--queue <url>', 'redis://HOST[:PORT], the same as the commands given --queue', queueUrl)
  .option('--concurrency <n>', 'jobs at once', count('--concurrency'), 1)
  .action(async (o) => {
    const { worker } = await import('./commands/worker.js');
    await worker(o);
  });

program
  .command('select')
  .description('choose which images of a folder to annotate (k-medoids, SCP or a baseline), best first')
  .requiredOption('--images <dir>', 'folder of unlabeled images (the pool)')
  .requiredOption('--model <model>', 'model folder from fewmark train')
  .requiredOption('--budget <m>', 'how many images to choose', count('--budget'))
  .requiredOption('--out <dir>', 'output folder: selection.json, selection.csv, report.html, thumbnails/')
  .option(
    '--strategy <name>',
    'medoids (one image: the SCP pick) | scp | scp-greedy | scp-random | random | kcenter | typiclust | kmeans',
    'medoids',
  )
  .option('--keypoints <method>', 'key points for SCP: sift | orb | akaze | random | grid', 'sift')
  .option('--max-keypoints <k>', 'key points per image at most (0: all)', int('--max-keypoints'), 100)
  .option('--contrast-threshold <t>', 'SIFT contrast, 0.01 for hands', positive('--contrast-threshold'), 0.04)
  .option('--direction <d>', 'image-in-template (paper) | template-in-image (its code)', 'image-in-template')
  .option(
    '--grid-stride <px>',
    'similarity maximum taken every N working pixels (default 8)',
    int('--grid-stride'),
  )
  .option('--random-sets <n>', 'scp-random: sets to score', count('--random-sets'), 10000)
  .option('--seed <n>', 'random seed', int('--seed'), 0)
  .option('--score', 'medoids and baselines: also compute the SCP matrix and report R of their picks')
  .option(
    '--labeled <labels>',
    'images annotated already (a landmarks file): they count as chosen; --budget more are picked around them',
  )
  .option(
    '--scale <mode>',
    'auto (exact up to 2,000 images for medoids, 200 for the SCP; then sampled) | exact | sampled',
    'auto',
  )
  .option(
    '--queue <url>',
    "redis://HOST[:PORT]: the pool's features and the SCP's similarity columns on fewmark workers (docs/workers.md)",
    queueUrl,
  )
  .option('--no-cache', 'do not cache feature pyramids')
  .option('--allow-inside-images', 'allow --out inside the images folder')
  .action(async (o) => {
    const { select, summary } = await import('./commands/select.js');
    for (const line of summary(await select(o))) console.log(line);
  });

program
  .command('refine')
  .description('train the refinement network on template-matching pseudo-labels plus the templates')
  .requiredOption('--model <model>', 'model folder from fewmark train (pseudo-labels, initial weights)')
  .requiredOption('--templates <labels>', 'landmarks file holding the annotated template images')
  .requiredOption('--images <dir>', 'folder holding the templates and the unlabeled training images')
  .requiredOption('--out <refined>', 'refined model folder (weights, refined.json, checkpoint)')
  .option(
    '--minutes <n>',
    'training time budget in minutes (the rounds and the fine stage together) instead of step counts',
    positive('--minutes'),
  )
  .option('--steps <n>', 'training steps of each round (default 80)', count('--steps'))
  .option(
    '--rounds <n>',
    'self-training rounds: each relabels the images for the next (default 3)',
    count('--rounds'),
  )
  .option(
    '--cycles <n>',
    'cycles: each after the first trains on the labels both stages give the unlabeled images (default 3)',
    count('--cycles'),
  )
  .option('--fine-steps <n>', 'training steps of the fine stage (default 1500)', count('--fine-steps'))
  .option('--no-fine', 'train the first stage alone (no fine stage on local crops at finer resolution)')
  .option('--pseudo <pred>', 'pseudo-labels from fewmark detect (default: run template matching)')
  .option('--confidence-weighting', 'weight each pseudo-label by its template-matching peak')
  .option(
    '--size <px>',
    "working size (multiple of 32; default 4/3 of the extractor's, e.g. 512 for 384)",
    count('--size'),
  )
  .option('--batch <n>', 'batch size (default 8)', count('--batch'))
  .option('--seed <n>', 'random seed (default 0)', int('--seed'))
  .option('--config <file>', 'JSON file of refinement config overrides')
  .option('--resume', 'continue from the checkpoint in --out')
  .option('--allow-inside-images', 'allow --out inside the images folder')
  .action(async (o) => {
    const { refine } = await import('./commands/refine.js');
    const { exitCodeOf } = await import('./training-run.js');
    const r = await refine(o);
    console.log(
      `refined ${r.steps} steps${r.rounds > 1 ? ` x ${r.rounds} rounds` : ''}${r.cycles > 1 ? ` + ${r.cycles - 1} cycle(s)` : ''} in ${(r.totalElapsed / 60).toFixed(1)} min (stopped by ${r.stoppedBy}) on ${r.pseudoLabeled} pseudo-labeled images and ${r.templates} template(s); final loss ${r.finalLoss.toFixed(3)}; model in ${r.out}`,
    );
    if (r.signal) process.exitCode = exitCodeOf(r.signal);
  });

program
  .command('evaluate')
  .description('landmark error against ground truth: MRE, SDR, per landmark and per image')
  .requiredOption('--pred <file>', 'predicted landmarks')
  .requiredOption('--gt <file>', 'ground-truth landmarks')
  .option('--out <dir>', 'write evaluation.json, per-landmark.csv, per-image.csv, evaluation.txt')
  .option('--spacing <mm>', 'pixel spacing in mm: one number, or x,y', (v: string) => {
    const parts = v.split(',').map(Number);
    if (parts.some((n) => !(n > 0)) || parts.length > 2)
      throw new InvalidArgumentError('expected MM or MMX,MMY');
    return parts.length === 1 ? parts[0] : parts;
  })
  .option('--radii <list>', 'SDR radii in mm (default 2,2.5,3,4)', (v: string) => v.split(',').map(Number))
  .option('--sdr-strict', 'SDR counts error < r (default error <= r)')
  .action(async (o) => {
    const { evaluate } = await import('./commands/evaluate.js');
    const { renderText } = await import('../eval/report.js');
    const r = await evaluate(o);
    console.log(renderText(r));
  });

program
  .command('init')
  .description('make an annotation project from a folder of images, or add to one')
  .requiredOption('--project <dir>', 'project folder (created, or added to)')
  .option('--images <dir>', 'folder of images (to create the project)')
  .option('--landmarks <names>', 'landmark names in order, comma-separated, or a count')
  .option('--landmarks-from <file>', 'take the landmark names from a landmarks file')
  .option('--annotations <file>', 'import annotations from a landmarks file')
  .option('--spacing <mm>', 'default pixel spacing in mm: one number, or x,y', (v: string) => {
    const parts = v.split(',').map(Number);
    if (parts.some((n) => !(n > 0)) || parts.length > 2)
      throw new InvalidArgumentError('expected MM or MMX,MMY');
    return parts.length === 1 ? parts[0] : parts;
  })
  .option('--selection <file>', 'import a selection.json from fewmark select and make it current')
  .option(
    '--model <dir>',
    'model folder from fewmark train (detection) or fewmark refine (refined detection)',
  )
  .action(async (o) => {
    const { init } = await import('./commands/init.js');
    const r = await init(o);
    console.log(
      `${r.created ? 'created' : 'updated'} project ${r.project}: ${r.images} images, ${r.landmarks.length} landmarks` +
        (r.selection ? `, selection '${r.selection}'` : '') +
        (r.models.length ? `, models ${r.models.map((m) => `${m.name} (${m.kind})`).join(', ')}` : '') +
        (r.imported.length ? `; imported annotations of ${r.imported.length} images` : '') +
        (r.skipped.length ? `; skipped ${r.skipped.length} (not in the project or already annotated)` : ''),
    );
  });

program
  .command('serve')
  .description('the annotation and review page for a project (loopback only by default)')
  .requiredOption('--project <dir>', 'project folder from fewmark init')
  .option('--port <n>', 'port (default 8765; 0 picks a free one)', int('--port'))
  .option('--host <address>', 'address to listen on (default 127.0.0.1)')
  .option('--log', 'log every request to stderr')
  .action(async (o) => {
    const { serve } = await import('./commands/serve.js');
    await serve({
      ...o,
      onListening: (s) =>
        console.log(`fewmark: serving ${s.context.project.dir} at ${s.url} (Ctrl-C to stop)`),
    });
  });

const experiment = program.command('experiment').description('experiments that measure fewmark on real data');
experiment
  .command('selection')
  .description('SCP vs random templates and baselines on ISBI 2015 (tables, figures, report.md)')
  .requiredOption('--model <dir>', 'trained extractor folder (features are cached beside it)')
  .option('--data <dir>', 'ISBI 2015 folder', '../shared/data/isbi2015')
  .option(
    '--out <dir>',
    'output folder (the one-shot table inside lets a rerun resume)',
    'runs/experiment-selection',
  )
  .option(
    '--budgets <list>',
    'numbers of templates M',
    (v: string) => v.split(',').map(Number),
    [1, 2, 3, 4, 5],
  )
  .option('--random-sets <n>', 'random sets per budget above 1', count('--random-sets'), 200)
  .option('--search-sets <n>', 'random sets the paper-style search scores', count('--search-sets'), 100_000)
  .option('--keypoints <method>', 'sift, orb, akaze, random or grid', 'sift')
  .option('--max-keypoints <k>', 'key points per image', int('--max-keypoints'), 100)
  .option('--contrast-threshold <t>', 'SIFT contrast threshold', positive('--contrast-threshold'), 0.04)
  .option(
    '--grid-stride <px>',
    'stride of the grid the similarity maximum is taken on',
    int('--grid-stride'),
    8,
  )
  .option('--no-ablation', 'skip the key point ablation')
  .option(
    '--ablation-grid-stride <px>',
    'grid stride of the ablation tensors',
    int('--ablation-grid-stride'),
    16,
  )
  .option('--seed <n>', 'random seed', int('--seed'), 0)
  .option(
    '--targets <set>',
    'test1 (the reported figures) or train (the pool itself, for choosing options)',
    'test1',
  )
  .option('--fusion <rule>', 'several templates: median (default) or max-peak (paper eq. 3)', 'median')
  .option('--pool-limit <n>', 'only the first N training images (quick checks)', int('--pool-limit'))
  .option('--target-limit <n>', 'only the first N Test1 images (quick checks)', int('--target-limit'))
  .action(async (o) => {
    const { experimentSelection } = await import('./commands/experiment.js');
    const { out } = await experimentSelection(o);
    const { readFile } = await import('node:fs/promises');
    console.log(await readFile(`${out}/report.md`, 'utf8'));
  });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // commander has printed its message (or the help or version asked for).
    process.exitCode = err.exitCode === 0 ? 0 : 2;
    process.exit();
  }
  // Errors about the user's input carry an exit code and a message naming
  // the file. Every error prints its message; FEWMARK_DEBUG=1 adds the stack.
  const code = (err as { exitCode?: unknown }).exitCode;
  const message = err instanceof Error ? err.message : String(err);
  console.error(`fewmark: ${message}`);
  if (process.env.FEWMARK_DEBUG && err instanceof Error) console.error(err.stack);
  process.exitCode = typeof code === 'number' ? code : 1;
}

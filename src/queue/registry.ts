// The job kinds a worker runs, by name (the BullMQ job name). A new kind of
// per-image work is a handler (kinds.ts) added here and a coordinator that
// calls runOnQueue with its name.
import { detectJob } from './detect-job.js';
import { featuresJob } from './features-job.js';
import type { JobKinds } from './kinds.js';
import { similarityJob } from './similarity-job.js';

export const JOB_KINDS: JobKinds = {
  features: featuresJob,
  detect: detectJob,
  similarity: similarityJob,
};

// Checks an output path before any work starts: it must not be one of the
// inputs (`detect --templates labels.csv --out labels.csv` once replaced
// the annotations with a header line), nor go into a folder of images
// unless asked, and it must be the kind of thing it will be written as.
import { existsSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';

/** A conflict between an output and the inputs: a usage error (exit 2). */
class OutputConflict extends Error {
  override name = 'OutputConflict';
  readonly exitCode = 2;
}

export interface OutputPlan {
  path: string;
  kind: 'file' | 'folder';
  /** Input files and folders the run reads (undefined entries are skipped). */
  inputs: (string | undefined)[];
  /** Folders of images the output should stay out of. */
  imageFolders?: (string | undefined)[];
  /** Allow the output inside an image folder (never onto an input itself). */
  allowInsideImages?: boolean;
}

/** The real path of `p`, following links, for a path that may not exist yet. */
function realPath(p: string): string {
  const abs = resolve(p);
  if (existsSync(abs)) return realpathSync(abs);
  const parent = dirname(abs);
  return parent === abs ? abs : join(realPath(parent), basename(abs));
}

const inside = (child: string, parent: string) => {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith('/'));
};

export function checkOutput(plan: OutputPlan): void {
  const out = realPath(plan.path);
  if (existsSync(out)) {
    const isFolder = statSync(out).isDirectory();
    if (plan.kind === 'file' && isFolder)
      throw new OutputConflict(`${plan.path} is an existing folder; the output is a file: give a file name`);
    if (plan.kind === 'folder' && !isFolder)
      throw new OutputConflict(
        `${plan.path} is an existing file; the output is a folder: give a folder name`,
      );
  }
  for (const input of plan.inputs) {
    if (input === undefined) continue;
    const real = realPath(input);
    if (real !== out) continue;
    if (existsSync(real) && statSync(real).isDirectory())
      throw new OutputConflict(`the output ${plan.path} is the input folder ${input}; choose another output`);
    throw new OutputConflict(
      `the output ${plan.path} is the input ${input}: it would be overwritten; choose another output`,
    );
  }
  if (plan.allowInsideImages) return;
  for (const folder of plan.imageFolders ?? []) {
    if (folder === undefined) continue;
    if (inside(out, realPath(folder)))
      throw new OutputConflict(
        `the output ${plan.path} is inside the image folder ${folder}; write it elsewhere (or pass --allow-inside-images)`,
      );
  }
}

// Builds the addon with node-gyp against the headers of the running Node
// (never downloading them), after checking that libtorch and OpenCV are
// installed, so a missing package gives one clear message.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const APT_LINE =
  'sudo apt-get update && sudo apt-get install -y libtorch-dev libopenblas0-pthread libopencv-dev';
const here = dirname(fileURLToPath(import.meta.url));
const nodedir = dirname(dirname(process.execPath));

const needs = [
  [join(nodedir, 'include', 'node', 'node_api.h'), `Node's headers (expected under ${nodedir}/include/node)`],
  ['/usr/include/ATen/ATen.h', 'libtorch headers (Debian package libtorch-dev)'],
  ['/usr/include/opencv4/opencv2/features2d.hpp', 'OpenCV headers (Debian package libopencv-dev)'],
];
const missing = needs.filter(([path]) => !existsSync(path));
if (missing.length) {
  console.error(
    `fewmark: cannot build the native engine; missing:\n${missing.map(([, what]) => `  - ${what}`).join('\n')}`,
  );
  console.error(`Install the libraries with:\n  ${APT_LINE}`);
  process.exit(1);
}

const jobs = process.env.JOBS ?? '2';
const result = spawnSync('node-gyp', ['rebuild', `--nodedir=${nodedir}`, '-j', jobs], {
  cwd: here,
  stdio: 'inherit',
});
process.exit(result.status ?? 1);

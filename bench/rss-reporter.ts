// Loaded with `node --import` into a command the benchmarks run: writes the
// process's peak resident memory (MB) to $FEWMARK_RSS_FILE when it exits,
// so the figure is the command's own, as a user would run it.
import { writeFileSync } from 'node:fs';

const file = process.env.FEWMARK_RSS_FILE;
if (file) process.on('exit', () => writeFileSync(file, String(process.resourceUsage().maxRSS / 1024)));

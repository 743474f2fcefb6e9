// A command started by the annotation server runs in a process group of its
// own (so that cancel can end all of it), which also means that it outlives
// a server killed with SIGKILL. With FEWMARK_EXIT_WITH_PARENT=PID set, it
// exits as soon as that process is gone (checked every second; the long
// loops yield to the event loop, so the check runs during work too).

/** The variable the server sets to its own process id. */
export const EXIT_WITH_PARENT = 'FEWMARK_EXIT_WITH_PARENT';

export function exitWithParent(env: NodeJS.ProcessEnv = process.env): void {
  const pid = Number(env[EXIT_WITH_PARENT]);
  if (!(pid > 0)) return;
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'EPERM';
    }
  };
  setInterval(() => {
    if (process.ppid !== pid || !alive()) {
      process.stderr.write(`fewmark: the process that started this one (${pid}) is gone; stopping\n`);
      process.exit(143);
    }
  }, 1000).unref();
}

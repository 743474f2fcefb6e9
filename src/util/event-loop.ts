// Long synchronous loops (native ops block) must let the event loop run
// now and then: signal handlers (Ctrl-C, SIGTERM) and timers only run there.

/** Waits for one turn of the event loop. */
export const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

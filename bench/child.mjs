// Lifecycle glue for the benchmark's child processes: report to the parent over IPC, and exit as
// soon as the parent goes away (IPC channel closed), so no process outlives a run even when the
// runner itself is killed.

/** Sends one message to the parent (stdout when not forked); resolves once it is handed over. */
export function reportReady(message) {
  const payload = { ready: true, ...message };
  if (typeof process.send !== 'function') {
    console.log(JSON.stringify(payload));
    return Promise.resolve();
  }
  return new Promise((resolve) => process.send(payload, () => resolve()));
}

/** Exits (after cleanup) when the parent disconnects or a termination signal arrives. */
export function exitWithParent(cleanup) {
  const stop = () => {
    try {
      cleanup?.();
    } finally {
      process.exit(0);
    }
  };
  process.on('disconnect', stop);
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

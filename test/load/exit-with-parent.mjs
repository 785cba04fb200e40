// Preloaded (node --import) into every process the load driver forks, the emulator's CLI
// included: a child forked with an IPC channel exits as soon as that channel closes, so no
// child outlives the driver, whatever ends it (an error, Ctrl-C, or a kill -9).
if (typeof process.send === 'function') {
  process.on('disconnect', () => process.exit(0));
  // Listening for 'disconnect' holds the channel open; let the process end on its own as usual.
  process.channel?.unref();
}

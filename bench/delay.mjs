// An injected network round trip for the token stub. Each accepted socket is wrapped in a Duplex
// that hands every chunk on half a round trip later in each direction, in order, so a request and
// its response cost one round trip, and a TLS handshake costs what it costs over a real network
// (TLS 1.3: one more). The first bytes a connection sends are held one more round trip, standing
// in for the TCP handshake the loopback interface completes at once.
import { Duplex } from 'node:stream';

/** Delivers values in arrival order, each no earlier than `delayMs` after it came in. */
function delayedQueue(delayMs, deliver, firstExtraMs = 0) {
  const queue = [];
  let notBefore = performance.now() + delayMs + firstExtraMs;
  const next = () => {
    const item = queue.shift();
    if (item !== undefined) deliver(item.value);
  };
  return (value) => {
    const at = Math.max(performance.now() + delayMs, notBefore);
    notBefore = at;
    queue.push({ value });
    // Each timer delivers the head of the queue, not its own value: timers of different lengths
    // may fire out of order, chunks may not.
    setTimeout(next, at - performance.now());
  };
}

const END = Symbol('end');

/** Wraps a raw socket so that everything through it takes `roundTripMs` per round trip. */
export function withRoundTrip(socket, roundTripMs) {
  const half = roundTripMs / 2;
  // Without this, Nagle's algorithm holds small TLS records for the peer's delayed ACK (40 ms).
  socket.setNoDelay(true);
  const toSocket = delayedQueue(half, (chunk) => {
    if (chunk === END) socket.end();
    else if (!socket.destroyed) socket.write(chunk);
  });
  const wrapped = new Duplex({
    write(chunk, _encoding, callback) {
      toSocket(chunk);
      callback();
    },
    final(callback) {
      toSocket(END);
      callback();
    },
    read() {
      // Data is pushed as it comes off the delay queue; a stub has no need for backpressure.
    },
    destroy(err, callback) {
      socket.destroy();
      callback(err);
    },
  });
  const fromSocket = delayedQueue(half, (chunk) => wrapped.push(chunk === END ? null : chunk), roundTripMs);
  socket.on('data', fromSocket);
  socket.on('end', () => fromSocket(END));
  socket.on('error', (err) => wrapped.destroy(err));
  socket.on('close', () => {
    if (!wrapped.destroyed) setTimeout(() => wrapped.destroy(), roundTripMs);
  });
  wrapped.remoteAddress = socket.remoteAddress;
  wrapped.remotePort = socket.remotePort;
  wrapped.setNoDelay = () => wrapped;
  wrapped.setKeepAlive = () => wrapped;
  return wrapped;
}

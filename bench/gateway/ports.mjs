// Loopback ports for the gateway benches: a free one, and waiting until a child listens on one.
import net from 'node:net';

/** A port nothing listens on now (the OS picks it). */
export const freePort = () =>
  new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

/** Resolves once `child` (called `what` in errors) accepts connections on `port`; throws if it exits first or takes over `withinMs`. */
export async function waitForPort(port, child, what, withinMs = 60_000, everyMs = 100) {
  const until = Date.now() + withinMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode} before listening`);
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.on('connect', () => (s.end(), resolve(true)));
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`${what} did not listen on ${port} within ${Math.round(withinMs / 1000)} s`);
}

import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * A loopback TCP port that nothing listens on, for a server a test starts later (an app whose
 * PUBLIC_BASE_URL must name its port before it listens, a child process, a proxy).
 *
 * The port is taken below the kernel's ephemeral range: a port the kernel hands out (`listen(0)`)
 * and we release can be given to any outgoing connection (PostgreSQL, Redis, another test file's
 * client) before our server binds it, which CI saw as `EADDRINUSE`. Below the range the kernel
 * never hands it out; each process also remembers what it gave, and a bind check skips ports in use.
 */
const handedOut = new Set<number>();

function ephemeralLow(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    const value = Number(low);
    return Number.isInteger(value) && value > 12_000 ? value : 32_768;
  } catch {
    return 32_768;
  }
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export async function freePort(): Promise<number> {
  const high = ephemeralLow() - 1;
  const low = Math.max(10_000, high - 20_000);
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (handedOut.has(port)) continue;
    if (await bindable(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free loopback port between ${low} and ${high}`);
}

/**
 * The WebSocket side of the journey load, in its own process: one connection per simulated user
 * (`/ws/customer`), counting the order updates each receives and their delay from the event's
 * `at` (same machine clock, millisecond precision). Reports to the parent over IPC.
 */
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';

const fixture = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as { url: string; tokens: string[] };
const delays: number[] = [];
let received = 0;
let closedByServer = 0;
const sockets: WebSocket[] = [];
const OPEN_BATCH = 200;

function open(token: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${fixture.url}/ws/customer?access_token=${token}`, {
      perMessageDeflate: false,
    });
    socket.once('error', reject);
    socket.on('close', () => (closedByServer += 1));
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString()) as { type: string; at?: string };
      if (message.type === 'ready') return resolve();
      if (message.type === 'heartbeat' || message.type === 'ping' || message.at === undefined) return;
      received += 1;
      const at = Date.parse(message.at);
      if (Number.isFinite(at) && delays.length < 1_000_000) delays.push(Date.now() - at);
    });
    sockets.push(socket);
  });
}

process.on('message', async (command: { type: string }) => {
  if (command.type === 'connect') {
    const started = Date.now();
    let failed = 0;
    for (let index = 0; index < fixture.tokens.length; index += OPEN_BATCH) {
      const results = await Promise.allSettled(fixture.tokens.slice(index, index + OPEN_BATCH).map(open));
      failed += results.filter((result) => result.status === 'rejected').length;
    }
    process.send!({ type: 'connected', count: sockets.length - failed, failed, ms: Date.now() - started });
  } else if (command.type === 'report') {
    const sorted = [...delays].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
    const open = sockets.filter((socket) => socket.readyState === WebSocket.OPEN).length;
    process.send!({
      type: 'report',
      received,
      open,
      closedByServer,
      p50: at(0.5),
      p95: at(0.95),
      p99: at(0.99),
    });
  } else if (command.type === 'close') {
    for (const socket of sockets) socket.terminate();
    process.exit(0);
  }
});
process.send!({ type: 'started' });

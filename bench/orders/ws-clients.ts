/**
 * The WebSocket side of the orders benchmark, in its own process (the server keeps its cores):
 * opens one connection per token, then records, for every message, now − the publisher's
 * timestamp (same machine clock). Reports to the parent over IPC.
 */
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';

interface Fixture {
  url: string;
  tokens: string[];
}

const fixture = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Fixture;
const latencies: number[] = [];
let received = 0;
let recording = false;
const sockets: WebSocket[] = [];
const OPEN_BATCH = 200;

function open(token: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${fixture.url}/ws/customer?access_token=${token}`, {
      perMessageDeflate: false,
    });
    socket.once('error', reject);
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString()) as { type: string; data?: { sentAtMs?: number } };
      if (message.type === 'ready') return resolve();
      if (!recording || message.data?.sentAtMs === undefined) return;
      received += 1;
      latencies.push(performance.timeOrigin + performance.now() - message.data.sentAtMs);
    });
    sockets.push(socket);
  });
}

process.on('message', async (command: { type: string }) => {
  if (command.type === 'connect') {
    const started = Date.now();
    for (let index = 0; index < fixture.tokens.length; index += OPEN_BATCH) {
      await Promise.all(fixture.tokens.slice(index, index + OPEN_BATCH).map(open));
    }
    process.send!({ type: 'connected', count: sockets.length, ms: Date.now() - started });
  } else if (command.type === 'record') {
    recording = true;
  } else if (command.type === 'report') {
    recording = false;
    latencies.sort((a, b) => a - b);
    const at = (q: number) =>
      Math.round((latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0) * 10) /
      10;
    const open = sockets.filter((socket) => socket.readyState === WebSocket.OPEN).length;
    process.send!({ type: 'report', received, open, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: at(1) });
  } else if (command.type === 'close') {
    for (const socket of sockets) socket.terminate();
    process.exit(0);
  }
});
process.send!({ type: 'started' });

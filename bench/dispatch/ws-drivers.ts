/**
 * The WebSocket side of the dispatch ingest benchmark (issue #20), in a process of its own (as
 * autocannon is for the PUT): one `/ws/driver` socket per driver, each sending
 * `{"type":"driver-location","id",data}` fixes and waiting for the answer before its next one
 * (one fix in flight per driver, as a phone sends). At most INFLIGHT fixes are in flight over
 * all the sockets, taken round-robin over the drivers, so the load is a closed loop like
 * autocannon's connections. Counted: acks (accepted fixes) and errors by code; the time from
 * send to answer of every fix (exact percentiles over all of them).
 *
 * Driven by the parent over IPC: `connect` → `connected {count, failed, ms}`;
 * `run {seconds, inflight}` → `ran {...figures}`; `close` exits.
 */
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';

interface Fixture {
  url: string;
  tokens: string[];
  starts: { latitude: number; longitude: number }[];
}

const fixture = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Fixture;
const OPEN_BATCH = 200;

interface Driver {
  socket: WebSocket;
  position: { latitude: number; longitude: number };
  sentAt: number;
  busy: boolean;
}

const drivers: Driver[] = [];
let onAnswer: (driver: Driver, type: string, code: string | undefined) => void = () => {};
let closedByServer = 0;

function open(token: string, start: { latitude: number; longitude: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${fixture.url.replace(/^http/, 'ws')}/ws/driver?access_token=${token}`, {
      perMessageDeflate: false,
    });
    const driver: Driver = { socket, position: { ...start }, sentAt: 0, busy: false };
    socket.once('error', reject);
    socket.on('close', () => (closedByServer += 1));
    socket.on('message', (raw) => {
      const message = JSON.parse(raw.toString()) as { type: string; code?: string; id?: unknown };
      if (message.type === 'ready') {
        drivers.push(driver);
        return resolve();
      }
      if (message.id === undefined || message.id === null) return; // live messages, pongs
      onAnswer(driver, message.type, message.code);
    });
  });
}

function send(driver: Driver, id: number): void {
  // about ±0.3 m per fix: well under any speed limit however close two fixes come
  driver.position.latitude += (Math.random() - 0.5) * 0.000006;
  driver.position.longitude += (Math.random() - 0.5) * 0.000006;
  driver.busy = true;
  driver.sentAt = performance.now();
  driver.socket.send(
    JSON.stringify({
      type: 'driver-location',
      id,
      data: {
        latitude: driver.position.latitude,
        longitude: driver.position.longitude,
        accuracyMeters: 8,
        recordedAt: new Date().toISOString(),
        heading: 90,
      },
    }),
  );
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
const round1 = (value: number) => Math.round(value * 10) / 10;

function run(seconds: number, inflight: number) {
  return new Promise<object>((resolve) => {
    const times: number[] = [];
    const codes = new Map<string, number>();
    let acked = 0;
    let sent = 0;
    let next = Math.floor(Math.random() * drivers.length);
    let stopping = false;
    let outstanding = 0;
    const began = performance.now();
    const startNext = () => {
      // the next driver in turn with no fix in flight (round-robin)
      for (let tries = 0; tries < drivers.length; tries += 1) {
        next = (next + 1) % drivers.length;
        const driver = drivers[next]!;
        if (!driver.busy && driver.socket.readyState === WebSocket.OPEN) {
          outstanding += 1;
          sent += 1;
          send(driver, sent);
          return;
        }
      }
    };
    const finish = () => {
      const elapsed = (performance.now() - began) / 1000;
      const sorted = Float64Array.from(times).sort();
      resolve({
        type: 'ran',
        sockets: drivers.length,
        inflight,
        seconds: round1(elapsed),
        sent,
        answered: times.length,
        acked,
        ackedPerSecond: Math.round(acked / elapsed),
        errorsByCode: Object.fromEntries(codes),
        closedByServer,
        latency: {
          p50: round1(percentile(sorted, 50)),
          p90: round1(percentile(sorted, 90)),
          p95: round1(percentile(sorted, 95)),
          p99: round1(percentile(sorted, 99)),
          max: round1(sorted.at(-1) ?? 0),
        },
      });
    };
    onAnswer = (driver, type, code) => {
      if (!driver.busy) return;
      driver.busy = false;
      outstanding -= 1;
      times.push(performance.now() - driver.sentAt);
      if (type === 'driver-location-ack') acked += 1;
      else codes.set(code ?? type, (codes.get(code ?? type) ?? 0) + 1);
      if (!stopping) startNext();
      else if (outstanding === 0) finish();
    };
    setTimeout(() => {
      stopping = true;
      if (outstanding === 0) finish();
      // answers that never come (a dropped socket) do not hold the report forever
      setTimeout(() => {
        if (outstanding > 0) {
          codes.set('unanswered', outstanding);
          outstanding = 0;
          finish();
        }
      }, 10_000).unref();
    }, seconds * 1000);
    for (let index = 0; index < Math.min(inflight, drivers.length); index += 1) startNext();
  });
}

process.on('message', async (command: { type: string; seconds?: number; inflight?: number }) => {
  if (command.type === 'connect') {
    const started = Date.now();
    let failed = 0;
    for (let index = 0; index < fixture.tokens.length; index += OPEN_BATCH) {
      const results = await Promise.allSettled(
        fixture.tokens
          .slice(index, index + OPEN_BATCH)
          .map((token, offset) => open(token, fixture.starts[index + offset]!)),
      );
      failed += results.filter((result) => result.status === 'rejected').length;
    }
    process.send!({ type: 'connected', count: drivers.length, failed, ms: Date.now() - started });
  } else if (command.type === 'run') {
    process.send!(await run(command.seconds ?? 10, command.inflight ?? 100));
  } else if (command.type === 'close') {
    for (const driver of drivers) driver.socket.terminate();
    process.exit(0);
  }
});
process.send!({ type: 'started' });

/**
 * The `clamd` adapter of the virus-scanning port (spec §3.3, issue #18): it speaks ClamAV's
 * daemon protocol itself over `node:net`, a TCP port or a Unix socket. The protocol is a few
 * lines (clamd(8), "COMMANDS"), so no client library is used:
 *
 * - Commands are prefixed with `z` and ended by a NUL byte; clamd then ends its reply with a NUL
 *   too, so a reply that closes without one was cut short.
 * - `zPING\0` is answered `PONG\0` (`check()`, for readiness).
 * - `zINSTREAM\0` is followed by the bytes in chunks, each prefixed by its length as a 4-byte
 *   unsigned big-endian integer, and a zero-length chunk that ends the stream. The reply is
 *   `stream: OK\0`, `stream: <signature> FOUND\0`, or `<reason> ERROR\0`; beyond clamd's
 *   `StreamMaxLength` it is `INSTREAM size limit exceeded. ERROR\0` and clamd closes the
 *   connection. If our bytes are still unread then, the close resets the connection and the
 *   reply may be lost before it is read: `maxStreamBytes`, kept at or below `StreamMaxLength`, is
 *   the limit that always holds.
 *
 * Failures are split the way the files context must react to them: `ScannerUnavailable` (clamd
 * unreachable, too slow, cut short or answering nonsense: we know nothing of the file; the
 * upload is refused with 503 and may be retried) and `ScanTooLarge` (the file is bigger than
 * clamd accepts: a retry would fail the same way). A verdict is only ever read from a whole
 * reply.
 */
import net, { type Socket } from 'node:net';
import type { ScanVerdict, VirusScanner } from './scanner-port.js';

/** Where clamd listens: `TCPSocket`/`TCPAddr` or `LocalSocket` in clamd.conf. */
export type ClamdAddress = { host: string; port: number } | { socketPath: string };

export interface ClamdOptions {
  /** The most one exchange (connect, send, scan, reply) may take, in ms. */
  timeoutMs: number;
  /** Bodies above this are refused before sending; set it to clamd's `StreamMaxLength` or less. */
  maxStreamBytes: number;
}

/** Chunk size of INSTREAM: bounded, so the socket's buffer never holds the whole file twice. */
export const CLAMD_CHUNK_BYTES = 64 * 1024;
/** The longest reply we read (a signature name is far shorter): more is a broken peer. */
const MAX_REPLY_BYTES = 4 * 1024;
const SIZE_LIMIT_REPLY = 'INSTREAM size limit exceeded. ERROR';

export type ScannerUnavailableCode = 'TIMEOUT' | 'UNREACHABLE' | 'CLOSED' | 'BAD_REPLY' | 'SCANNER_ERROR';

/** The scanner could not give a verdict; the upload may be retried later (503). */
export class ScannerUnavailable extends Error {
  readonly kind = 'unavailable' as const;
  constructor(
    /** TIMEOUT, UNREACHABLE (refused, no socket), CLOSED (cut short), BAD_REPLY, SCANNER_ERROR. */
    readonly code: ScannerUnavailableCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ScannerUnavailable';
  }
}

/** The body is larger than the scanner accepts: no retry can succeed (413). */
export class ScanTooLarge extends Error {
  readonly kind = 'too_large' as const;
  readonly code = 'SCAN_TOO_LARGE' as const;
  constructor(
    readonly byteSize: number,
    /** Our own limit, or undefined when clamd refused the stream with its `StreamMaxLength`. */
    readonly maxStreamBytes: number | undefined,
  ) {
    super(
      maxStreamBytes === undefined
        ? `clamd refused a ${byteSize}-byte stream: larger than its StreamMaxLength`
        : `a ${byteSize}-byte file is larger than the ${maxStreamBytes} bytes clamd may be sent`,
    );
    this.name = 'ScanTooLarge';
  }
}

/** The INSTREAM frames of a body: command, length-prefixed chunks, the zero-length end. */
export function* instreamFrames(body: Buffer, chunkBytes = CLAMD_CHUNK_BYTES): Generator<Buffer> {
  yield Buffer.from('zINSTREAM\0', 'latin1');
  for (let offset = 0; offset < body.length; offset += chunkBytes) {
    const chunk = body.subarray(offset, offset + chunkBytes);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(chunk.length);
    yield length;
    yield chunk;
  }
  yield Buffer.alloc(4);
}

/** Reads the verdict from a whole INSTREAM reply (its NUL removed). */
export function parseScanReply(reply: string, byteSize: number): ScanVerdict {
  if (reply === 'stream: OK') return { clean: true };
  const found = /^stream: (.+) FOUND$/.exec(reply);
  if (found !== null) return { clean: false, signature: found[1]! };
  if (reply === SIZE_LIMIT_REPLY) throw new ScanTooLarge(byteSize, undefined);
  if (reply.endsWith(' ERROR'))
    throw new ScannerUnavailable('SCANNER_ERROR', `clamd could not scan: ${reply.slice(0, 200)}`);
  throw new ScannerUnavailable('BAD_REPLY', `clamd answered an unknown reply: ${reply.slice(0, 200)}`);
}

export function describeClamdAddress(address: ClamdAddress): string {
  return 'socketPath' in address
    ? `unix://${address.socketPath}`
    : `tcp://${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`;
}

/** Waits until the socket takes more data, or is closed (the exchange then ends on its own). */
function drained(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}

/** Writes the frames in order, respecting back-pressure; false when the socket went first. */
async function writeFrames(socket: Socket, frames: Iterable<Buffer>): Promise<boolean> {
  for (const frame of frames) {
    if (socket.destroyed) return false;
    if (!socket.write(frame)) await drained(socket);
  }
  return !socket.destroyed;
}

function connect(address: ClamdAddress): Socket {
  return 'socketPath' in address
    ? net.connect({ path: address.socketPath })
    : net.connect({ host: address.host, port: address.port });
}

interface Connection {
  connected: boolean;
  /** Every frame was handed to the socket. */
  sent: boolean;
  received: number;
  failure: Error | undefined;
}

function lostConnection(where: string, connection: Connection): ScannerUnavailable {
  const { failure, received } = connection;
  const code = (failure as NodeJS.ErrnoException | undefined)?.code;
  const because = code === undefined ? '' : ` (${code})`;
  if (!connection.connected)
    return new ScannerUnavailable('UNREACHABLE', `clamd at ${where} is unreachable${because}`, {
      cause: failure,
    });
  // clamd closing while we still send is usually its StreamMaxLength: it replies and closes with
  // our bytes unread, which resets the connection, and the reset may destroy its reply before
  // we read it. Only our own limit, CLAMD_MAX_STREAM_BYTES, tells "too large" for certain.
  const what =
    received > 0
      ? 'in the middle of its reply'
      : connection.sent
        ? 'without a reply'
        : "while the file was being sent (above clamd's StreamMaxLength? keep CLAMD_MAX_STREAM_BYTES at or below it)";
  return new ScannerUnavailable('CLOSED', `clamd at ${where} closed the connection ${what}${because}`, {
    cause: failure,
  });
}

/**
 * One command on a fresh connection: sends the frames, resolves with the reply up to its NUL.
 * Everything (connect, send, scan, reply) must end within `timeoutMs`. The reply is read even
 * while frames are still being sent: clamd answers early when it refuses the stream.
 */
function exchange(address: ClamdAddress, timeoutMs: number, frames: Iterable<Buffer>): Promise<string> {
  const where = describeClamdAddress(address);
  return new Promise((resolve, reject) => {
    const socket = connect(address);
    const connection: Connection = { connected: false, sent: false, received: 0, failure: undefined };
    let received = Buffer.alloc(0);
    let settled = false;
    const settle = (outcome: { reply: string } | { error: Error }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if ('reply' in outcome) resolve(outcome.reply);
      else reject(outcome.error);
    };
    const timer = setTimeout(
      () =>
        settle({
          error: new ScannerUnavailable('TIMEOUT', `clamd at ${where} did not answer within ${timeoutMs} ms`),
        }),
      timeoutMs,
    );
    socket.on('connect', () => {
      connection.connected = true;
      writeFrames(socket, frames).then(
        (sent) => (connection.sent = sent),
        (error: Error) => (connection.failure ??= error),
      );
    });
    socket.on('data', (data: Buffer) => {
      received = Buffer.concat([received, data]);
      connection.received = received.length;
      const end = received.indexOf(0);
      if (end >= 0) settle({ reply: received.subarray(0, end).toString('utf8') });
      else if (received.length > MAX_REPLY_BYTES)
        settle({
          error: new ScannerUnavailable('BAD_REPLY', `clamd at ${where} sent a reply without its end`),
        });
    });
    // A write into a connection clamd closed (EPIPE, ECONNRESET) is not the answer: a reply
    // already read wins, and only a connection that closes without a whole reply is a failure.
    socket.on('error', (error) => (connection.failure ??= error));
    socket.on('close', () => settle({ error: lostConnection(where, connection) }));
  });
}

/** The clamd scanner: one connection per command (clamd closes it after each reply). */
export function createClamdScanner(address: ClamdAddress, options: ClamdOptions): VirusScanner {
  const where = describeClamdAddress(address);
  return {
    name: 'clamd',
    async scan(body) {
      if (body.length > options.maxStreamBytes) throw new ScanTooLarge(body.length, options.maxStreamBytes);
      const reply = await exchange(address, options.timeoutMs, instreamFrames(body));
      return parseScanReply(reply, body.length);
    },
    async check() {
      const reply = await exchange(address, options.timeoutMs, [Buffer.from('zPING\0', 'latin1')]);
      if (reply !== 'PONG')
        throw new ScannerUnavailable(
          'BAD_REPLY',
          `clamd at ${where} answered PING with: ${reply.slice(0, 200)}`,
        );
    },
  };
}

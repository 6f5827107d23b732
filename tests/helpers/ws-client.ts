import WebSocket from 'ws';

/** A WebSocket client for tests: collects every message, waits for one, sends inbound messages. */
export interface WsClient {
  socket: WebSocket;
  messages: Record<string, unknown>[];
  next(
    predicate: (message: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  /** Sends `{type, id, data}` and waits for its ack or error (matched by id). */
  request(type: string, data: unknown): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

let sequence = 0;

export async function connectWs(
  base: string,
  path: string,
  query: Record<string, string>,
): Promise<WsClient> {
  const socket = new WebSocket(`${base}${path}?${new URLSearchParams(query)}`);
  const messages: Record<string, unknown>[] = [];
  const waiters: {
    predicate: (message: Record<string, unknown>) => boolean;
    resolve(message: Record<string, unknown>): void;
  }[] = [];
  socket.on('message', (data) => {
    const message = JSON.parse(data.toString()) as Record<string, unknown>;
    messages.push(message);
    for (const waiter of [...waiters]) {
      if (waiter.predicate(message)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(message);
      }
    }
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => reject(new Error(`HTTP ${response.statusCode} ${body.slice(0, 300)}`)));
    });
    socket.once('error', reject);
    socket.once('open', () => resolve());
  });
  const client: WsClient = {
    socket,
    messages,
    next(predicate, timeoutMs = 5_000) {
      const found = messages.find(predicate);
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(new Error(`no matching message within ${timeoutMs} ms; got ${JSON.stringify(messages)}`)),
          timeoutMs,
        );
        waiters.push({ predicate, resolve: (message) => (clearTimeout(timer), resolve(message)) });
      });
    },
    request(type, data) {
      sequence += 1;
      const id = `r${sequence}`;
      socket.send(JSON.stringify({ type, id, data }));
      return client.next((message) => message.id === id);
    },
    async close() {
      if (socket.readyState === socket.CLOSED) return;
      await new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        socket.close();
      });
    },
  };
  await client.next((message) => message.type === 'ready');
  return client;
}

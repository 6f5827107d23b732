/**
 * The real-time bus: fan-out across app instances and a short replay log per audience, so a
 * client that reconnects resumes from its last message id.
 *
 * Redis: each audience (e.g. `user:<id>`) is a capped Redis stream (XADD MAXLEN ~ HISTORY_LENGTH,
 * expiring HISTORY_TTL_MS after its last message) and a pub/sub channel of the same name; one Lua
 * script appends and publishes atomically, so the id a live listener sees is the id replay uses.
 * Each instance SUBSCRIBEs only to the audiences its connected clients need (reference-counted).
 * Without Redis (no REDIS_URL) an in-process bus with the same contract serves a single instance.
 */
import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';

export const HISTORY_LENGTH = 500;
export const HISTORY_TTL_MS = 60 * 60_000;
/** A message's JSON; bigger ones are a bug (payloads stay small for 2G clients). */
export const MAX_MESSAGE_BYTES = 4_096;
export const MAX_REPLAY = 500;

export interface RealtimeMessage {
  /** The bus id ("<ms>-<seq>"), comparable within one audience. */
  id: string;
  channel: string;
  type: string;
  at: string;
  orderId?: string;
  data: Record<string, unknown>;
}

export type OutgoingMessage = Omit<RealtimeMessage, 'id'>;

export interface Publication {
  audiences: readonly string[];
  message: OutgoingMessage;
}

export interface RealtimeBus {
  publish(publications: readonly Publication[]): Promise<void>;
  /** Live messages of one audience; returns the unsubscribe function. */
  subscribe(audience: string, listener: (message: RealtimeMessage) => void): Promise<() => Promise<void>>;
  /** Messages after `afterId`; `complete` is false when the log no longer reaches back that far. */
  history(
    audience: string,
    afterId: string,
    limit?: number,
  ): Promise<{ messages: RealtimeMessage[]; complete: boolean }>;
  /**
   * Which of the audiences someone hears now, on any instance (presence without state: an
   * instance subscribes an audience while one of its sockets hears it, so a count of subscribers
   * above zero means a connected client). Answers in the order asked; at most PRESENCE_MAX.
   */
  listening(audiences: readonly string[]): Promise<boolean[]>;
  /**
   * The audiences starting with `prefix` that someone hears now, on any instance (e.g. `agent:`:
   * the support agents connected), at most `limit`.
   */
  listeningWith(prefix: string, limit: number): Promise<string[]>;
  close(): Promise<void>;
}

/** Audiences one presence question may name. */
export const PRESENCE_MAX = 64;

function checkPresence(audiences: readonly string[]): void {
  if (audiences.length > PRESENCE_MAX)
    throw new Error(`presence asked for ${audiences.length} audiences (at most ${PRESENCE_MAX})`);
}

export function compareIds(left: string, right: string): number {
  const [leftMs = '0', leftSeq = '0'] = left.split('-');
  const [rightMs = '0', rightSeq = '0'] = right.split('-');
  const ms = BigInt(leftMs) - BigInt(rightMs);
  if (ms !== 0n) return ms < 0n ? -1 : 1;
  const seq = BigInt(leftSeq) - BigInt(rightSeq);
  return seq === 0n ? 0 : seq < 0n ? -1 : 1;
}

export const ID_PATTERN = /^\d{1,15}-\d{1,10}$/;

function encode(message: OutgoingMessage): string {
  const json = JSON.stringify(message);
  if (Buffer.byteLength(json) > MAX_MESSAGE_BYTES)
    throw new Error(`real-time message ${message.type} exceeds ${MAX_MESSAGE_BYTES} bytes`);
  return json;
}

const APPEND_AND_PUBLISH = `
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'm', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PUBLISH', KEYS[1], id .. ' ' .. ARGV[1])
return id`;

export function createRedisBus(options: { redis: Redis; subscriber: Redis; prefix: string }): RealtimeBus {
  const { redis, subscriber, prefix } = options;
  const key = (audience: string) => `${prefix}rt:${audience}`;
  const listeners = new Map<string, Set<(message: RealtimeMessage) => void>>();
  redis.defineCommand('rtAppendPublish', { numberOfKeys: 1, lua: APPEND_AND_PUBLISH });

  subscriber.on('message', (channel: string, payload: string) => {
    const set = listeners.get(channel);
    if (set === undefined) return;
    const space = payload.indexOf(' ');
    const message = {
      id: payload.slice(0, space),
      ...(JSON.parse(payload.slice(space + 1)) as OutgoingMessage),
    };
    for (const listener of set) listener(message);
  });

  // Publications of one event-loop turn go out as one pipeline (one socket write instead of one
  // per event), in the order they were published.
  type Queued = { commands: [string, string][]; resolve(): void; reject(error: unknown): void };
  let queued: Queued[] = [];
  function flush(): void {
    const batch = queued;
    queued = [];
    const pipeline = redis.pipeline() as unknown as {
      rtAppendPublish(key: string, json: string, max: number, ttl: number): void;
      exec(): Promise<[Error | null, unknown][] | null>;
    };
    for (const item of batch) {
      for (const [streamKey, json] of item.commands)
        pipeline.rtAppendPublish(streamKey, json, HISTORY_LENGTH, HISTORY_TTL_MS);
    }
    pipeline.exec().then(
      (results) => {
        let offset = 0;
        for (const item of batch) {
          const own = results?.slice(offset, offset + item.commands.length) ?? [];
          offset += item.commands.length;
          const failed = own.find(([error]) => error !== null);
          if (failed === undefined) item.resolve();
          else item.reject(failed[0]);
        }
      },
      (error: unknown) => {
        for (const item of batch) item.reject(error);
      },
    );
  }

  return {
    publish(publications) {
      if (publications.length === 0) return Promise.resolve();
      const commands: [string, string][] = [];
      try {
        for (const { audiences, message } of publications) {
          const json = encode(message);
          for (const audience of audiences) commands.push([key(audience), json]);
        }
      } catch (error) {
        return Promise.reject(error);
      }
      if (commands.length === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        if (queued.length === 0) setImmediate(flush);
        queued.push({ commands, resolve, reject });
      });
    },

    async subscribe(audience, listener) {
      const channel = key(audience);
      let set = listeners.get(channel);
      if (set === undefined) {
        set = new Set();
        listeners.set(channel, set);
        await subscriber.subscribe(channel);
      }
      set.add(listener);
      return async () => {
        const current = listeners.get(channel);
        if (current === undefined) return;
        current.delete(listener);
        if (current.size === 0) {
          listeners.delete(channel);
          await subscriber.unsubscribe(channel).catch(() => undefined);
        }
      };
    },

    async history(audience, afterId, limit = MAX_REPLAY) {
      const streamKey = key(audience);
      const count = Math.min(limit, MAX_REPLAY);
      const [info, range] = await Promise.all([
        redis.call('XINFO', 'STREAM', streamKey).catch(() => null) as Promise<unknown[] | null>,
        redis.xrange(streamKey, `(${afterId}`, '+', 'COUNT', count + 1),
      ]);
      let complete = true;
      if (info !== null) {
        const fields = new Map<string, unknown>();
        for (let index = 0; index + 1 < info.length; index += 2)
          fields.set(String(info[index]), info[index + 1]);
        const trimmed = Number(fields.get('entries-added') ?? 0) > Number(fields.get('length') ?? 0);
        const first = fields.get('first-entry') as [string, string[]] | null | undefined;
        if (trimmed && first != null && compareIds(afterId, first[0]) < 0) complete = false;
      }
      if (range.length > count) complete = false;
      const messages = range
        .slice(0, count)
        .map(([id, fields]) => ({ id, ...(JSON.parse(fields[1] ?? '{}') as OutgoingMessage) }));
      return { messages, complete };
    },

    async listening(names) {
      checkPresence(names);
      if (names.length === 0) return [];
      // PUBSUB NUMSUB answers [channel, count, channel, count, …] for the Redis server: every instance.
      const counts = (await redis.call('PUBSUB', 'NUMSUB', ...names.map(key))) as (string | number)[];
      return names.map((_, index) => Number(counts[index * 2 + 1] ?? 0) > 0);
    },

    async listeningWith(audiencePrefix, limit) {
      // PUBSUB CHANNELS lists the channels with a subscriber on the Redis server (every instance).
      const pattern = key(audiencePrefix).replace(/[*?[\]\\]/g, (char) => `\\${char}`) + '*';
      const channels = (await redis.call('PUBSUB', 'CHANNELS', pattern)) as string[];
      const start = key('').length;
      return channels.slice(0, limit).map((channel) => channel.slice(start));
    },

    async close() {
      listeners.clear();
    },
  };
}

export function createMemoryBus(): RealtimeBus {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  const logs = new Map<string, { messages: RealtimeMessage[]; trimmed: boolean }>();
  let lastMs = 0;
  let seq = 0;
  const nextId = () => {
    const now = Date.now();
    if (now > lastMs) {
      lastMs = now;
      seq = 0;
    } else seq += 1;
    return `${lastMs}-${seq}`;
  };
  return {
    async publish(publications) {
      for (const { audiences, message } of publications) {
        encode(message);
        for (const audience of audiences) {
          const full = { id: nextId(), ...message };
          const log = logs.get(audience) ?? { messages: [], trimmed: false };
          log.messages.push(full);
          if (log.messages.length > HISTORY_LENGTH) {
            log.messages.shift();
            log.trimmed = true;
          }
          logs.set(audience, log);
          emitter.emit(audience, full);
        }
      }
    },
    async subscribe(audience, listener) {
      emitter.on(audience, listener);
      return async () => void emitter.off(audience, listener);
    },
    async history(audience, afterId, limit = MAX_REPLAY) {
      const log = logs.get(audience);
      if (log === undefined) return { messages: [], complete: true };
      const after = log.messages.filter((message) => compareIds(message.id, afterId) > 0);
      const first = log.messages[0];
      const complete =
        !(log.trimmed && first !== undefined && compareIds(afterId, first.id) < 0) && after.length <= limit;
      return { messages: after.slice(0, Math.min(limit, MAX_REPLAY)), complete };
    },
    async listening(names) {
      checkPresence(names);
      return names.map((name) => emitter.listenerCount(name) > 0);
    },
    async listeningWith(audiencePrefix, limit) {
      return emitter
        .eventNames()
        .filter((name): name is string => typeof name === 'string' && name.startsWith(audiencePrefix))
        .filter((name) => emitter.listenerCount(name) > 0)
        .slice(0, limit);
    },
    async close() {
      emitter.removeAllListeners();
    },
  };
}

/**
 * Push through Firebase Cloud Messaging (HTTP v1) with the official SDK, `firebase-admin`.
 * One message per device token: a notification payload (title and body), a data payload (ids
 * only), the Android notification channel and sound, the APNs sound, a collapse key on both
 * platforms and a time to live. FCM's refusals become `ChannelResult`s (docs/notification-channels.md):
 * a dead token is `unregisteredToken` (its device is forgotten), a malformed message is
 * permanent, quotas and server faults throw (the queue retries them).
 */
import type { Agent } from 'node:http';
import { randomUUID } from 'node:crypto';
import {
  applicationDefault,
  cert,
  deleteApp,
  initializeApp,
  type App,
  type Credential,
  type ServiceAccount,
} from 'firebase-admin/app';
import { getMessaging, type Message } from 'firebase-admin/messaging';
import type { ChannelAdapter, ChannelResult, OutboundMessage } from './outbox.js';

export interface FcmSettings {
  /** The service-account key (the JSON Firebase issues), inline. */
  serviceAccountJson?: string;
  /** Or a path to it (GOOGLE_APPLICATION_CREDENTIALS); neither: Google's application default. */
  serviceAccountFile?: string;
  /** The Firebase project id; unset: the service account's `project_id`. */
  projectId?: string;
  /** How long FCM and APNs keep an undelivered message. */
  ttlSeconds: number;
  /**
   * The agent SDK requests go through: firebase-admin's `AppOptions.httpAgent` (the send) and the
   * credential's (the OAuth token), for an outbound proxy, and how the tests reach their stand-in.
   * firebase-admin 13 hands the credential's agent to the token request only for a key given as
   * a file path: an inline key's token request ignores it (docs/notification-channels.md).
   */
  httpAgent?: Agent;
}

/** Android notification channels the apps declare; a sound other than the default has its own. */
export const DEFAULT_ANDROID_CHANNEL = 'general';
const PUSH_CONTROL_KEYS = new Set(['platform', 'sound', 'collapseKey', 'androidChannel', 'ttlSeconds']);

/** FCM error codes (as firebase-admin names them) that say the token is dead. */
const DEAD_TOKEN = new Set([
  'messaging/registration-token-not-registered',
  'messaging/invalid-registration-token',
]);
/** Refusals a retry cannot change: the message or the project's setup is wrong. */
const PERMANENT = new Set([
  'messaging/invalid-argument',
  'messaging/invalid-recipient',
  'messaging/invalid-payload',
  'messaging/invalid-data-payload-key',
  'messaging/payload-size-limit-exceeded',
  'messaging/invalid-options',
  'messaging/invalid-package-name',
  'messaging/mismatched-credential',
  'messaging/third-party-auth-error',
]);

export type FcmAdapter = ChannelAdapter & { close(): Promise<void> };

export function createFcmAdapter(settings: FcmSettings): FcmAdapter {
  let credential: Credential;
  let projectId = settings.projectId;
  if (settings.serviceAccountJson !== undefined) {
    let account: { project_id?: string } & ServiceAccount;
    try {
      account = JSON.parse(settings.serviceAccountJson) as typeof account;
    } catch {
      // JSON.parse quotes the text it could not read: a secret here, so it is not passed on.
      throw new Error('the FCM service-account key is not JSON');
    }
    projectId ??= account.project_id;
    credential = cert(account, settings.httpAgent);
  } else if (settings.serviceAccountFile !== undefined) {
    credential = cert(settings.serviceAccountFile, settings.httpAgent);
  } else {
    credential = applicationDefault(settings.httpAgent);
  }
  const app: App = initializeApp(
    {
      credential,
      ...(projectId !== undefined ? { projectId } : {}),
      ...(settings.httpAgent !== undefined ? { httpAgent: settings.httpAgent } : {}),
    },
    `push-${randomUUID()}`,
  );
  const messaging = getMessaging(app);
  return {
    name: 'fcm',
    async send(message) {
      let name: string;
      try {
        name = await messaging.send(fcmMessage(message, settings.ttlSeconds));
      } catch (error) {
        return refusal(error);
      }
      return { status: 'sent', providerId: name };
    },
    close: () => deleteApp(app),
  };
}

/** The FCM HTTP v1 message of one outbound push (`to` is the device token). */
export function fcmMessage(message: OutboundMessage, defaultTtlSeconds: number): Message {
  const metadata = message.metadata ?? {};
  const text = (key: string) => (typeof metadata[key] === 'string' ? (metadata[key] as string) : undefined);
  const sound = text('sound') ?? 'default';
  const collapseKey = text('collapseKey');
  const ttlSeconds =
    typeof metadata.ttlSeconds === 'number' && metadata.ttlSeconds > 0
      ? metadata.ttlSeconds
      : defaultTtlSeconds;
  const androidChannel = text('androidChannel') ?? (sound === 'default' ? DEFAULT_ANDROID_CHANNEL : sound);
  // Data values must be strings; the metadata holds ids and kinds only, never personal data.
  const data: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata)) {
    if (PUSH_CONTROL_KEYS.has(key) || value === null || value === undefined) continue;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
      data[key] = String(value);
  }
  const urgent = sound !== 'default';
  return {
    token: message.to,
    notification: {
      ...(message.subject !== undefined ? { title: message.subject } : {}),
      body: message.body,
    },
    data,
    android: {
      priority: urgent ? 'high' : 'normal',
      ttl: ttlSeconds * 1_000,
      ...(collapseKey !== undefined ? { collapseKey } : {}),
      notification: { channelId: androidChannel, sound },
    },
    apns: {
      headers: {
        'apns-priority': urgent ? '10' : '5',
        'apns-expiration': String(Math.floor(Date.now() / 1_000) + ttlSeconds),
        ...(collapseKey !== undefined ? { 'apns-collapse-id': collapseKey.slice(0, 64) } : {}),
      },
      payload: { aps: { sound: sound === 'default' ? 'default' : `${sound}.caf` } },
    },
  };
}

/** FCM's answer as a result, or the error rethrown when a retry may help. */
function refusal(error: unknown): ChannelResult {
  const code = typeof (error as { code?: unknown }).code === 'string' ? (error as { code: string }).code : '';
  if (DEAD_TOKEN.has(code))
    return { status: 'failed', reason: code, permanent: true, unregisteredToken: true };
  if (PERMANENT.has(code)) return { status: 'failed', reason: code, permanent: true };
  // Quotas (message-rate-exceeded), server-unavailable, internal-error, unknown-error, network.
  throw error;
}

/**
 * Local stand-ins of the notification providers, each speaking the provider's API and recording
 * what it received: FCM HTTP v1 and Google's OAuth token endpoint (over TLS, as fcm.googleapis.com
 * and www.googleapis.com), Twilio's Messages API, Africa's Talking's messaging API, and an SMTP
 * server. The adapters reach them through their SDKs' own configuration (docs/notification-channels.md).
 */
import { execFileSync } from 'node:child_process';
import { createPublicKey, createVerify, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { SMTPServer } from 'smtp-server';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
  response.end(JSON.stringify(body));
}

async function listen(server: Server | https.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

const close = (server: Server | https.Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

// ---- Firebase: a service account, Google's token endpoint and FCM HTTP v1

/** A service-account key as Firebase issues it, with a fresh RSA key (node:crypto). */
export function testServiceAccount(projectId: string) {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const clientEmail = `push-sender@${projectId}.iam.gserviceaccount.com`;
  return {
    json: JSON.stringify({
      type: 'service_account',
      project_id: projectId,
      private_key_id: randomBytes(20).toString('hex'),
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      client_email: clientEmail,
      client_id: '100000000000000000001',
      token_uri: 'https://oauth2.googleapis.com/token',
    }),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    clientEmail,
  };
}

/** A self-signed certificate for the provider host names (openssl; node:crypto makes no X.509). */
function certificateFor(names: string[]): { key: string; cert: string } {
  const directory = mkdtempSync(join(tmpdir(), 'stand-in-tls-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=stand-in',
        '-addext',
        `subjectAltName=${names.map((name) => `DNS:${name}`).join(',')}`,
        '-keyout',
        join(directory, 'key.pem'),
        '-out',
        join(directory, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    return {
      key: readFileSync(join(directory, 'key.pem'), 'utf8'),
      cert: readFileSync(join(directory, 'cert.pem'), 'utf8'),
    };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

/** FCM v1's error body, as fcm.googleapis.com answers it. */
function fcmError(status: number, canonical: string, errorCode: string | undefined, message: string) {
  return {
    error: {
      code: status,
      message,
      status: canonical,
      ...(errorCode !== undefined
        ? { details: [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode }] }
        : {}),
    },
  };
}

/** Device tokens the FCM stand-in refuses, and how. */
export const FCM_TOKENS = {
  unregistered: 'token-unregistered',
  invalidArgument: 'token-invalid-argument',
  quota: 'token-quota',
  internal: 'token-internal',
} as const;

export async function startFcmStandIn(account: { publicKeyPem: string; clientEmail: string }) {
  const { key, cert } = certificateFor(['fcm.googleapis.com', 'www.googleapis.com', 'oauth2.googleapis.com']);
  const requests: RecordedRequest[] = [];
  const issued = new Set<string>();
  const server = https.createServer({ key, cert }, (request, response) => {
    void (async () => {
      const body = await readBody(request);
      const host = request.headers.host ?? '';
      const path = request.url ?? '';
      requests.push({ method: request.method ?? '', path: `${host}${path}`, headers: request.headers, body });
      if (request.method === 'POST' && host.startsWith('oauth2.googleapis.com') && path === '/token') {
        // The JWT bearer grant: an RS256 assertion signed by the service account's key.
        const form = new URLSearchParams(body);
        const assertion = form.get('assertion') ?? '';
        const [header, payload, signature] = assertion.split('.');
        const verifier = createVerify('RSA-SHA256');
        verifier.update(`${header}.${payload}`);
        const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as { iss?: string };
        if (
          form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer' ||
          !verifier.verify(createPublicKey(account.publicKeyPem), signature ?? '', 'base64url') ||
          claims.iss !== account.clientEmail
        )
          return json(response, 400, { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' });
        const token = `ya29.stand-in-${randomBytes(8).toString('hex')}`;
        issued.add(token);
        return json(response, 200, { access_token: token, expires_in: 3599, token_type: 'Bearer' });
      }
      const send = /^\/v1\/projects\/([^/]+)\/messages:send$/.exec(path);
      if (request.method !== 'POST' || send === null || !host.startsWith('fcm.googleapis.com'))
        return json(response, 404, fcmError(404, 'NOT_FOUND', undefined, 'Not found'));
      const bearer = (request.headers.authorization ?? '').replace(/^Bearer /, '');
      if (!issued.has(bearer))
        return json(
          response,
          401,
          fcmError(401, 'UNAUTHENTICATED', undefined, 'Request had invalid authentication credentials.'),
        );
      const { message } = JSON.parse(body) as { message: { token?: string } };
      switch (message.token) {
        case FCM_TOKENS.unregistered:
          return json(
            response,
            404,
            fcmError(404, 'NOT_FOUND', 'UNREGISTERED', 'Requested entity was not found.'),
          );
        case FCM_TOKENS.invalidArgument:
          return json(
            response,
            400,
            fcmError(
              400,
              'INVALID_ARGUMENT',
              'INVALID_ARGUMENT',
              'The registration token is not a valid FCM registration token',
            ),
          );
        case FCM_TOKENS.quota:
          return json(
            response,
            429,
            fcmError(429, 'RESOURCE_EXHAUSTED', 'QUOTA_EXCEEDED', 'Quota exceeded.'),
          );
        case FCM_TOKENS.internal:
          return json(response, 500, fcmError(500, 'INTERNAL', 'INTERNAL', 'Internal error encountered.'));
        default:
          return json(response, 200, {
            name: `projects/${send[1]}/messages/0:${randomBytes(6).toString('hex')}`,
          });
      }
    })();
  });
  const port = await listen(server);

  /**
   * The agent firebase-admin is given (`AppOptions.httpAgent`, and the credential's): it trusts
   * the stand-in's certificate and opens its connections to the stand-in, whatever the Google
   * host name; TLS still checks that name (SNI and the certificate's names).
   */
  class StandInAgent extends https.Agent {
    override createConnection(options: tls.ConnectionOptions): ReturnType<typeof tls.connect> {
      return tls.connect({ ...options, host: '127.0.0.1', port, ca: cert });
    }
  }
  const agent = new StandInAgent({ ca: cert, keepAlive: false });
  return {
    agent,
    requests,
    sends: () => requests.filter((request) => request.path.includes('/messages:send')),
    close: () => close(server),
  };
}

// ---- Twilio: POST /2010-04-01/Accounts/{AccountSid}/Messages.json

/** Numbers the Twilio stand-in refuses, and how. */
export const TWILIO_NUMBERS = {
  invalid: '+237600000001',
  notMobile: '+237600000002',
  tooMany: '+237600000429',
  serverError: '+237600000500',
} as const;

export async function startTwilioStandIn(credentials: { accountSid: string; authToken: string }) {
  const requests: RecordedRequest[] = [];
  /** Numbers whose next sends fail with a status (a provider having a bad minute). */
  const failing = new Map<string, { status: number; remaining: number }>();
  const server = createServer((request, response) => {
    void (async () => {
      const body = await readBody(request);
      requests.push({
        method: request.method ?? '',
        path: request.url ?? '',
        headers: request.headers,
        body,
      });
      const expected = `Basic ${Buffer.from(`${credentials.accountSid}:${credentials.authToken}`).toString('base64')}`;
      if (request.headers.authorization !== expected)
        return json(response, 401, {
          code: 20003,
          message: 'Authenticate',
          status: 401,
          more_info: 'https://www.twilio.com/docs/errors/20003',
        });
      if (
        request.method !== 'POST' ||
        request.url !== `/2010-04-01/Accounts/${credentials.accountSid}/Messages.json`
      )
        return json(response, 404, {
          code: 20404,
          message: 'The requested resource was not found',
          status: 404,
        });
      const form = new URLSearchParams(body);
      const to = form.get('To');
      const refuse = (status: number, code: number, message: string) =>
        json(response, status, {
          code,
          message,
          more_info: `https://www.twilio.com/docs/errors/${code}`,
          status,
        });
      if (to === TWILIO_NUMBERS.invalid)
        return refuse(400, 21211, `The 'To' number ${to} is not a valid phone number.`);
      if (to === TWILIO_NUMBERS.notMobile)
        return refuse(400, 21614, `'To' number is not a valid mobile number`);
      if (to === TWILIO_NUMBERS.tooMany) return refuse(429, 20429, 'Too Many Requests');
      if (to === TWILIO_NUMBERS.serverError) return refuse(500, 20500, 'Internal Server Error');
      const failure = to === null ? undefined : failing.get(to);
      if (failure !== undefined && failure.remaining > 0) {
        failure.remaining -= 1;
        return failure.status === 429
          ? refuse(429, 20429, 'Too Many Requests')
          : refuse(failure.status, 20500, 'Service Unavailable');
      }
      const sid = `SM${randomBytes(16).toString('hex')}`;
      return json(response, 201, {
        sid,
        account_sid: credentials.accountSid,
        to,
        from: form.get('From'),
        messaging_service_sid: form.get('MessagingServiceSid'),
        body: form.get('Body'),
        status: 'queued',
        num_segments: '1',
        direction: 'outbound-api',
        api_version: '2010-04-01',
        date_created: new Date().toUTCString(),
        uri: `/2010-04-01/Accounts/${credentials.accountSid}/Messages/${sid}.json`,
      });
    })();
  });
  const port = await listen(server);
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    /** The next `times` sends to `to` answer `status` (429 or a 5xx), then sends succeed again. */
    failNext: (to: string, status: number, times: number) => failing.set(to, { status, remaining: times }),
    close: () => close(server),
  };
}

// ---- Africa's Talking: POST /version1/messaging

/** Numbers the Africa's Talking stand-in answers with a per-recipient status code. */
export const AFRICASTALKING_NUMBERS = {
  invalid: '+237600000403',
  noBalance: '+237600000405',
  blacklisted: '+237600000406',
  gatewayDown: '+237600000503',
} as const;

export async function startAfricasTalkingStandIn(credentials: { username: string; apiKey: string }) {
  const requests: RecordedRequest[] = [];
  const server = createServer((request, response) => {
    void (async () => {
      const body = await readBody(request);
      requests.push({
        method: request.method ?? '',
        path: request.url ?? '',
        headers: request.headers,
        body,
      });
      if (request.method !== 'POST' || request.url !== '/version1/messaging') {
        response.writeHead(404).end('Not Found');
        return;
      }
      const form = new URLSearchParams(body);
      if (request.headers.apikey !== credentials.apiKey || form.get('username') !== credentials.username) {
        response
          .writeHead(401, { 'content-type': 'text/plain' })
          .end('The supplied authentication is invalid');
        return;
      }
      const to = form.get('to') ?? '';
      if (to === AFRICASTALKING_NUMBERS.gatewayDown) {
        response.writeHead(503, { 'content-type': 'text/plain' }).end('Service Unavailable');
        return;
      }
      const recipient = (statusCode: number, status: string) => ({
        statusCode,
        number: to,
        status,
        cost: statusCode === 101 ? 'XAF 20.0000' : '0',
        messageId: statusCode === 101 ? `ATXid_${randomBytes(16).toString('hex')}` : 'None',
      });
      const answer =
        to === AFRICASTALKING_NUMBERS.invalid
          ? recipient(403, 'InvalidPhoneNumber')
          : to === AFRICASTALKING_NUMBERS.noBalance
            ? recipient(405, 'InsufficientBalance')
            : to === AFRICASTALKING_NUMBERS.blacklisted
              ? recipient(406, 'UserInBlacklist')
              : recipient(101, 'Success');
      json(response, 201, {
        SMSMessageData: {
          Message:
            answer.statusCode === 101 ? 'Sent to 1/1 Total Cost: XAF 20.0000' : 'Sent to 0/1 Total Cost: 0',
          Recipients: [answer],
        },
      });
    })();
  });
  const port = await listen(server);
  return { baseUrl: `http://127.0.0.1:${port}`, requests, close: () => close(server) };
}

// ---- SMTP

export interface RecordedMail {
  from: string | undefined;
  to: string[];
  user: string | undefined;
  raw: string;
}

/** Recipients the SMTP stand-in refuses: 550 (no such mailbox), 451 (try later). */
export const SMTP_ADDRESSES = {
  refused: 'nobody@refused.example',
  later: 'greylisted@later.example',
} as const;

export async function startSmtpStandIn(credentials: { user: string; pass: string }) {
  const messages: RecordedMail[] = [];
  const refuse = (code: number, text: string) => Object.assign(new Error(text), { responseCode: code });
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    onAuth(auth, _session, callback) {
      if (auth.username === credentials.user && auth.password === credentials.pass)
        return callback(null, { user: auth.username });
      return callback(refuse(535, 'Authentication failed'));
    },
    onRcptTo(address, _session, callback) {
      if (address.address === SMTP_ADDRESSES.refused) return callback(refuse(550, 'No such user here'));
      if (address.address === SMTP_ADDRESSES.later)
        return callback(refuse(451, 'Greylisted, try again later'));
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        messages.push({
          from: session.envelope.mailFrom === false ? undefined : session.envelope.mailFrom.address,
          to: session.envelope.rcptTo.map((recipient) => recipient.address),
          user: typeof session.user === 'string' ? session.user : undefined,
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    messages,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

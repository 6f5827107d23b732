import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Type, { type Static } from 'typebox';
import Value from 'typebox/value';

/**
 * Configuration is parsed once at boot from the environment (spec §10.3 plus our own).
 * Each property carries a `description` that is quoted back when the value is bad, so the
 * operator reads one message naming the variable and what was expected.
 */
const Port = (fallback: number, what: string) =>
  Type.Integer({
    minimum: 0,
    maximum: 65535,
    default: fallback,
    description: `${what} (a TCP port, 0-65535)`,
  });
const Url = (what: string) => Type.String({ pattern: '^[a-z][a-z0-9+.-]*://', description: what });
const UrlWithDefault = (fallback: string, what: string) =>
  Type.String({ pattern: '^https?://', default: fallback, description: what });
const Secret = (what: string) => Type.Optional(Type.String({ minLength: 16, description: what }));
const Flag = (fallback: boolean, what: string) =>
  Type.Boolean({ default: fallback, description: `${what} (true or false)` });
const PositiveInteger = (fallback: number, what: string) =>
  Type.Integer({ minimum: 1, default: fallback, description: `${what} (a positive integer)` });

const FreeDeliveries = (fallback: number, tier: string) =>
  Type.Integer({
    minimum: 0,
    maximum: 31,
    default: fallback,
    description: `free deliveries a month (Cameroon time) of ${tier} customers, 0 to 31 (0: none; off until configured)`,
  });

const Multiplier = (fallback: string, what: string) =>
  Type.String({
    pattern: '^[1-9](\\.[0-9]{1,2})?$',
    default: fallback,
    description: `${what} (a decimal from 1 to 9.99, e.g. 1.25)`,
  });

export const EnvironmentSchema = Type.Object({
  NODE_ENV: Type.Union([Type.Literal('development'), Type.Literal('test'), Type.Literal('production')], {
    default: 'development',
    description: 'one of development, test, production',
  }),
  HOST: Type.String({ default: '127.0.0.1', description: 'the address to listen on' }),
  PORT: Port(3000, 'the port the API listens on'),
  API_VERSION: Type.Literal('v1', { default: 'v1', description: 'v1 (the only API version)' }),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((level) => Type.Literal(level)),
    { default: 'info', description: 'a pino level: fatal, error, warn, info, debug, trace or silent' },
  ),
  DATA_DIR: Type.String({ default: '.data', description: 'a directory for embedded data and dev secrets' }),

  DATABASE_URL: Type.Optional(Url('a postgres:// connection URL (unset: embedded PostgreSQL)')),
  EMBEDDED_POSTGRES_PORT: Port(54329, 'the port of the embedded PostgreSQL (when DATABASE_URL is unset)'),
  DATABASE_POOL_MAX: PositiveInteger(20, 'the PostgreSQL pool size'),
  REDIS_URL: Type.Optional(Url('a redis:// URL (unset: in-process fallbacks)')),
  REDIS_KEY_PREFIX: Type.String({
    default: 'fd:',
    pattern: '^[A-Za-z0-9:_-]{1,32}$',
    description: 'a prefix for every Redis key (letters, digits, : _ -)',
  }),
  EVENTSTORE_URL: Type.Optional(Url('an esdb:// connection string (unset: the PostgreSQL event store)')),

  FILES_STORE: Type.Union([Type.Literal('disk'), Type.Literal('s3')], {
    default: 'disk',
    description:
      'where uploaded files are stored: disk (under DATA_DIR, one instance only) or s3 (any S3-compatible object storage: AWS S3, MinIO, Cloudflare R2; needs S3_BUCKET, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY)',
  }),
  S3_ENDPOINT: Type.Optional(
    Url(
      'the S3 API endpoint, e.g. https://<account>.r2.cloudflarestorage.com or http://minio:9000 (unset: AWS S3 in S3_REGION)',
    ),
  ),
  S3_PUBLIC_ENDPOINT: Type.Optional(
    Url(
      'the endpoint written into signed download URLs, when clients reach the storage by another address than the API does (unset: S3_ENDPOINT)',
    ),
  ),
  S3_REGION: Type.String({
    default: 'us-east-1',
    pattern: '^[a-z0-9-]{1,32}$',
    description: 'the S3 region, e.g. eu-west-3 (AWS), auto (Cloudflare R2), us-east-1 (MinIO)',
  }),
  S3_BUCKET: Type.Optional(
    Type.String({
      pattern: '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$',
      description:
        'the bucket of uploaded files (3-63 lowercase letters, digits, dots, hyphens); keep it private',
    }),
  ),
  S3_KEY_PREFIX: Type.String({
    default: '',
    pattern: '^([a-z0-9_-][a-z0-9._-]*/)*$',
    description:
      "a folder inside the bucket for this deployment's objects, ending with / (e.g. food-delivery/; empty: the bucket root)",
  }),
  S3_ACCESS_KEY_ID: Type.Optional(Type.String({ minLength: 1, description: 'the S3 access key id' })),
  S3_SECRET_ACCESS_KEY: Type.Optional(Type.String({ minLength: 1, description: 'the S3 secret access key' })),
  S3_FORCE_PATH_STYLE: Flag(
    false,
    'address buckets as <endpoint>/<bucket> instead of <bucket>.<endpoint> (true for MinIO and most self-hosted servers)',
  ),

  JWT_SECRET: Secret('a random secret of at least 16 characters'),
  JWT_REFRESH_SECRET: Secret('a random secret of at least 16 characters'),
  ENCRYPTION_KEY: Type.Optional(
    Type.String({
      pattern: '^([0-9a-fA-F]{64}|[A-Za-z0-9+/]{43}=)$',
      description: '32 bytes as 64 hex characters or 44 base64 characters',
    }),
  ),
  PII_ENCRYPTION_KEYS: Type.Optional(
    Type.String({
      pattern:
        '^[A-Za-z0-9_-]{1,16}:([0-9a-fA-F]{64}|[A-Za-z0-9+/]{43}=)(,[A-Za-z0-9_-]{1,16}:([0-9a-fA-F]{64}|[A-Za-z0-9+/]{43}=))*$',
      description:
        'the personal-data key ring: id:key pairs, comma-separated, each key 32 bytes (64 hex or 44 base64 characters); the first encrypts, every one decrypts (unset outside production: derived from ENCRYPTION_KEY)',
    }),
  ),
  PII_BLIND_INDEX_KEY: Type.Optional(
    Type.String({
      pattern: '^([0-9a-fA-F]{64}|[A-Za-z0-9+/]{43}=)$',
      description:
        'the key of the personal-data blind indexes (HMAC-SHA256), 32 bytes as 64 hex or 44 base64 characters; changing it needs a re-index (unset outside production: derived from ENCRYPTION_KEY)',
    }),
  ),

  CAMPAY_BASE_URL: Type.Optional(Url('the CamPay API base URL, e.g. https://demo.campay.net/api')),
  CAMPAY_USERNAME: Type.Optional(Type.String({ description: 'the CamPay app username' })),
  CAMPAY_PASSWORD: Type.Optional(Type.String({ description: 'the CamPay app password' })),
  CAMPAY_API_KEY: Type.Optional(Type.String({ description: 'a CamPay permanent app token' })),
  CAMPAY_SECRET: Type.Optional(Type.String({ description: 'the CamPay webhook key' })),
  NOUPAY_API_KEY: Type.Optional(Type.String({ description: 'the fallback provider API key' })),
  NOUPAY_SECRET: Type.Optional(Type.String({ description: 'the fallback provider secret' })),
  MTN_MOMO_BASE_URL: Type.Optional(Url('the MTN MoMo Open API base URL')),
  MTN_MOMO_API_USER: Type.Optional(Type.String({ description: 'the MTN MoMo API user (UUID)' })),
  MTN_MOMO_API_KEY: Type.Optional(Type.String({ description: 'the MTN MoMo API key' })),
  MTN_MOMO_SUBSCRIPTION_KEY: Type.Optional(Type.String({ description: 'the MTN MoMo subscription key' })),
  FLUTTERWAVE_BASE_URL: Type.Optional(
    Url(
      'the Flutterwave API base URL for card funding, e.g. https://api.flutterwave.com (unset: no card funding outside the simulator)',
    ),
  ),
  FLUTTERWAVE_SECRET_KEY: Type.Optional(
    Type.String({ description: 'the Flutterwave secret key (FLWSECK-…)' }),
  ),
  FLUTTERWAVE_WEBHOOK_HASH: Type.Optional(
    Type.String({
      minLength: 16,
      description: 'the secret hash set on the Flutterwave dashboard, sent as verif-hash',
    }),
  ),
  PAYMENT_SIMULATORS: Flag(true, 'start the provider simulators in-process (never in production)'),
  PAYMENT_PROVIDER_MTN: Type.Union([Type.Literal('campay'), Type.Literal('mtn_momo')], {
    default: 'campay',
    description: 'the primary provider for MTN numbers: campay or mtn_momo',
  }),
  PAYMENT_FALLBACK_MTN: Type.Union([Type.Literal('campay'), Type.Literal('mtn_momo'), Type.Literal('none')], {
    default: 'mtn_momo',
    description: 'the fallback provider for MTN numbers: campay, mtn_momo or none',
  }),
  PAYMENT_PROVIDER_ORANGE: Type.Literal('campay', {
    default: 'campay',
    description: 'the primary provider for Orange numbers: campay (the only one serving Orange)',
  }),
  PAYMENT_FALLBACK_ORANGE: Type.Union([Type.Literal('orange_money'), Type.Literal('none')], {
    default: 'orange_money',
    description:
      "the fallback provider for Orange numbers: orange_money (Orange Money Cameroon's merchant API) or none",
  }),
  PAYMENT_PROVIDER_TIMEOUT_MS: PositiveInteger(10_000, 'the timeout of one call to a payment provider in ms'),
  PAYMENT_CIRCUIT_FAILURE_THRESHOLD: PositiveInteger(5, 'consecutive provider outages that open its circuit'),
  PAYMENT_CIRCUIT_COOLDOWN_MS: PositiveInteger(
    30_000,
    'how long an open provider circuit waits before a trial in ms',
  ),
  PAYMENT_SIMULATOR_DELAY_MS: Type.Integer({
    minimum: 0,
    maximum: 600_000,
    default: 1_000,
    description: 'how long simulated payments stay PENDING before settling in ms (0-600000)',
  }),
  PAYMENT_POLL_INITIAL_DELAY_MS: PositiveInteger(
    5_000,
    'the first wait before re-reading a pending payment from its provider in ms (doubles each time)',
  ),
  WALLET_DAILY_LIMIT_XAF: PositiveInteger(
    500_000,
    'the most a wallet may spend, and separately be topped up, per day in XAF',
  ),
  CARD_FUNDING_MAX_USD_MINOR: PositiveInteger(50_000, 'the most one card funding may bring, in US cents'),
  CARD_FUNDING_DAILY_USD_MINOR: PositiveInteger(
    100_000,
    'the most one funder may send by card per day, and one wallet may receive by card per day, in US cents',
  ),
  FX_RATE_SOURCE: Type.Union([Type.Literal('configured'), Type.Literal('flutterwave')], {
    default: 'configured',
    description:
      'where USD→XAF rates come from: configured (FX_USD_XAF_RATE, development) or flutterwave (its transfer-rates API; the simulator with PAYMENT_SIMULATORS)',
  }),
  FX_USD_XAF_RATE: Type.String({
    pattern: '^[1-9][0-9]{0,5}(\\.[0-9]{1,6})?$',
    default: '600',
    description: 'the configured USD→XAF mid rate (FX_RATE_SOURCE=configured), e.g. 600.25',
  }),
  FX_SPREAD_BPS: Type.Integer({
    minimum: 0,
    maximum: 1_000,
    default: 150,
    description: 'the spread kept on a currency conversion, in basis points of the converted value (0-1000)',
  }),
  RECEIVABLE_RECOVERY: Flag(
    true,
    'take what a customer owes after a card chargeback from new money landing on their wallet (top-ups, card fundings, wallet rewards; never refunds)',
  ),
  FX_QUOTE_TTL_SECONDS: Type.Integer({
    minimum: 10,
    maximum: 3_600,
    default: 60,
    description: 'how long a currency conversion quote may be accepted, in seconds (10-3600)',
  }),
  WALLET_MONTHLY_LIMIT_XAF: PositiveInteger(
    3_000_000,
    'the most a wallet may spend, and separately be topped up, per month in XAF',
  ),
  ORDERS_PAYMENT_PORT: Type.Optional(
    Type.Union([Type.Literal('ledger'), Type.Literal('test')], {
      description:
        'how orders are paid: ledger (wallet and Mobile Money, the default) or test (the TestPaymentPort that moves no money; the default when NODE_ENV=test, never in production)',
    }),
  ),
  JOB_WORKERS_ENABLED: Flag(
    true,
    'run job workers and schedules in this process (false: an API-only instance)',
  ),
  MTN_MOMO_TARGET_ENVIRONMENT: Type.Union([Type.Literal('sandbox'), Type.Literal('mtncameroon')], {
    default: 'sandbox',
    description: 'the MTN MoMo X-Target-Environment: sandbox or mtncameroon',
  }),
  MTN_MOMO_DISBURSEMENT_API_USER: Type.Optional(
    Type.String({ description: 'the MTN MoMo disbursement API user (unset: the collection one)' }),
  ),
  MTN_MOMO_DISBURSEMENT_API_KEY: Type.Optional(
    Type.String({ description: 'the MTN MoMo disbursement API key (unset: the collection one)' }),
  ),
  MTN_MOMO_DISBURSEMENT_SUBSCRIPTION_KEY: Type.Optional(
    Type.String({ description: 'the MTN MoMo disbursement subscription key (unset: the collection one)' }),
  ),
  MTN_MOMO_CALLBACK_SECRET: Secret(
    'a secret (at least 16 characters) for the tokens in MTN MoMo callback URLs',
  ),
  ORANGE_MONEY_BASE_URL: Type.Optional(
    Url(
      'the Orange Money Cameroon merchant API base URL, e.g. https://api-s1.orange.cm (the Orange fallback)',
    ),
  ),
  ORANGE_MONEY_CONSUMER_KEY: Type.Optional(Type.String({ description: 'the Orange API consumer key' })),
  ORANGE_MONEY_CONSUMER_SECRET: Type.Optional(Type.String({ description: 'the Orange API consumer secret' })),
  ORANGE_MONEY_AUTH_TOKEN: Type.Optional(
    Type.String({ description: 'the Orange Money merchant X-AUTH-TOKEN' }),
  ),
  ORANGE_MONEY_CHANNEL_MSISDN: Type.Optional(
    Type.String({
      pattern: '^6[0-9]{8}$',
      description: "the merchant's Orange Money channel number (9 digits)",
    }),
  ),
  ORANGE_MONEY_PIN: Type.Optional(Type.String({ description: "the merchant channel user's PIN" })),
  ORANGE_MONEY_CALLBACK_SECRET: Secret(
    'a secret (at least 16 characters) for the tokens in Orange Money notification URLs (default: derived from ENCRYPTION_KEY)',
  ),

  YANDEX_MAPS_API_KEY: Type.Optional(Type.String({ description: 'a Yandex Maps API key' })),
  FCM_SERVER_KEY: Type.Optional(
    Type.String({
      description: 'unused: the legacy FCM server key (FCM HTTP v1 takes FCM_SERVICE_ACCOUNT_JSON)',
    }),
  ),
  FCM_SERVICE_ACCOUNT_JSON: Type.Optional(
    Type.String({
      description:
        'the Firebase service-account key as JSON (push through FCM HTTP v1); unset: GOOGLE_APPLICATION_CREDENTIALS',
    }),
  ),
  GOOGLE_APPLICATION_CREDENTIALS: Type.Optional(
    Type.String({
      description:
        'a path to a Google service-account key file (push, when FCM_SERVICE_ACCOUNT_JSON is unset)',
    }),
  ),
  FCM_PROJECT_ID: Type.Optional(
    Type.String({ description: 'the Firebase project id (unset: the service account’s project_id)' }),
  ),
  FCM_TTL_SECONDS: PositiveInteger(3_600, 'how long FCM and APNs keep an undelivered push, in seconds'),
  SMS_PROVIDER: Type.Union([Type.Literal('twilio'), Type.Literal('africastalking')], {
    default: 'twilio',
    description: 'the SMS adapter outside the outbox: twilio or africastalking',
  }),
  TWILIO_ACCOUNT_SID: Type.Optional(
    Type.String({ pattern: '^AC', description: 'a Twilio account SID (AC…)' }),
  ),
  TWILIO_AUTH_TOKEN: Type.Optional(Type.String({ description: 'the Twilio auth token' })),
  TWILIO_FROM: Type.Optional(Type.String({ description: 'the Twilio sender number or service' })),
  AFRICASTALKING_USERNAME: Type.Optional(
    Type.String({ description: 'the Africa’s Talking application username (sandbox for the sandbox)' }),
  ),
  AFRICASTALKING_API_KEY: Type.Optional(Type.String({ description: 'the Africa’s Talking API key' })),
  AFRICASTALKING_FROM: Type.Optional(
    Type.String({
      description: 'an approved Africa’s Talking sender id or short code (unset: the account default)',
    }),
  ),
  AFRICASTALKING_CALLBACK_TOKEN: Type.Optional(
    Type.String({
      minLength: 32,
      maxLength: 256,
      pattern: '^[A-Za-z0-9_-]+$',
      description:
        'the secret in the delivery-report URL registered with Africa’s Talking (…/v1/webhooks/africastalking/delivery?token=…; 32+ URL-safe characters); unset: reports are not accepted',
    }),
  ),
  AFRICASTALKING_SANDBOX: Flag(
    false,
    'send SMS through the Africa’s Talking sandbox instead of the live API',
  ),
  MAILGUN_WEBHOOK_SIGNING_KEY: Type.Optional(
    Type.String({
      minLength: 16,
      maxLength: 256,
      description:
        'the Mailgun webhook signing key: inbound e-mail to support (a route forwarding to …/v1/webhooks/mailgun/inbound) is accepted when signed with it; unset: not accepted',
    }),
  ),
  GEMINI_API_KEY: Type.Optional(
    Type.String({ description: 'a Google Gemini API key (unset: AI assist answers deterministic drafts)' }),
  ),
  GEMINI_BASE_URL: Type.String({
    pattern: '^https?://',
    default: 'https://generativelanguage.googleapis.com',
    description: 'the Gemini REST API base URL (a local stand-in in tests)',
  }),
  GEMINI_MODEL: Type.String({
    pattern: '^[a-z0-9][a-z0-9.-]{0,63}$',
    default: 'gemini-2.5-flash',
    description: 'the Gemini model that drafts support replies',
  }),
  GEMINI_TIMEOUT_MS: PositiveInteger(
    8_000,
    'milliseconds a Gemini call may take before the fallback answers',
  ),
  GEMINI_EMBEDDING_MODEL: Type.String({
    pattern: '^[a-z0-9][a-z0-9.-]{0,63}$',
    default: 'gemini-embedding-001',
    description: 'the Gemini embedding model of semantic search (dishes and restaurants, 256 dimensions)',
  }),
  SEARCH_AI_DAILY_CALL_BUDGET: Type.Integer({
    minimum: 0,
    maximum: 1_000_000,
    default: 5_000,
    description:
      'Gemini calls allowed per UTC day across instances for search (query embeddings, voice, photo, the embedding job); spent: full-text search and 503 for voice and photo until midnight; 0: never called',
  }),
  GEMINI_DAILY_CALL_BUDGET: Type.Integer({
    minimum: 0,
    maximum: 1_000_000,
    default: 1_000,
    description:
      'Gemini calls allowed per UTC day across instances (support drafts and the first-line assistant); spent: deterministic answers until midnight; 0: never called',
  }),
  SUPPORT_ASSISTANT_MIN_CONFIDENCE_PERCENT: Type.Integer({
    minimum: 0,
    maximum: 100,
    default: 60,
    description:
      "the share (percent) of a question's words a help article must cover for the first-line assistant to answer it; below: it hands over to a human",
  }),
  SMTP_HOST: Type.Optional(Type.String({ description: 'the SMTP host' })),
  SMTP_PORT: Port(587, 'the SMTP port'),
  SMTP_USER: Type.Optional(Type.String({ description: 'the SMTP user' })),
  SMTP_PASS: Type.Optional(Type.String({ description: 'the SMTP password' })),
  SMTP_FROM: Type.Optional(
    Type.String({
      description: 'the sender of e-mails, e.g. "Orders <no-reply@example.cm>" (e-mail needs it)',
    }),
  ),
  OUTBOX_ENABLED: Type.Optional(
    Type.Boolean({ description: 'record SMS, push and e-mail instead of sending (never in production)' }),
  ),
  NOTIFY_ACK_TIMEOUT_SECONDS: PositiveInteger(
    120,
    'seconds a restaurant has to acknowledge the push of a new paid order before an SMS follows',
  ),
  NOTIFY_QUEUE_CONCURRENCY: Type.Integer({
    minimum: 1,
    maximum: 64,
    default: 16,
    description:
      'notification jobs (dispatch, push, SMS, e-mail) each queue runs at once per process (1-64; within DATABASE_POOL_MAX)',
  }),
  NOTIFY_LOW_STOCK_THRESHOLD: PositiveInteger(
    5,
    'portions left of a tracked dish at or under which its restaurant is told it runs low (and again when sold out)',
  ),
  NOTIFY_HOURLY_CAP: PositiveInteger(
    12,
    'push, SMS and e-mail messages one person receives per hour (critical ones excepted; lower priorities stop at half)',
  ),
  NOTIFY_SMS_COST_XAF: Type.Integer({
    minimum: 0,
    default: 25,
    description: 'what one SMS costs in XAF, counted in the metrics (an integer, 0 or more)',
  }),
  NOTIFY_EMAIL_COST_XAF: Type.Integer({
    minimum: 0,
    default: 0,
    description: 'what one e-mail costs in XAF, counted in the metrics (an integer, 0 or more)',
  }),

  CLAMD_URL: Type.Optional(
    Type.String({
      pattern: '^(tcp://(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9.-]+):[0-9]{1,5}/?|unix:///.+)$',
      description:
        "where ClamAV's clamd listens, to scan uploads for viruses: tcp://host:port (e.g. tcp://127.0.0.1:3310) or unix:///path (e.g. unix:///run/clamav/clamd.ctl); unset: uploads are not scanned",
    }),
  ),
  CLAMD_TIMEOUT_MS: PositiveInteger(
    30_000,
    'the most one clamd exchange (connect, send the file, scan, reply) may take, in ms',
  ),
  CLAMD_MAX_STREAM_BYTES: PositiveInteger(
    26_214_400,
    "the largest file sent to clamd, in bytes; at most clamd's StreamMaxLength (Debian's default: 25M)",
  ),
  FILES_SCAN_REQUIRED: Flag(
    false,
    'refuse to start without CLAMD_URL: every upload must be scanned clean before it is usable',
  ),

  RATE_LIMIT_WINDOW_MS: PositiveInteger(900_000, 'the general rate-limit window in ms'),
  RATE_LIMIT_MAX_REQUESTS: PositiveInteger(
    2_000,
    'general requests per window from one address without a valid access token (carrier NAT puts many customers behind one address; IPv6 per /64)',
  ),
  RATE_LIMIT_USER_MAX: PositiveInteger(
    600,
    'general requests per window per signed-in user, from any address (a 304 Not Modified costs a quarter)',
  ),
  RATE_LIMIT_AUTH_WINDOW_MS: PositiveInteger(900_000, 'the auth rate-limit window in ms'),
  RATE_LIMIT_AUTH_MAX: PositiveInteger(5, 'auth attempts per window'),
  RATE_LIMIT_PAYMENT_WINDOW_MS: PositiveInteger(300_000, 'the payment rate-limit window in ms'),
  RATE_LIMIT_PAYMENT_MAX: PositiveInteger(3, 'payment attempts per window'),
  RATE_LIMIT_ENABLED: Flag(true, 'enforce rate limits'),
  SMS_MAX_PER_NUMBER_PER_HOUR: PositiveInteger(
    5,
    'SMS (codes, reset links) one phone number may receive per hour',
  ),
  SMS_MAX_PER_ADDRESS_PER_HOUR: PositiveInteger(
    30,
    'SMS one client address may have sent per hour, whatever the numbers',
  ),
  SMS_MAX_PER_HOUR: PositiveInteger(1_000, 'SMS the whole platform sends on request per hour (the budget)'),
  SESSION_TIMEOUT: PositiveInteger(3_600_000, 'the admin session idle timeout in ms'),
  AUTH_DELAY_BASE_MS: PositiveInteger(
    500,
    'the first progressive delay after failed sign-ins in ms (doubles, capped at 8 s)',
  ),

  CORS_ORIGINS: Type.String({
    default: '',
    description: 'a comma-separated list of allowed origins (https://app.example.cm,…)',
  }),
  ADMIN_IP_ALLOWLIST: Type.String({
    default: '',
    description: 'a comma-separated list of IPs allowed on /v1/admin routes (empty: any)',
  }),
  TRUST_PROXY: Flag(false, 'trust X-Forwarded-* headers from a proxy'),
  BODY_LIMIT_BYTES: PositiveInteger(262_144, 'the maximum request body in bytes'),
  REQUEST_TIMEOUT_MS: PositiveInteger(30_000, 'the maximum time for a whole request in ms'),
  IDEMPOTENCY_LEASE_SECONDS: PositiveInteger(
    60,
    'seconds an Idempotency-Key stays claimed by a request that has not answered (more than REQUEST_TIMEOUT_MS)',
  ),
  SHUTDOWN_GRACE_MS: PositiveInteger(10_000, 'how long shutdown waits for in-flight work in ms'),
  MAX_EVENT_LOOP_DELAY_MS: Type.Integer({
    minimum: 0,
    default: 1_000,
    description: 'event-loop delay in ms above which requests get 503 (0 switches the check off)',
  }),
  HTTP_SCHEMA_COMPILATION: Type.Union([Type.Literal('eager'), Type.Literal('lazy')], {
    default: 'eager',
    description:
      "eager compiles every route's validators and serializers at start (a bad schema stops the start); lazy compiles each on its route's first request (a faster start, for test suites)",
  }),
  HTTP_COMPRESSION: Flag(
    true,
    'compress answers with brotli or gzip for clients that accept them (switch off when a proxy in front compresses)',
  ),
  HTTP_COMPRESSION_MIN_BYTES: PositiveInteger(
    1_024,
    'answers smaller than this many bytes are sent uncompressed',
  ),
  MAX_HEAP_USED_BYTES: PositiveInteger(1_536 * 1024 * 1024, 'heap use above which requests get 503'),
  SEED_DEMO: Flag(true, 'seed demo data on the first embedded start'),
  METRICS_TOKEN: Secret(
    'a bearer token (at least 16 characters) Prometheus sends to GET /metrics; required in production (unset elsewhere: /metrics is open)',
  ),
  AUDIT_SIGNING_KEY: Type.Optional(
    Type.String({
      pattern: '^([0-9a-f]{64}|[A-Za-z0-9+/]{43}=)$',
      description:
        'the Ed25519 private key (32-byte seed, base64 or hex) that signs `npm run audit:export`; required there in production (unset elsewhere: a one-off key, said so in the manifest)',
    }),
  ),
  SOCIAL_REDIRECT_URI: Type.Optional(
    Url(
      'where Google and Facebook send the person back after sign-in (the app page or deep link that posts `code` and `state` to /v1/auth/social/{provider}/callback); register it at both providers (unset: PUBLIC_BASE_URL/auth/social/callback)',
    ),
  ),
  GOOGLE_CLIENT_ID: Type.Optional(
    Type.String({
      minLength: 1,
      description: 'the OAuth client id of the Google Cloud project (unset: sign-in with Google is off)',
    }),
  ),
  GOOGLE_CLIENT_SECRET: Secret('the OAuth client secret that goes with GOOGLE_CLIENT_ID'),
  GOOGLE_ISSUER: UrlWithDefault(
    'https://accounts.google.com',
    'the OpenID issuer of Google, read through OIDC discovery (https://accounts.google.com; a local provider in tests)',
  ),
  FACEBOOK_CLIENT_ID: Type.Optional(
    Type.String({
      minLength: 1,
      description: 'the Facebook app id (unset: sign-in with Facebook is off)',
    }),
  ),
  FACEBOOK_CLIENT_SECRET: Secret('the Facebook app secret that goes with FACEBOOK_CLIENT_ID'),
  FACEBOOK_AUTHORIZATION_URL: UrlWithDefault(
    'https://www.facebook.com/v21.0/dialog/oauth',
    'the Facebook Login dialog (OAuth 2.0 authorization endpoint)',
  ),
  FACEBOOK_TOKEN_URL: UrlWithDefault(
    'https://graph.facebook.com/v21.0/oauth/access_token',
    'the Graph API endpoint that exchanges the code for an access token',
  ),
  FACEBOOK_USERINFO_URL: UrlWithDefault(
    'https://graph.facebook.com/v21.0/me?fields=id,name,email',
    'the Graph API endpoint that names the person (`id`, `name`, `email`) with that access token',
  ),
  PUBLIC_BASE_URL: Type.Optional(
    Url(
      'the public https:// URL of this service, for links and provider webhooks (unset outside production: http://127.0.0.1:PORT)',
    ),
  ),
  ORDER_PAYMENT_TIMEOUT_MINUTES: PositiveInteger(
    15,
    'minutes an order waits for its payment before it expires',
  ),
  ORDER_ACCEPT_TIMEOUT_MINUTES: PositiveInteger(
    10,
    'minutes a paid order waits for the restaurant before it is rejected (full refund)',
  ),
  ORDER_DISPUTE_WINDOW_MINUTES: PositiveInteger(
    1_440,
    'minutes after delivery during which the customer may open a dispute',
  ),
  LOYALTY_POINTS_EXPIRY_DAYS: PositiveInteger(
    365,
    'days after it was earned that a loyalty point expires (a daily job books the expiry)',
  ),
  LOYALTY_SILVER_POINTS: PositiveInteger(
    1_000,
    'points earned in the last 12 months from which a customer is silver (below: bronze)',
  ),
  LOYALTY_GOLD_POINTS: PositiveInteger(
    5_000,
    'points earned in the last 12 months from which a customer is gold (more than LOYALTY_SILVER_POINTS)',
  ),
  LOYALTY_POINT_VALUE_XAF: PositiveInteger(1, 'XAF one loyalty point is worth at checkout'),
  LOYALTY_REDEEM_MAX_PERCENT: Type.Integer({
    minimum: 1,
    maximum: 100,
    default: 50,
    description: 'the share of an order’s food that loyalty points may pay, in percent, 1-100',
  }),
  LOYALTY_POINTS_HOLD_SECONDS: Type.Integer({
    minimum: 1,
    maximum: 86_400,
    default: 3_600,
    description:
      'how long points held at checkout wait for the payment before they go back, in seconds (1-86400)',
  }),
  LOYALTY_MULTIPLIER_BRONZE: Multiplier('1', 'the points multiplier of bronze customers'),
  LOYALTY_MULTIPLIER_SILVER: Multiplier('1.25', 'the points multiplier of silver customers'),
  LOYALTY_MULTIPLIER_GOLD: Multiplier('1.5', 'the points multiplier of gold customers'),
  LOYALTY_FREE_DELIVERIES_BRONZE: FreeDeliveries(0, 'bronze'),
  LOYALTY_FREE_DELIVERIES_SILVER: FreeDeliveries(0, 'silver'),
  LOYALTY_FREE_DELIVERIES_GOLD: FreeDeliveries(0, 'gold'),
  LOYALTY_REFERRAL_REWARD: Type.Union([Type.Literal('points'), Type.Literal('wallet')], {
    default: 'points',
    description:
      'what a referral rewards: points (from the points issuance) or wallet credit in XAF (from the promotions expense)',
  }),
  LOYALTY_REFERRAL_REFERRER_REWARD: PositiveInteger(
    200,
    'points (or XAF) the referrer gets when a referee completes a first order',
  ),
  LOYALTY_REFERRAL_REFEREE_REWARD: PositiveInteger(
    200,
    'points (or XAF) the referee gets on their first completed order',
  ),
  COMMUNITY_CHALLENGE_ORDERS: Type.Integer({
    minimum: 0,
    maximum: 100,
    default: 5,
    description:
      'completed orders in a calendar month (Cameroon time) that win the monthly challenge; 0 turns the challenge off',
  }),
  COMMUNITY_CHALLENGE_POINTS: PositiveInteger(
    50,
    'loyalty points the monthly challenge rewards, once per customer and month',
  ),
  LOYALTY_REFERRAL_MONTHLY_CAP: PositiveInteger(
    5,
    'referrals a referrer is rewarded for per calendar month (UTC); beyond it the referee alone is rewarded',
  ),
  RECOMMENDATIONS_MODEL_PATH: Type.String({
    minLength: 1,
    default: 'ml/model/recommendations.onnx',
    description: 'the ONNX ranker GET /v1/recommendations loads (unreadable: popularity is served instead)',
  }),
  PREPARATION_MODEL_PATH: Type.String({
    minLength: 1,
    default: 'ml/model/preparation.onnx',
    description:
      'the ONNX preparation-time model placement reads for an order’s estimated preparation (unreadable: the stated time is used)',
  }),
  DEMAND_MODEL_PATH: Type.String({
    minLength: 1,
    default: 'ml/model/demand.onnx',
    description:
      'the ONNX demand forecast GET /v1/admin/forecasts/demand serves (unreadable: the seasonal-naive forecast)',
  }),
  WEATHER_PROVIDER: Type.Optional(
    Type.Union([Type.Literal('open-meteo'), Type.Literal('simulator'), Type.Literal('season')], {
      description:
        'where the models read the weather: open-meteo (its HTTP API), simulator (development and tests only) or season (the calendar alone); default open-meteo in production, simulator otherwise',
    }),
  ),
  WEATHER_OPEN_METEO_BASE_URL: Type.String({
    pattern: '^https?://',
    default: 'https://api.open-meteo.com',
    description: 'the Open-Meteo forecast API base URL (https://customer-api.open-meteo.com with a key)',
  }),
  WEATHER_OPEN_METEO_API_KEY: Type.Optional(
    Type.String({ minLength: 1, description: 'an Open-Meteo customer API key (commercial use)' }),
  ),
  WEATHER_TIMEOUT_MS: PositiveInteger(
    1_500,
    'how long a weather call may take before it counts as failed (requests never wait for it), ms',
  ),
  WEATHER_CACHE_SECONDS: PositiveInteger(
    900,
    'how long a place’s weather reading is used before it is fetched again',
  ),
  WEATHER_STALE_SECONDS: PositiveInteger(
    10_800,
    'how old a reading may be and still be used while the provider fails (then the season’s weather)',
  ),
  WEATHER_RETRY_AFTER_SECONDS: PositiveInteger(
    60,
    'seconds before a place whose weather call failed is asked again',
  ),
  RECOMMENDATIONS_REFRESH_SECONDS: PositiveInteger(
    30,
    'seconds between folding newly placed orders (and catalog changes) into the ranker’s features',
  ),
  ORDER_TRACKING_EXPIRY_MINUTES: PositiveInteger(
    1_440,
    'minutes after an order ends that its public tracking link still answers',
  ),
  ORDER_LATE_CANCELLATION_FEE_PERCENT: Type.Integer({
    minimum: 0,
    maximum: 100,
    default: 10,
    description: 'percent of the food kept when a customer cancels an accepted order, 0-100',
  }),
  ORDER_DELIVERY_PIN_MAX_ATTEMPTS: PositiveInteger(
    5,
    'wrong delivery PINs allowed per order in any ORDER_DELIVERY_PIN_LOCK_MINUTES',
  ),
  ORDER_SCHEDULE_MIN_LEAD_MINUTES: PositiveInteger(
    30,
    'the least time ahead a scheduled order may be, in minutes',
  ),
  ORDER_SCHEDULED_RELEASE_MINUTES: PositiveInteger(
    60,
    "minutes before a scheduled order's time that the restaurant's acceptance timer starts",
  ),
  ORDER_SCHEDULE_MAX_DAYS: PositiveInteger(7, 'the most days ahead a scheduled order may be'),
  ORDER_DELIVERY_PIN_LOCK_MINUTES: PositiveInteger(15, 'the window of the delivery PIN lockout in minutes'),
  ORDER_PICKUP_CODE_MAX_ATTEMPTS: PositiveInteger(
    5,
    'wrong pickup codes allowed per order in any ORDER_PICKUP_CODE_LOCK_MINUTES',
  ),
  ORDER_PICKUP_CODE_LOCK_MINUTES: PositiveInteger(15, 'the window of the pickup code lockout in minutes'),
  OTEL_EXPORTER_OTLP_ENDPOINT: Type.Optional(
    Url(
      'an OTLP/HTTP collector base URL (traces go to /v1/traces), e.g. http://otel-collector:4318; set (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) to turn tracing on, unset: no tracing and no cost',
    ),
  ),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: Type.Optional(
    Url(
      'the full OTLP/HTTP traces URL, e.g. http://tempo:4318/v1/traces (wins over OTEL_EXPORTER_OTLP_ENDPOINT)',
    ),
  ),
  OTEL_EXPORTER_OTLP_HEADERS: Type.Optional(
    Type.String({
      pattern: '^[^=,\\s]+=[^,]*(,[^=,\\s]+=[^,]*)*$',
      description: 'headers sent to the collector as key=value pairs separated by commas (e.g. an API key)',
    }),
  ),
  OTEL_SERVICE_NAME: Type.String({
    default: 'food-delivery-api',
    minLength: 1,
    description: 'the service.name of every span',
  }),
  OTEL_TRACES_SAMPLER: Type.Union(
    [
      'parentbased_traceidratio',
      'parentbased_always_on',
      'parentbased_always_off',
      'traceidratio',
      'always_on',
      'always_off',
    ].map((sampler) => Type.Literal(sampler)),
    {
      default: 'parentbased_traceidratio',
      description:
        "which traces are kept: parentbased_traceidratio (a caller's decision wins, else OTEL_TRACES_SAMPLER_ARG of new traces), parentbased_always_on, parentbased_always_off, traceidratio, always_on or always_off",
    },
  ),
  OTEL_TRACES_SAMPLER_ARG: Type.Number({
    minimum: 0,
    maximum: 1,
    default: 1,
    description: 'the share of new traces kept by the ratio samplers, 0-1 (0.1: one in ten)',
  }),
  FILES_DIR: Type.Optional(
    Type.String({
      minLength: 1,
      description: 'the directory of uploaded files on the local disk (unset: DATA_DIR/files)',
    }),
  ),
  FILES_SIGNING_KEY: Secret(
    'a secret (at least 16 characters) that signs the URLs of private files on the local disk; required in production (unset elsewhere: derived from ENCRYPTION_KEY)',
  ),
  SUPPORT_SLA_URGENT_MINUTES: PositiveInteger(60, 'minutes within which an urgent support ticket is due'),
  SUPPORT_SLA_HIGH_MINUTES: PositiveInteger(
    240,
    'minutes within which a high-priority support ticket is due',
  ),
  SUPPORT_SLA_NORMAL_MINUTES: PositiveInteger(1_440, 'minutes within which a normal support ticket is due'),
  SUPPORT_SLA_LOW_MINUTES: PositiveInteger(
    4_320,
    'minutes within which a low-priority support ticket is due',
  ),
  SUPPORT_FIRST_RESPONSE_URGENT_MINUTES: PositiveInteger(
    15,
    'minutes within which an urgent support ticket gets its first staff reply (else supervisors are alerted)',
  ),
  SUPPORT_FIRST_RESPONSE_HIGH_MINUTES: PositiveInteger(
    60,
    'minutes within which a high-priority support ticket gets its first staff reply',
  ),
  SUPPORT_FIRST_RESPONSE_NORMAL_MINUTES: PositiveInteger(
    240,
    'minutes within which a normal support ticket gets its first staff reply',
  ),
  SUPPORT_FIRST_RESPONSE_LOW_MINUTES: PositiveInteger(
    720,
    'minutes within which a low-priority support ticket gets its first staff reply',
  ),
  SUPPORT_HIGH_VALUE_ORDER_XAF: PositiveInteger(
    20_000,
    'an order total (XAF) from which a ticket about it is one priority higher',
  ),
  SUPPORT_REOPEN_DAYS: PositiveInteger(
    7,
    'days after resolution during which a support ticket may be reopened',
  ),
  SUPPORT_REMEDY_AGENT_MAX_XAF: PositiveInteger(
    5_000,
    'the most a plain support agent grants in one dispute remedy (goodwill credit or refund, XAF)',
  ),
  SUPPORT_REMEDY_SUPERVISOR_MAX_XAF: PositiveInteger(
    100_000,
    'the most a support supervisor or an admin grants in one dispute remedy (XAF)',
  ),
  ADMIN_SETTINGS_CACHE_MS: Type.Integer({
    minimum: 0,
    maximum: 60_000,
    default: 2_000,
    description:
      'how long an instance serves its copy of feature flags and maintenance mode before reading PostgreSQL again (0-60000 ms; other instances see a change within it)',
  }),
  ADMIN_LIVE_INTERVAL_SECONDS: Type.Union(
    [0, 5, 10, 15, 20, 30, 60].map((seconds) => Type.Literal(seconds)),
    {
      default: 10,
      description:
        'how often the live dashboard is published on /ws/admin live-analytics and its alerts checked (seconds: 5, 10, 15, 20, 30 or 60; 0: never, the REST snapshot still answers)',
    },
  ),
  FRAUD_FAILED_PAYMENTS_PER_PHONE: PositiveInteger(
    5,
    'failed payments from one payment phone within FRAUD_VELOCITY_WINDOW_MINUTES that open a fraud case',
  ),
  FRAUD_FAILED_PAYMENTS_PER_ACCOUNT: PositiveInteger(
    5,
    'failed payments by one account within FRAUD_VELOCITY_WINDOW_MINUTES that open a fraud case',
  ),
  FRAUD_TOPUPS_PER_ACCOUNT: PositiveInteger(
    10,
    'top-ups started by one account within FRAUD_VELOCITY_WINDOW_MINUTES that open a fraud case',
  ),
  FRAUD_ORDERS_PER_ACCOUNT: PositiveInteger(
    10,
    'orders placed by one account within FRAUD_VELOCITY_WINDOW_MINUTES that open a fraud case',
  ),
  FRAUD_ACCOUNTS_PER_PHONE: PositiveInteger(
    3,
    'distinct accounts paying from one payment phone within FRAUD_VELOCITY_WINDOW_MINUTES that open a fraud case',
  ),
  FRAUD_CANCELS_PER_ACCOUNT: PositiveInteger(
    4,
    'orders cancelled by their customer within FRAUD_VELOCITY_WINDOW_MINUTES that open a fraud case (cancel loops)',
  ),
  PARTNERSHIP_RATE_LIMIT_MAX: PositiveInteger(
    5,
    'partnership requests one address may send per PARTNERSHIP_RATE_LIMIT_WINDOW_MS (the public form)',
  ),
  PARTNERSHIP_RATE_LIMIT_WINDOW_MS: PositiveInteger(3_600_000, 'window of PARTNERSHIP_RATE_LIMIT_MAX, in ms'),
  FRAUD_PAYOUT_HOLD_SCORE: Type.Integer({
    minimum: 0,
    maximum: 100,
    default: 75,
    description:
      'a fraud case scoring at least this holds the person’s payouts until an admin dismisses it (0: never hold)',
  }),
  FRAUD_DISPUTE_RATE_PERCENT: Type.Integer({
    minimum: 1,
    maximum: 100,
    default: 30,
    description:
      'share of an account’s orders within FRAUD_RATE_WINDOW_DAYS it disputes that opens a fraud case (1-100 %, with at least FRAUD_RATE_MIN_COUNT disputes)',
  }),
  FRAUD_REFUND_RATE_PERCENT: Type.Integer({
    minimum: 1,
    maximum: 100,
    default: 30,
    description:
      'share of an account’s orders within FRAUD_RATE_WINDOW_DAYS refunded after a dispute that opens a fraud case (1-100 %, with at least FRAUD_RATE_MIN_COUNT refunds)',
  }),
  FRAUD_RATE_MIN_COUNT: PositiveInteger(
    3,
    'disputes (refunds) an account must have before its dispute (refund) rate is judged',
  ),
  FRAUD_RATE_WINDOW_DAYS: Type.Integer({
    minimum: 1,
    maximum: 365,
    default: 30,
    description: 'the window (days) the refund and dispute rate rules count in (1-365)',
  }),
  FRAUD_COUPON_ACCOUNTS_PER_PHONE: PositiveInteger(
    3,
    'distinct accounts redeeming one coupon from one payment phone within FRAUD_RATE_WINDOW_DAYS that open a fraud case',
  ),
  FRAUD_COUPON_ACCOUNTS_PER_ADDRESS: PositiveInteger(
    3,
    'distinct accounts redeeming one coupon at one delivery point (about 11 m) within FRAUD_RATE_WINDOW_DAYS that open a fraud case',
  ),
  FRAUD_ACCOUNTS_PER_DEVICE: PositiveInteger(
    4,
    'distinct accounts signing in on one device (the apps’ X-Device-Id) within FRAUD_RATE_WINDOW_DAYS that open a fraud case',
  ),
  FRAUD_ORDERS_PER_DEVICE: PositiveInteger(
    8,
    'orders placed by the accounts that signed in on one device (the apps’ X-Device-Id), together, within FRAUD_ORDERS_PER_DEVICE_WINDOW_MINUTES that open a fraud case',
  ),
  FRAUD_ORDERS_PER_DEVICE_WINDOW_MINUTES: Type.Integer({
    minimum: 1,
    maximum: 10_080,
    default: 60,
    description: 'the window (minutes, at most a week) the orders-per-device fraud rule counts in',
  }),
  FRAUD_IMPOSSIBLE_MOVES_PER_DRIVER: PositiveInteger(
    3,
    'position fixes of one driver flagged for an impossible speed within FRAUD_VELOCITY_WINDOW_MINUTES that open a fraud case',
  ),
  FRAUD_COLLUSION_COUNT: PositiveInteger(
    3,
    'orders disputed by their customer or failed at delivery between one driver and one customer within FRAUD_RATE_WINDOW_DAYS that open a fraud case',
  ),
  NEWSLETTER_BATCH_SIZE: Type.Integer({
    minimum: 1,
    maximum: 1_000,
    default: 200,
    description: 'recipients a newsletter job records per batch before it saves its place (1-1000)',
  }),
  FRAUD_REFERRALS_PER_SOURCE: PositiveInteger(
    3,
    'referrals credited to one referrer whose referees share one device, one payment phone or one delivery point within FRAUD_REFERRAL_WINDOW_DAYS that open a fraud case',
  ),
  FRAUD_REFERRAL_WINDOW_DAYS: Type.Integer({
    minimum: 1,
    maximum: 365,
    default: 30,
    description: 'the window (days) the referral abuse rules count in (1-365)',
  }),
  FRAUD_VELOCITY_WINDOW_MINUTES: PositiveInteger(
    60,
    'the window (minutes) the fraud velocity rules count in',
  ),
  FILES_URL_TTL_SECONDS: Type.Integer({
    minimum: 10,
    maximum: 86_400,
    default: 300,
    description: 'seconds a signed URL of a private file stays valid (10-86400)',
  }),
  FILES_MAX_IMAGE_BYTES: PositiveInteger(10_485_760, 'the largest image one upload may carry, in bytes'),
  FILES_MAX_DOCUMENT_BYTES: PositiveInteger(
    10_485_760,
    'the largest driver document (image or PDF) one upload may carry, in bytes',
  ),
  FILES_MAX_SIGNATURE_BYTES: PositiveInteger(
    1_048_576,
    'the largest delivery signature (PNG) one upload may carry, in bytes',
  ),
  FILES_PROOF_RETENTION_DAYS: PositiveInteger(
    30,
    'days delivery proofs and packed-order photos are kept after the dispute window, then deleted',
  ),
  FILES_MAX_IMAGE_PIXELS: PositiveInteger(
    40_000_000,
    'the most pixels an uploaded image may declare (width x height); more is refused before decoding',
  ),
  DISPATCH_LOCATION_MIN_INTERVAL_MS: Type.Integer({
    minimum: 0,
    default: 4_000,
    description:
      'the least time between two accepted position fixes of one driver, in ms (a fix sooner is refused 429; 0: no limit, for benchmarks)',
  }),
  DISPATCH_LOCATION_MAX_ACCURACY_METERS: PositiveInteger(
    100,
    'the largest accuracy radius, in metres, a position fix may report to be accepted',
  ),
  DISPATCH_LOCATION_USABLE_ACCURACY_METERS: PositiveInteger(
    50,
    'the coarsest accuracy, in metres, a fix may report to be used for matching and geofences (coarser, up to DISPATCH_LOCATION_MAX_ACCURACY_METERS: stored and shown, not used); at most the maximum',
  ),
  DISPATCH_LOCATION_MAX_AGE_SECONDS: PositiveInteger(
    120,
    'how old, in seconds, a position fix may be when it arrives (older ones are refused)',
  ),
  DISPATCH_LOCATION_STALE_SECONDS: PositiveInteger(
    300,
    'seconds after its last fix that an online driver is no longer found by a nearby search',
  ),
  DISPATCH_MAX_SPEED_KMH_MOTORBIKE: PositiveInteger(
    150,
    'the fastest believable speed between two fixes of a motorbike, km/h (faster: flagged, not used)',
  ),
  DISPATCH_MAX_SPEED_KMH_CAR: PositiveInteger(
    150,
    'the fastest believable speed between two fixes of a car, km/h (faster: flagged, not used)',
  ),
  DISPATCH_MAX_SPEED_KMH_BICYCLE: PositiveInteger(
    60,
    'the fastest believable speed between two fixes of a bicycle, km/h (faster: flagged, not used)',
  ),
  DISPATCH_SPEED_ALERT_KMH_MOTORBIKE: PositiveInteger(
    80,
    'a speed alert for staff when a motorbike carrying an order goes faster than this between trail points, km/h',
  ),
  DISPATCH_SPEED_ALERT_KMH_CAR: PositiveInteger(
    90,
    'a speed alert for staff when a car carrying an order goes faster than this between trail points, km/h',
  ),
  DISPATCH_SPEED_ALERT_KMH_BICYCLE: PositiveInteger(
    35,
    'a speed alert for staff when a bicycle carrying an order goes faster than this between trail points, km/h',
  ),
  DISPATCH_FANOUT_INTERVAL_MS: Type.Integer({
    minimum: 0,
    default: 5_000,
    description:
      'the least time between two driver-location messages of one order to its customer and restaurant, in ms',
  }),
  DISPATCH_TRAIL_MAX_POINTS: PositiveInteger(
    500,
    'positions kept in the trail of one order while it is carried (later fixes are not stored)',
  ),
  DISPATCH_MATCHING_ENABLED: Flag(
    true,
    'whether a paid and accepted order is offered to drivers by the dispatcher (claim stays for staff)',
  ),
  DISPATCH_OFFER_TIMEOUT_SECONDS: PositiveInteger(30, 'how long a driver has to accept an offer, in seconds'),
  DISPATCH_OFFERS_PER_ROUND: PositiveInteger(3, 'offers made within one search radius before it widens'),
  DISPATCH_MAX_ROUNDS: PositiveInteger(3, 'search rounds (radius widenings + 1) before staff are alerted'),
  DISPATCH_EMPTY_ROUND_WAIT_SECONDS: Type.Integer({
    minimum: 0,
    maximum: 600,
    default: 60,
    description:
      'after a round that found nobody to ask, how long to wait for drivers to come online before the next (0 to 600 seconds; 0: at once)',
  }),
  DISPATCH_RADIUS_KM: Type.Number({
    exclusiveMinimum: 0,
    maximum: 50,
    default: 3,
    description: 'the first search radius around the restaurant, km',
  }),
  DISPATCH_RADIUS_STEP_KM: Type.Number({
    minimum: 0,
    maximum: 50,
    default: 3,
    description: 'how much the search radius widens after each round, km',
  }),
  DISPATCH_MAX_RADIUS_KM: Type.Number({
    exclusiveMinimum: 0,
    maximum: 50,
    default: 12,
    description: 'the widest search radius, km',
  }),
  DISPATCH_CANDIDATES: PositiveInteger(
    10,
    'nearest online drivers scored per offer (each costs a routing call)',
  ),
  DISPATCH_MAX_TRAVEL_MINUTES: PositiveInteger(
    30,
    'a driver further than this from the restaurant is not asked',
  ),
  DISPATCH_MAX_LOAD: PositiveInteger(
    2,
    'orders a driver may carry at once (the second only when batching fits)',
  ),
  DISPATCH_BATCH_MAX_DELAY_MINUTES: PositiveInteger(
    8,
    "how much later a batched order may make each customer's arrival than its own route, minutes",
  ),
  DISPATCH_BICYCLE_MAX_DELIVERY_KM: Type.Number({
    exclusiveMinimum: 0,
    maximum: 50,
    default: 5,
    description: 'the longest delivery (restaurant to customer) offered to a bicycle, km',
  }),
  DISPATCH_BICYCLE_MAX_ITEMS: PositiveInteger(6, 'the most items in an order offered to a bicycle'),
  DISPATCH_WEIGHT_TRAVEL_PER_MINUTE: Type.Number({
    minimum: 0,
    maximum: 100,
    default: 0.1,
    description: 'score lost per minute of travel to the restaurant',
  }),
  DISPATCH_WEIGHT_LATENESS_PER_MINUTE: Type.Number({
    minimum: 0,
    maximum: 100,
    default: 0.2,
    description: 'score lost per minute the driver would reach the restaurant after the food is ready',
  }),
  DISPATCH_WEIGHT_RATING: Type.Number({
    minimum: 0,
    maximum: 100,
    default: 1,
    description: "score for the driver's rating (Bayesian mean, scaled to 0-1)",
  }),
  DISPATCH_WEIGHT_ACCEPTANCE: Type.Number({
    minimum: 0,
    maximum: 100,
    default: 1,
    description: "score for the driver's acceptance rate (Bayesian, 0-1)",
  }),
  DISPATCH_WEIGHT_VEHICLE_FIT: Type.Number({
    minimum: 0,
    maximum: 100,
    default: 0.5,
    description: 'score for how well the vehicle fits the order (0-1)',
  }),
  DISPATCH_WEIGHT_LOAD_PER_ORDER: Type.Number({
    minimum: 0,
    maximum: 100,
    default: 0.5,
    description: 'score lost per order the driver already carries',
  }),
  DISPATCH_SWEEP_INTERVAL_MS: PositiveInteger(
    1_000,
    'how often each instance looks for dispatches whose deadline passed (offers expired), ms',
  ),
  DISPATCH_ETA_PUSH_MINUTES: PositiveInteger(
    3,
    'how far, in minutes, an ETA must move from the last one told before the customer is told again',
  ),
  DISPATCH_ETA_INTERVAL_MS: PositiveInteger(
    30_000,
    "the least time between two ETA recomputations of one order from the driver's positions, ms",
  ),
  DISPATCH_ON_TIME_GRACE_MINUTES: Type.Integer({
    minimum: 0,
    maximum: 120,
    default: 5,
    description:
      "minutes after the ETA promised at a driver's acceptance within which a delivery still counts as on time (performance)",
  }),
  DISPATCH_DELIVERY_PHOTO_REQUIRED: Flag(
    true,
    'a driver delivers (POST /v1/orders/{id}/deliver) with a delivery photo of the order (photoFileId) besides the PIN',
  ),
  DISPATCH_GEOFENCE_RESTAURANT_METERS: PositiveInteger(
    100,
    "how near the restaurant a carrying driver's accepted position marks DriverArrivedAtRestaurant, metres",
  ),
  DISPATCH_GEOFENCE_CUSTOMER_METERS: PositiveInteger(
    200,
    "how near the customer's drop point a driver's accepted position marks DriverArriving, metres",
  ),
  DISPATCH_GEOFENCE_RETENTION_DAYS: Type.Integer({
    minimum: 1,
    maximum: 365,
    default: 2,
    description:
      'days a geofence arrival (one row per order and fence) is kept before the nightly clean-up forgets it, 1-365',
  }),
  ROUTING_ROAD_FACTOR_DOUALA: Type.Number({
    minimum: 1,
    maximum: 3,
    default: 1.35,
    description: 'road distance over straight-line distance in Douala, 1-3',
  }),
  ROUTING_ROAD_FACTOR_YAOUNDE: Type.Number({
    minimum: 1,
    maximum: 3,
    default: 1.45,
    description: 'road distance over straight-line distance in Yaoundé (hillier, fewer through roads), 1-3',
  }),
  ROUTING_ROAD_FACTOR_DEFAULT: Type.Number({
    minimum: 1,
    maximum: 3,
    default: 1.4,
    description: 'road distance over straight-line distance outside the cities above, 1-3',
  }),
  ROUTING_YANDEX_BASE_URL: Type.String({
    pattern: '^https?://',
    default: 'https://api.routing.yandex.net',
    description: 'the Yandex Distance Matrix API base URL (used when YANDEX_MAPS_API_KEY is set)',
  }),
  ROUTING_TIMEOUT_MS: PositiveInteger(
    2_000,
    'how long a routing API call may take before the haversine estimate answers instead, in ms',
  ),
  ROUTING_SPEED_KMH_MOTORBIKE: PositiveInteger(22, 'the mean urban speed of a motorbike, km/h'),
  ROUTING_SPEED_KMH_CAR: PositiveInteger(18, 'the mean urban speed of a car, km/h'),
  ROUTING_SPEED_KMH_BICYCLE: PositiveInteger(12, 'the mean urban speed of a bicycle, km/h'),
  ROUTING_SPEED_FACTORS_BY_HOUR: Type.String({
    pattern: '^(\\d{1,2}-\\d{1,2}:\\d+(\\.\\d+)?(,\\d{1,2}-\\d{1,2}:\\d+(\\.\\d+)?)*)?$',
    default: '',
    description:
      'speed factors by hour of the day in Douala for the haversine estimate, e.g. 7-10:0.7,16-20:0.6 (from hour inclusive to hour exclusive, factor 0.1-2; other hours 1; empty: 1 all day)',
  }),
  ROUTING_SPEED_FACTORS_BY_HOUR_DOUALA: Type.String({
    pattern: '^(\\d{1,2}-\\d{1,2}:\\d+(\\.\\d+)?(,\\d{1,2}-\\d{1,2}:\\d+(\\.\\d+)?)*)?$',
    default: '',
    description:
      "Douala's own speed factors by hour, same form as ROUTING_SPEED_FACTORS_BY_HOUR (empty: that default table applies)",
  }),
  ROUTING_SPEED_FACTORS_BY_HOUR_YAOUNDE: Type.String({
    pattern: '^(\\d{1,2}-\\d{1,2}:\\d+(\\.\\d+)?(,\\d{1,2}-\\d{1,2}:\\d+(\\.\\d+)?)*)?$',
    default: '',
    description:
      "Yaoundé's own speed factors by hour, same form as ROUTING_SPEED_FACTORS_BY_HOUR (empty: that default table applies)",
  }),
  USSD_CALLBACK_SECRET: Secret(
    'the shared secret (at least 16 characters) the USSD aggregator sends in the callback URL (?key=) or the X-Ussd-Key header; required in production for the USSD route to exist',
  ),
  USSD_ALLOWED_IPS: Type.Optional(
    Type.String({
      pattern: '^[0-9a-fA-F.:]+(,[0-9a-fA-F.:]+)*$',
      description:
        'comma-separated addresses the USSD aggregator calls from (unset: any address with the secret)',
    }),
  ),
  USSD_SERVICE_CODE: Type.String({
    pattern: '^[*#0-9]{2,20}$',
    default: '*123#',
    description: 'the USSD code customers dial, named in SMS answers',
  }),
  USSD_SESSION_IDLE_SECONDS: PositiveInteger(
    120,
    'seconds a USSD session may wait for the next input before it ends (the customer dials again to resume)',
  ),
  USSD_RESUME_SECONDS: PositiveInteger(
    300,
    'seconds after its last input during which a dropped USSD session resumes at the same step',
  ),
  USSD_PIN_MAX_ATTEMPTS: PositiveInteger(5, 'wrong USSD PINs before the USSD account is locked'),
  USSD_PIN_LOCK_MINUTES: PositiveInteger(30, 'minutes a USSD account stays locked after too many wrong PINs'),
  GROUP_CART_TTL_MINUTES: Type.Integer({
    minimum: 5,
    maximum: 7 * 24 * 60,
    default: 180,
    description:
      'minutes a group cart stays open or locked before it expires and every paid share is refunded (5 to 10080)',
  }),
  GROUP_CARTS_MAX_OPEN_PER_HOST: PositiveInteger(
    5,
    'group carts one host may have open, locked or placing at once',
  ),
  BULK_ORDER_MIN_LEAD_HOURS: Type.Integer({
    minimum: 1,
    maximum: 144,
    default: 48,
    description:
      'the least hours ahead a bulk order may be requested (1 to 144; at most ORDER_SCHEDULE_MAX_DAYS ahead in all)',
  }),
  BULK_ORDER_MIN_ITEMS: PositiveInteger(
    20,
    'the least number of portions (quantities summed) a bulk order holds',
  ),
  BULK_ORDER_RESPONSE_HOURS: PositiveInteger(
    12,
    'hours a restaurant has to confirm, refuse or propose a change to a bulk order before it expires (deposit refunded)',
  ),
  BULK_ORDER_DEPOSIT_PERCENT: Type.Integer({
    minimum: 1,
    maximum: 100,
    default: 30,
    description: "the deposit taken into the bulk order's escrow with the request, in percent of its total",
  }),
  BULK_ORDER_BALANCE_HOURS_BEFORE: PositiveInteger(
    6,
    'hours before its time by which the balance of a confirmed bulk order is paid (unpaid: cancelled late)',
  ),
  BULK_ORDER_FREE_CANCEL_HOURS_BEFORE: PositiveInteger(
    24,
    'hours before its time until which a confirmed bulk order is cancelled with its whole deposit back',
  ),
  BULK_ORDER_LATE_CANCEL_REFUND_PERCENT: Type.Integer({
    minimum: 0,
    maximum: 100,
    default: 50,
    description:
      "percent of the deposit given back when a confirmed bulk order is cancelled later than BULK_ORDER_FREE_CANCEL_HOURS_BEFORE (the rest is the restaurant's)",
  }),
  BULK_ORDER_PLACE_MINUTES_BEFORE: Type.Integer({
    minimum: 45,
    maximum: 24 * 60,
    default: 120,
    description:
      'minutes before its time that a paid bulk order is placed as a scheduled order in the normal order flow (45 to 1440)',
  }),
  SHARE_SITE_NAME: Type.String({
    minLength: 1,
    maxLength: 60,
    default: 'Food delivery',
    description: 'the name shared links show as their site (og:site_name) in previews',
  }),
  ZONE_H3_RESOLUTION: Type.Integer({
    minimum: 7,
    maximum: 10,
    default: 9,
    description:
      "the H3 resolution zones and restaurants' delivery areas are cut at, 7 (~5 km² cells) to 10 (~0.015 km²); zones keep the resolution they were written at",
  }),
  TAX_RATE_PERCENT: Type.Number({
    minimum: 0,
    maximum: 100,
    default: 0,
    description: 'VAT on orders, 0-100',
  }),
});

export type Environment = Static<typeof EnvironmentSchema>;

/** The SMS transport (Twilio) that production needs to send verification codes. */
export const SMS_TRANSPORT_VARIABLES = ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_FROM'] as const;
/** The same, per SMS_PROVIDER (docs/notification-channels.md). */
export const SMS_PROVIDER_VARIABLES = {
  twilio: SMS_TRANSPORT_VARIABLES,
  africastalking: ['AFRICASTALKING_USERNAME', 'AFRICASTALKING_API_KEY'],
} as const;

/** Secrets that production must receive from the environment and development may generate. */
const GENERATED_SECRETS = ['JWT_SECRET', 'JWT_REFRESH_SECRET', 'ENCRYPTION_KEY'] as const;
type GeneratedSecret = (typeof GENERATED_SECRETS)[number];

export interface Config extends Omit<
  Environment,
  | 'CORS_ORIGINS'
  | 'ADMIN_IP_ALLOWLIST'
  | 'ORDERS_PAYMENT_PORT'
  | 'PUBLIC_BASE_URL'
  | 'PII_ENCRYPTION_KEYS'
  | 'PII_BLIND_INDEX_KEY'
  | 'FILES_SIGNING_KEY'
  | GeneratedSecret
> {
  /** The key of the disk store's signed URLs (outside production: derived from ENCRYPTION_KEY). */
  FILES_SIGNING_KEY: string;
  /** The personal-data key ring, `id:key,…` (the first encrypts); see piiKeyRing. */
  PII_ENCRYPTION_KEYS: string;
  PII_BLIND_INDEX_KEY: string;
  ORDERS_PAYMENT_PORT: 'ledger' | 'test';
  PUBLIC_BASE_URL: string;
  JWT_SECRET: string;
  JWT_REFRESH_SECRET: string;
  ENCRYPTION_KEY: string;
  OUTBOX_ENABLED: boolean;
  corsOrigins: string[];
  adminIpAllowlist: string[];
  isProduction: boolean;
  embeddedDatabase: boolean;
  /** Names of secrets generated for this data directory (development only). */
  generatedSecrets: string[];
}

export class ConfigError extends Error {
  constructor(
    readonly variables: string[],
    message: string,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

function describeVariable(name: string): string {
  const property = (EnvironmentSchema.properties as Record<string, { description?: string }>)[name];
  return property?.description ?? 'a valid value';
}

function splitList(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

/** Keeps the generated development secrets stable per data directory, so tokens survive restarts. */
function developmentSecrets(dataDirectory: string): Record<GeneratedSecret, string> {
  const file = path.join(dataDirectory, 'dev-secrets.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as Record<GeneratedSecret, string>;
  const secrets = {
    JWT_SECRET: randomBytes(32).toString('base64url'),
    JWT_REFRESH_SECRET: randomBytes(32).toString('base64url'),
    ENCRYPTION_KEY: randomBytes(32).toString('hex'),
  };
  mkdirSync(dataDirectory, { recursive: true });
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}

type ProviderName = 'campay' | 'mtn_momo';

/** The variables each real provider needs, as [variable, is it set]. */
function providerCredentials(environment: Environment, provider: ProviderName): [string, boolean][] {
  if (provider === 'campay') {
    const login = environment.CAMPAY_USERNAME !== undefined && environment.CAMPAY_PASSWORD !== undefined;
    return [
      ['CAMPAY_BASE_URL', environment.CAMPAY_BASE_URL !== undefined],
      // A permanent app token, or the app username and password that obtain one.
      ['CAMPAY_USERNAME', login || environment.CAMPAY_API_KEY !== undefined],
      ['CAMPAY_PASSWORD', login || environment.CAMPAY_API_KEY !== undefined],
    ];
  }
  return [
    ['MTN_MOMO_BASE_URL', environment.MTN_MOMO_BASE_URL !== undefined],
    ['MTN_MOMO_API_USER', environment.MTN_MOMO_API_USER !== undefined],
    ['MTN_MOMO_API_KEY', environment.MTN_MOMO_API_KEY !== undefined],
    ['MTN_MOMO_SUBSCRIPTION_KEY', environment.MTN_MOMO_SUBSCRIPTION_KEY !== undefined],
  ];
}

/**
 * Missing credentials of the primary providers (a missing fallback is only a warning at boot),
 * and in production CamPay's webhook key, without which every CamPay webhook is refused.
 */
function providerCredentialProblems(environment: Environment): [string, string][] {
  const problems: [string, string][] = [];
  const primaries = new Set<ProviderName>([
    environment.PAYMENT_PROVIDER_MTN,
    environment.PAYMENT_PROVIDER_ORANGE,
  ]);
  for (const provider of primaries) {
    const setting =
      environment.PAYMENT_PROVIDER_MTN === provider ? 'PAYMENT_PROVIDER_MTN' : 'PAYMENT_PROVIDER_ORANGE';
    for (const [name, isSet] of providerCredentials(environment, provider)) {
      if (!isSet)
        problems.push([
          name,
          `${name} is required: ${setting}=${provider} sends payments to ${provider} (expected ${describeVariable(name)})`,
        ]);
    }
  }
  if (
    environment.NODE_ENV === 'production' &&
    primaries.has('campay') &&
    environment.CAMPAY_SECRET === undefined
  )
    problems.push([
      'CAMPAY_SECRET',
      `CAMPAY_SECRET is required in production: expected ${describeVariable('CAMPAY_SECRET')}`,
    ]);
  return problems;
}

function isServiceAccountJson(text: string): boolean {
  try {
    const key = JSON.parse(text) as Record<string, unknown> | null;
    return typeof key?.client_email === 'string' && typeof key.private_key === 'string';
  } catch {
    return false;
  }
}

/**
 * Parses the environment. Throws ConfigError naming every bad variable; never reads the
 * environment again after boot.
 */
export function loadConfig(environment: NodeJS.ProcessEnv = process.env): Config {
  const raw: Record<string, string> = {};
  for (const name of Object.keys(EnvironmentSchema.properties)) {
    const value = environment[name];
    if (value !== undefined && value !== '') raw[name] = value;
  }
  // Value.Convert and Value.Default may write into the object they are given: work on a copy, so
  // `raw` keeps exactly what the operator set (PUBLIC_BASE_URL's fallback depends on it).
  const parsed = Value.Default(
    EnvironmentSchema,
    Value.Convert(EnvironmentSchema, structuredClone(raw)),
  ) as Environment;
  const bad = new Map<string, string>();
  for (const error of Value.Errors(EnvironmentSchema, parsed)) {
    const name = error.instancePath.split('/')[1] ?? error.instancePath;
    if (!bad.has(name))
      bad.set(
        name,
        `${name}=${JSON.stringify(raw[name] ?? null)} is invalid: expected ${describeVariable(name)}`,
      );
  }
  const isProduction = parsed.NODE_ENV === 'production';
  if (isProduction) {
    for (const name of [
      ...GENERATED_SECRETS,
      'DATABASE_URL',
      'PII_ENCRYPTION_KEYS',
      'PII_BLIND_INDEX_KEY',
      'FILES_SIGNING_KEY',
    ]) {
      if (raw[name] === undefined && !bad.has(name)) {
        bad.set(name, `${name} is required in production: expected ${describeVariable(name)}`);
      }
    }
    // Without an SMS transport nobody can register, sign in as a guest or reset a password:
    // refuse the start instead of answering 500 on every code (the outbox is refused below).
    for (const name of SMS_PROVIDER_VARIABLES[parsed.SMS_PROVIDER] ?? []) {
      if (raw[name] === undefined && !bad.has(name)) {
        bad.set(name, `${name} is required in production (SMS codes): expected ${describeVariable(name)}`);
      }
    }
    if (parsed.OUTBOX_ENABLED === true)
      bad.set('OUTBOX_ENABLED', 'OUTBOX_ENABLED must not be true in production');
    if (parsed.ORDERS_PAYMENT_PORT === 'test')
      bad.set('ORDERS_PAYMENT_PORT', 'ORDERS_PAYMENT_PORT must not be test in production');
    if (raw.METRICS_TOKEN === undefined && !bad.has('METRICS_TOKEN'))
      bad.set(
        'METRICS_TOKEN',
        `METRICS_TOKEN is required in production (/metrics shows traffic and business figures): expected ${describeVariable('METRICS_TOKEN')}`,
      );
    if (raw.PUBLIC_BASE_URL === undefined && !bad.has('PUBLIC_BASE_URL'))
      bad.set(
        'PUBLIC_BASE_URL',
        `PUBLIC_BASE_URL is required in production: expected ${describeVariable('PUBLIC_BASE_URL')}`,
      );
  }
  // Without the simulators (always so in production), each provider that routes payments needs
  // its credentials: say so here, naming the variables, rather than crash later at boot.
  if (isProduction || !parsed.PAYMENT_SIMULATORS) {
    for (const [name, message] of providerCredentialProblems(parsed))
      if (!bad.has(name)) bad.set(name, message);
  }
  // Simulated weather would feed the live models made-up rain.
  if (isProduction && parsed.WEATHER_PROVIDER === 'simulator' && !bad.has('WEATHER_PROVIDER'))
    bad.set('WEATHER_PROVIDER', 'WEATHER_PROVIDER must not be simulator in production');
  // The S3 store has no fallback: a missing bucket or credential is named here, not at the first upload.
  if (parsed.FILES_STORE === 's3') {
    for (const name of ['S3_BUCKET', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'] as const) {
      if (raw[name] === undefined && !bad.has(name))
        bad.set(
          name,
          `${name} is required: FILES_STORE=s3 stores files in S3 (expected ${describeVariable(name)})`,
        );
    }
  }
  // A client id without its secret (or the reverse) would fail only at the first sign-in.
  for (const provider of ['GOOGLE', 'FACEBOOK'] as const) {
    const id = `${provider}_CLIENT_ID`;
    const secret = `${provider}_CLIENT_SECRET`;
    if ((raw[id] === undefined) !== (raw[secret] === undefined) && !bad.has(id) && !bad.has(secret))
      bad.set(secret, `${id} and ${secret} go together: set both or neither`);
  }
  // Tokens and codes cross these: plain http is for a local provider outside production only.
  if (isProduction)
    for (const name of [
      'GOOGLE_ISSUER',
      'FACEBOOK_AUTHORIZATION_URL',
      'FACEBOOK_TOKEN_URL',
      'FACEBOOK_USERINFO_URL',
      'SOCIAL_REDIRECT_URI',
    ] as const) {
      const value = parsed[name];
      if (value !== undefined && !value.startsWith('https://') && !bad.has(name))
        bad.set(name, `${name} must be an https:// URL in production`);
    }
  // A broken key would only fail at the first push; its text is a secret, so it is never quoted.
  if (parsed.FCM_SERVICE_ACCOUNT_JSON !== undefined && !isServiceAccountJson(parsed.FCM_SERVICE_ACCOUNT_JSON))
    bad.set(
      'FCM_SERVICE_ACCOUNT_JSON',
      'FCM_SERVICE_ACCOUNT_JSON is invalid: expected a service-account key as JSON (with client_email and private_key)',
    );
  // A lease shorter than a request would let a retry run the work while the first still runs.
  if (
    !bad.has('IDEMPOTENCY_LEASE_SECONDS') &&
    parsed.IDEMPOTENCY_LEASE_SECONDS * 1000 <= parsed.REQUEST_TIMEOUT_MS
  )
    bad.set(
      'IDEMPOTENCY_LEASE_SECONDS',
      `IDEMPOTENCY_LEASE_SECONDS=${parsed.IDEMPOTENCY_LEASE_SECONDS} must be longer than REQUEST_TIMEOUT_MS=${parsed.REQUEST_TIMEOUT_MS} ms`,
    );
  // Tiers must climb: gold above silver.
  if (
    !bad.has('LOYALTY_GOLD_POINTS') &&
    !bad.has('LOYALTY_SILVER_POINTS') &&
    parsed.LOYALTY_GOLD_POINTS <= parsed.LOYALTY_SILVER_POINTS
  )
    bad.set(
      'LOYALTY_GOLD_POINTS',
      `LOYALTY_GOLD_POINTS=${parsed.LOYALTY_GOLD_POINTS} must be more than LOYALTY_SILVER_POINTS=${parsed.LOYALTY_SILVER_POINTS}`,
    );
  // Scanning required with no scanner would mean either unscanned files or no uploads at all.
  if (parsed.FILES_SCAN_REQUIRED && raw.CLAMD_URL === undefined && !bad.has('CLAMD_URL'))
    bad.set(
      'CLAMD_URL',
      `CLAMD_URL is required when FILES_SCAN_REQUIRED=true${isProduction ? ' in production' : ''}: expected ${describeVariable('CLAMD_URL')}`,
    );
  if (bad.size > 0) {
    throw new ConfigError([...bad.keys()], `Invalid configuration:\n  ${[...bad.values()].join('\n  ')}`);
  }

  const missingSecrets = GENERATED_SECRETS.filter((name) => parsed[name] === undefined);
  const generated = missingSecrets.length > 0 ? developmentSecrets(parsed.DATA_DIR) : undefined;
  const { CORS_ORIGINS, ADMIN_IP_ALLOWLIST, ...rest } = parsed;
  const encryptionKey = parsed.ENCRYPTION_KEY ?? generated!.ENCRYPTION_KEY;
  return {
    ...rest,
    JWT_SECRET: parsed.JWT_SECRET ?? generated!.JWT_SECRET,
    JWT_REFRESH_SECRET: parsed.JWT_REFRESH_SECRET ?? generated!.JWT_REFRESH_SECRET,
    ENCRYPTION_KEY: encryptionKey,
    // Outside production only (production refuses to start without them, above).
    PII_ENCRYPTION_KEYS:
      parsed.PII_ENCRYPTION_KEYS ?? `dev:${derivedKey(encryptionKey, 'pii-encryption-dev').toString('hex')}`,
    PII_BLIND_INDEX_KEY:
      parsed.PII_BLIND_INDEX_KEY ?? derivedKey(encryptionKey, 'pii-blind-index-dev').toString('hex'),
    FILES_SIGNING_KEY:
      parsed.FILES_SIGNING_KEY ?? derivedKey(encryptionKey, 'files-signing-dev').toString('base64url'),
    OUTBOX_ENABLED: parsed.OUTBOX_ENABLED ?? !isProduction,
    // Unset, links and the simulators' webhooks point at this process on whatever PORT it has.
    PUBLIC_BASE_URL: raw.PUBLIC_BASE_URL ?? `http://127.0.0.1:${parsed.PORT}`,
    ORDERS_PAYMENT_PORT: parsed.ORDERS_PAYMENT_PORT ?? (parsed.NODE_ENV === 'test' ? 'test' : 'ledger'),
    PAYMENT_SIMULATORS: isProduction ? false : parsed.PAYMENT_SIMULATORS,
    corsOrigins: splitList(CORS_ORIGINS),
    adminIpAllowlist: splitList(ADMIN_IP_ALLOWLIST),
    isProduction,
    embeddedDatabase: parsed.DATABASE_URL === undefined,
    generatedSecrets: [...missingSecrets],
  };
}

/** The 32-byte master key, from hex or base64. */
export function masterKey(config: Pick<Config, 'ENCRYPTION_KEY'>): Buffer {
  const key = config.ENCRYPTION_KEY;
  return /^[0-9a-fA-F]{64}$/.test(key) ? Buffer.from(key, 'hex') : Buffer.from(key, 'base64');
}

function keyBytes(text: string): Buffer {
  return /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
}

/** A development default derived from the master key (never used in production). */
function derivedKey(encryptionKey: string, purpose: string): Buffer {
  return createHmac('sha256', keyBytes(encryptionKey)).update(purpose).digest();
}

/** The personal-data key ring: the first key encrypts, every key decrypts (rotation). */
export function piiKeyRing(config: Pick<Config, 'PII_ENCRYPTION_KEYS'>): { id: string; key: Buffer }[] {
  return config.PII_ENCRYPTION_KEYS.split(',').map((pair) => {
    const separator = pair.indexOf(':');
    return { id: pair.slice(0, separator), key: keyBytes(pair.slice(separator + 1)) };
  });
}

/** The 32-byte key of the personal-data blind indexes. */
export function piiBlindIndexKey(config: Pick<Config, 'PII_BLIND_INDEX_KEY'>): Buffer {
  return keyBytes(config.PII_BLIND_INDEX_KEY);
}

import { parseArgs } from 'node:util';
import { handleHelp, usageError } from './common.js';
import {
  SIMULATOR_CREDENTIALS,
  SIMULATOR_PORTS,
  startSimulators,
} from '../modules/payments/simulators/index.js';

const USAGE = `usage: npm run simulators -- [options]

The CamPay and MTN MoMo simulators alone, on fixed ports, until Ctrl-C.

options:
  --webhook-base-url URL           where webhooks go (default http://127.0.0.1:3000/v1/webhooks)
  --delay-ms N                     how long payments stay PENDING (default 1000)
  --campay-port N, --mtn-port N    the ports (defaults ${SIMULATOR_PORTS.campay} and ${SIMULATOR_PORTS.mtn})
  --campay-webhook-method GET|POST CamPay's webhook method (default POST)
  --campay-no-dedupe               a reused external reference makes a second CamPay transaction
                                   (a provider that does not deduplicate)
  --host H                         the address to listen on (default 127.0.0.1)`;
handleHelp(USAGE);
const OPTIONS = {
  'webhook-base-url': { type: 'string', default: 'http://127.0.0.1:3000/v1/webhooks' },
  'delay-ms': { type: 'string', default: '1000' },
  'campay-port': { type: 'string', default: String(SIMULATOR_PORTS.campay) },
  'mtn-port': { type: 'string', default: String(SIMULATOR_PORTS.mtn) },
  'campay-webhook-method': { type: 'string', default: 'POST' },
  'campay-no-dedupe': { type: 'boolean', default: false },
  host: { type: 'string', default: '127.0.0.1' },
} as const;
let values: ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>['values'];
try {
  values = parseArgs({ options: OPTIONS }).values;
} catch (error) {
  usageError(USAGE, (error as Error).message); // an unknown option: one line, not a stack trace
}

const delayMs = Number(values['delay-ms']);
const method = values['campay-webhook-method']?.toUpperCase();
if (!Number.isInteger(delayMs) || delayMs < 0 || (method !== 'GET' && method !== 'POST')) {
  usageError(USAGE, '--delay-ms must be a whole number of ms and --campay-webhook-method GET or POST');
}

const simulators = await startSimulators({
  webhookBaseUrl: values['webhook-base-url'],
  delayMs,
  host: values.host,
  ports: {
    campay: Number(values['campay-port']),
    mtn: Number(values['mtn-port']),
    orange: SIMULATOR_PORTS.orange,
  },
  campayWebhookMethod: method,
  campayDeduplicatesReferences: values['campay-no-dedupe'] !== true,
});

console.log(`CamPay simulator:      ${simulators.campayUrl}   (control: ${simulators.campayControlUrl})`);
console.log(`MTN MoMo simulator:    ${simulators.mtnUrl}   (control: ${simulators.mtnControlUrl})`);
console.log(`Orange Money simulator: ${simulators.orangeUrl}   (control: ${simulators.orangeControlUrl})`);
console.log(
  `CamPay webhooks go to: ${values['webhook-base-url']}/campay (${method}); MTN calls back X-Callback-Url`,
);
console.log(`settlement delay:      ${delayMs} ms`);
console.log('credentials:');
console.log(
  `  CAMPAY_BASE_URL=${simulators.campayUrl} CAMPAY_USERNAME=${SIMULATOR_CREDENTIALS.campay.username} CAMPAY_PASSWORD=${SIMULATOR_CREDENTIALS.campay.password} CAMPAY_SECRET=${SIMULATOR_CREDENTIALS.campay.webhookKey}`,
);
const mtn = SIMULATOR_CREDENTIALS.mtn.collection;
console.log(
  `  MTN_MOMO_BASE_URL=${simulators.mtnUrl} MTN_MOMO_API_USER=${mtn.apiUser} MTN_MOMO_API_KEY=${mtn.apiKey} MTN_MOMO_SUBSCRIPTION_KEY=${mtn.subscriptionKey}`,
);
const orange = SIMULATOR_CREDENTIALS.orange;
console.log(
  `  ORANGE_MONEY_BASE_URL=${simulators.orangeUrl} ORANGE_MONEY_CONSUMER_KEY=${orange.consumerKey} ORANGE_MONEY_CONSUMER_SECRET=${orange.consumerSecret} ORANGE_MONEY_AUTH_TOKEN=${orange.authToken} ORANGE_MONEY_CHANNEL_MSISDN=${orange.channelMsisdn} ORANGE_MONEY_PIN=${orange.pin}`,
);
const payout = SIMULATOR_CREDENTIALS.mtn.disbursement;
console.log(
  `  MTN_MOMO_DISBURSEMENT_API_USER=${payout.apiUser} MTN_MOMO_DISBURSEMENT_API_KEY=${payout.apiKey} MTN_MOMO_DISBURSEMENT_SUBSCRIPTION_KEY=${payout.subscriptionKey}`,
);
console.log(
  'magic numbers: ...0001 FAILED, 0002 PENDING forever, 0003 webhook twice, 0004 no webhook, 0005 CamPay 5xx, 0006 CamPay timeout, 0007 5xx everywhere',
);

const stop = async () => {
  await simulators.close();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());

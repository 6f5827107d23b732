import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { handleHelp, reportFailure, usageError } from './common.js';
import { dialUssd } from './ussd-phone.js';

const USAGE = `usage: npm run ussd -- [options]

A feature phone in the terminal: dials the local server's USSD callback as Africa's Talking
would, shows each screen and reads your input (digits, Enter). Ctrl-D hangs up; run it again
within USSD_RESUME_SECONDS to resume where the dial dropped.

options:
  --phone +2376XXXXXXXX   the calling number (default +237670000000)
  --url URL               the callback (default http://127.0.0.1:$PORT/v1/ussd/africastalking)
  --code CODE             the service code dialled (default *123#)
  --key SECRET            USSD_CALLBACK_SECRET (default: the environment's)
  --inputs 1*2*2580       send these inputs one by one instead of asking`;
handleHelp(USAGE);

const OPTIONS = {
  phone: { type: 'string', default: '+237670000000' },
  url: { type: 'string' },
  code: { type: 'string', default: '*123#' },
  key: { type: 'string' },
  inputs: { type: 'string' },
} as const;

let parsed;
try {
  parsed = parseArgs({ options: OPTIONS, allowPositionals: false }).values;
} catch (error) {
  usageError(USAGE, error instanceof Error ? error.message : String(error));
}
const url = parsed.url ?? `http://127.0.0.1:${process.env.PORT ?? '3000'}/v1/ussd/africastalking`;
const key = parsed.key ?? process.env.USSD_CALLBACK_SECRET;
const scripted = parsed.inputs === undefined ? undefined : parsed.inputs.split('*');
const terminal =
  scripted === undefined ? createInterface({ input: process.stdin, output: process.stdout }) : undefined;
const frame = (screen: string) =>
  `\n┌──────────────────────────────\n${screen.replace(/^/gm, '│ ')}\n└──────────────────────────────\n`;

try {
  await dialUssd({
    url,
    phone: parsed.phone,
    serviceCode: parsed.code,
    ...(key === undefined ? {} : { key }),
    show: (screen) => process.stdout.write(frame(screen)),
    async ask(screen) {
      process.stdout.write(frame(screen));
      if (scripted !== undefined) {
        const next = scripted.shift();
        if (next !== undefined) process.stdout.write(`> ${next}\n`);
        return next;
      }
      try {
        return await terminal!.question('> ');
      } catch {
        return undefined; // Ctrl-D: the phone hangs up
      }
    },
  });
} catch (error) {
  reportFailure('the USSD dial', error);
} finally {
  terminal?.close();
}

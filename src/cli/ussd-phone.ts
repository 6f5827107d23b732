/**
 * A feature phone for development (`npm run ussd`, docs/ussd.md): it dials the local server's
 * USSD callback the way Africa's Talking does (a form post per input, every input of the dial
 * `*`-joined in `text`), shows each screen and asks for the next input until an `END` screen.
 */
import { randomUUID } from 'node:crypto';

export interface PhoneOptions {
  /** The callback URL, e.g. http://127.0.0.1:3000/v1/ussd/africastalking */
  url: string;
  phone: string;
  serviceCode: string;
  /** USSD_CALLBACK_SECRET, sent as `?key=` like the aggregator's configured URL. */
  key?: string;
  /** The next input, or undefined to hang up. */
  ask(screen: string): Promise<string | undefined>;
  show(screen: string): void;
  sessionId?: string;
}

/** One dial from the first screen to `END` (or a hang-up); answers the screens seen. */
export async function dialUssd(options: PhoneOptions): Promise<string[]> {
  const sessionId = options.sessionId ?? `sim-${randomUUID()}`;
  const url = new URL(options.url);
  if (options.key !== undefined) url.searchParams.set('key', options.key);
  const inputs: string[] = [];
  const screens: string[] = [];
  for (;;) {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        sessionId,
        serviceCode: options.serviceCode,
        phoneNumber: options.phone,
        networkCode: '62401',
        text: inputs.join('*'),
      }).toString(),
    });
    const body = await response.text();
    if (!response.ok) throw new Error(`the USSD callback answered ${response.status}: ${body}`);
    screens.push(body);
    const screen = body.replace(/^(CON|END) /, '');
    if (body.startsWith('END ')) {
      options.show(screen);
      return screens;
    }
    const input = await options.ask(screen);
    if (input === undefined) return screens;
    inputs.push(input.trim());
  }
}

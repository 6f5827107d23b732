import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  customerWalletId,
  driverPayableId,
  providerClearingId,
  restaurantPayableId,
  worldId,
} from '../../ledger/rules/index.js';
import { CONSOLE_TEXTS } from '../../src/modules/admin/console/texts.js';
import { PROVIDER_NAMES } from '../../src/modules/payments/providers/types.js';
import {
  AUTH_TEST_ENV,
  authHeader,
  createUser,
  randomMtnPhone,
  totpCode,
  type CreatedUser,
} from '../helpers/auth.js';
import { chromiumAvailable, launchChromium } from './chromium.js';
import { placeOrder, type OrderWorld } from '../integration/orders/helpers.js';
import { key, listeningPaymentsWorld, until } from '../integration/payments/helpers.js';

/**
 * The admin console (docs/admin.md "Web console") in a real headless Chromium (Debian's
 * `chromium`), walking issue #23's "Done when": an admin signs in with password and authenticator
 * code, sees a live figure move while orders flow, finds a payout held by the fraud case those
 * orders opened (approving it from the payouts list is refused), releases the case's hold and
 * approves the payout from the list (after a step-up), rejects another, rebuilds a projection,
 * switches maintenance on and off, creates and switches on a feature flag, reads the order
 * analytics and an insight and exports both as CSV (the downloaded files' header lines checked),
 * suspends and reinstates a user; every action is in the audit log. After each action the test
 * asks the API (not the page) what it now reports. The real app: PostgreSQL, Redis, ledger,
 * projections, payment simulators; the payout job is off, so an approved payout stays APPROVED.
 */

/** What the functions run in the page use of it (this project's types have no DOM). */
interface InPageElement {
  textContent: string | null;
  children: ArrayLike<InPageElement>;
}
interface InPage {
  document: {
    querySelector(selector: string): InPageElement | null;
    querySelectorAll(selector: string): ArrayLike<InPageElement>;
  };
  localStorage: { length: number };
  sessionStorage: { length: number };
}
const TOTP_STEP_MS = 30_000;
let world: OrderWorld;
let browser: Browser;
let base: string;
let admin: CreatedUser;
/** The last TOTP step used for the admin: a code works once, and only a later step after it. */
let lastStep: number;

/**
 * A code the server will take now: a step after the last one used and at most one step ahead of
 * the clock (the server accepts one step of drift). Waits for the clock when it must.
 */
async function nextCode(secret: string): Promise<string> {
  for (;;) {
    const now = Math.floor(Date.now() / TOTP_STEP_MS);
    const step = Math.max(now, lastStep + 1);
    if (step <= now + 1) {
      lastStep = step;
      return totpCode(secret, step * TOTP_STEP_MS + 1_000);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

const api = (method: 'GET' | 'PUT' | 'POST', url: string, payload?: Record<string, unknown>) =>
  world.testApp.app.inject({
    method,
    url,
    headers: authHeader(admin.accessToken),
    ...(payload === undefined ? {} : { payload }),
  });

async function requestedPayout(): Promise<string> {
  const { ledger } = world.testApp.services;
  // The providers' clearing accounts hold our float (payouts are held against it); a driver earned 8,000.
  await ledger.submit(
    PROVIDER_NAMES.map((provider) => ({
      id: `test:console-float:${provider}:${key()}`,
      debitAccountId: providerClearingId(provider, 'XAF'),
      creditAccountId: worldId('XAF'),
      amountMinor: 1_000_000n,
      currency: 'XAF',
      code: 'adjustment',
      flags: {},
    })),
  );
  const driver = await createUser(world.testApp, { roles: ['driver'], phone: randomMtnPhone() });
  const [credited] = await ledger.submit([
    {
      id: `test:console-earnings:${driver.userId}`,
      debitAccountId: worldId('XAF'),
      creditAccountId: driverPayableId(driver.userId, 'XAF'),
      amountMinor: 8_000n,
      currency: 'XAF',
      code: 'adjustment',
      flags: {},
    },
  ]);
  expect(credited!.result).toBe('ok');
  const requested = await world.testApp.app.inject({
    method: 'POST',
    url: '/v1/payouts',
    headers: { ...authHeader(driver.accessToken), 'idempotency-key': key() },
    payload: { payeeKind: 'driver', amountMinor: 5_000 },
  });
  expect(requested.statusCode, requested.body).toBe(201);
  return requested.json().payoutId as string;
}

/** The restaurant owner places three orders: a fraud case opens and holds the owner's payouts. */
async function ownerTripsOrderVelocity(): Promise<void> {
  const owner = world.actors.owner;
  await world.testApp.services.ledger.submit([
    {
      id: `test:console-fund:${owner.userId}`,
      debitAccountId: worldId('XAF'),
      creditAccountId: customerWalletId(owner.userId, 'XAF'),
      amountMinor: 50_000n,
      currency: 'XAF',
      code: 'adjustment',
      flags: {},
    },
  ]);
  for (let i = 0; i < 3; i += 1) {
    const placed = await placeOrder(world, owner.accessToken, {
      items: [{ itemId: world.jusId, quantity: 1 }],
    });
    expect(placed.statusCode, placed.body).toBe(201);
  }
}

/** The owner asks for their restaurant's earnings (before any fraud case): a payout REQUESTED. */
async function ownerRequestedPayout(): Promise<string> {
  const [credited] = await world.testApp.services.ledger.submit([
    {
      id: `test:console-restaurant-earnings:${world.restaurantId}`,
      debitAccountId: worldId('XAF'),
      creditAccountId: restaurantPayableId(world.restaurantId, 'XAF'),
      amountMinor: 20_000n,
      currency: 'XAF',
      code: 'adjustment',
      flags: {},
    },
  ]);
  expect(credited!.result).toBe('ok');
  const requested = await world.testApp.app.inject({
    method: 'POST',
    url: '/v1/payouts',
    headers: { ...authHeader(world.actors.owner.accessToken), 'idempotency-key': key() },
    payload: { payeeKind: 'restaurant', restaurantId: world.restaurantId, amountMinor: 6_000 },
  });
  expect(requested.statusCode, requested.body).toBe(201);
  return requested.json().payoutId as string;
}

/** A table's rows as the page shows them: its cells' texts. */
const tableRows = (page: Page, selector: string): Promise<string[][]> =>
  page.evaluate(
    (css) =>
      Array.from((globalThis as unknown as InPage).document.querySelectorAll(css), (row) =>
        Array.from(row.children, (cellElement) => cellElement.textContent ?? ''),
      ),
    selector,
  );

/** The file a click downloads, as text (its byte order mark kept). */
async function downloaded(page: Page, selector: string): Promise<{ name: string; text: string }> {
  const [file] = await Promise.all([
    page.waitForEvent('download', { timeout: 15_000 }),
    page.click(selector),
  ]);
  return { name: file.suggestedFilename(), text: readFileSync((await file.path())!, 'utf8') };
}

const ownerPayout = () =>
  world.testApp.app.inject({
    method: 'POST',
    url: '/v1/payouts',
    headers: authHeader(world.actors.owner.accessToken),
    payload: { payeeKind: 'restaurant', restaurantId: world.restaurantId, amountMinor: 1_000 },
  });

describe.skipIf(!chromiumAvailable)('admin console in headless Chromium', () => {
  beforeAll(async () => {
    world = await listeningPaymentsWorld({
      ...AUTH_TEST_ENV,
      JOB_WORKERS_ENABLED: 'false',
      // Three orders by one account open a case that holds the person's payouts.
      FRAUD_ORDERS_PER_ACCOUNT: '3',
      FRAUD_PAYOUT_HOLD_SCORE: '50',
    });
    base = `http://127.0.0.1:${(world.testApp.app.server.address() as AddressInfo).port}`;
    // Enabling the authenticator used the code of the current step.
    admin = await createUser(world.testApp, { roles: ['admin'] });
    lastStep = Math.floor(Date.now() / TOTP_STEP_MS);
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await world?.testApp.close();
  });

  /** Waits until an element's text is `text` (a function, not a string: the page's CSP forbids eval). */
  async function textIs(page: Page, selector: string, text: string): Promise<void> {
    await page.waitForFunction(
      ([css, expected]) =>
        (globalThis as unknown as InPage).document.querySelector(css!)?.textContent === expected,
      [selector, text],
      { timeout: 15_000 },
    );
  }

  async function notice(page: Page, text: RegExp): Promise<void> {
    await page.waitForFunction(
      (pattern) =>
        new RegExp(pattern).test(
          (globalThis as unknown as InPage).document.querySelector('#notice')?.textContent ?? '',
        ),
      text.source,
      { timeout: 15_000 },
    );
  }

  it('walks the "Done when": 2FA sign-in, live figures, a fraud hold released and its payout approved from the list, maintenance, a flag, analytics and their CSV, a user suspended; all audited', async () => {
    const payoutId = await requestedPayout();
    const ownerPayoutId = await ownerRequestedPayout();
    const page = await browser.newPage();
    const violations: string[] = [];
    const offOrigin: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
    });
    page.on('request', (request) => {
      // The CSV downloads are blobs the page made from the API's answers (same origin).
      if (!request.url().startsWith(base) && !request.url().startsWith(`blob:${base}`))
        offOrigin.push(request.url());
    });

    // French by default (`?lang=fr` here, since the browser sends its own Accept-Language), the
    // analytics screen's words included; its language link leads to the English page. The rest
    // of the test reads the English texts.
    await page.goto(`${base}/admin?lang=fr`);
    expect(await page.title()).toBe(CONSOLE_TEXTS.fr.title);
    expect(await page.textContent('#signin-form button[type=submit]')).toBe(CONSOLE_TEXTS.fr.signIn);
    expect(await page.textContent('#view-analytics h2')).toBe(CONSOLE_TEXTS.fr.navAnalytics);
    expect(await page.textContent('#analytics-csv')).toBe(CONSOLE_TEXTS.fr.exportCsv);
    expect(await page.textContent('#view-payouts option[value=REQUESTED]')).toBe(
      CONSOLE_TEXTS.fr.payoutRequested,
    );
    await Promise.all([page.waitForURL(/\?lang=en$/), page.click('#language')]);
    expect(await page.title()).toBe(CONSOLE_TEXTS.en.title);
    await page.goto(`${base}/admin?lang=en`);
    expect(await page.textContent('#signin-form button[type=submit]')).toBe(CONSOLE_TEXTS.en.signIn);
    expect(await page.textContent('#view-analytics h2')).toBe(CONSOLE_TEXTS.en.navAnalytics);
    // A wrong code is refused on the page, and nothing is signed in.
    await page.fill('#signin-form [name=phone]', admin.phone);
    await page.fill('#signin-form [name=password]', admin.password);
    await page.fill('#signin-form [name=totp]', '000000');
    await page.click('#signin-form button[type=submit]');
    await notice(page, /invalid|code/i);
    expect(await page.isVisible('#nav')).toBe(false);

    await page.fill('#signin-form [name=phone]', admin.phone);
    await page.fill('#signin-form [name=password]', admin.password);
    await page.fill('#signin-form [name=totp]', await nextCode(admin.totpSecret!));
    await page.click('#signin-form button[type=submit]');
    await page.waitForSelector('#orders-per-minute', { timeout: 15_000 });
    await textIs(page, '#live', 'live');
    // Nothing of the session is stored by the page.
    expect(
      await page.evaluate(() => {
        const inPage = globalThis as unknown as InPage;
        return inPage.localStorage.length + inPage.sessionStorage.length;
      }),
    ).toBe(0);

    // Orders flow: the figures move and a fraud case opens and holds the owner's payouts, live.
    const firstPaint = await page.textContent('#orders-per-minute');
    expect(firstPaint).toBe('0');
    await ownerTripsOrderVelocity();
    // The live job is off in this app (job workers off): the test runs its tick, which publishes.
    for (let tries = 0; (await page.textContent('#orders-per-minute')) === firstPaint; tries += 1) {
      expect(tries).toBeLessThan(40);
      await world.testApp.services.admin.live.tick(new Date());
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(await page.textContent('#orders-per-minute')).toBe('0.6');
    await page.waitForSelector('#alerts li[data-key^="hold:"]', { timeout: 30_000 });
    expect(await page.textContent('#alerts')).toContain('Fraud case: 3 orders placed by one account');
    expect((await ownerPayout()).json().code).toBe('payout_held');

    // The payouts waiting for approval, listed: approving the owner's, asked before the case
    // opened, needs a step-up and is then refused while the case holds the owner's payouts.
    await page.click('#nav [data-view=payouts]');
    await page.waitForSelector(`#payouts tr[data-id="${ownerPayoutId}"]`, { timeout: 15_000 });
    const waiting = await tableRows(page, '#payouts tr');
    expect(waiting.map((row) => row[3])).toEqual(['REQUESTED', 'REQUESTED']);
    expect(waiting.map((row) => row[1]).sort()).toEqual(['5000 XAF', '6000 XAF']);
    await page.click(`#payouts tr[data-id="${ownerPayoutId}"] button:text("Approve")`);
    await page.waitForSelector('#stepup:not([hidden])', { timeout: 15_000 });
    await page.fill('#stepup-form [name=code]', await nextCode(admin.totpSecret!));
    await page.click('#stepup-form button[type=submit]');
    await notice(page, /\(payout_held\)/);
    expect((await api('GET', `/v1/admin/payouts/${ownerPayoutId}`)).json().status).toBe('REQUESTED');

    // The fraud case acted on: confirmed with a note, then its hold released; payouts go again.
    const [fraudCase] = (await api('GET', '/v1/admin/fraud/cases?status=open')).json().items as {
      id: string;
      userId: string;
    }[];
    expect(fraudCase!.userId).toBe(world.actors.owner.userId);
    await page.click('#nav [data-view=fraud]');
    await page.fill('#fraud-note', 'Owner testing orders, known to us');
    await page.click(`#fraud tr[data-id="${fraudCase!.id}"] button:text("confirm")`);
    await notice(page, /Case confirmed/);
    await page.selectOption('#fraud-form [name=status]', 'confirmed');
    await page.click('#fraud-form button[type=submit]');
    await page.click(`#fraud tr[data-id="${fraudCase!.id}"] button:text("Release hold")`);
    await notice(page, /Hold released/);
    const decided = (await api('GET', '/v1/admin/fraud/cases?status=confirmed')).json().items;
    expect(decided).toEqual([
      expect.objectContaining({ id: fraudCase!.id, decisionNote: 'Owner testing orders, known to us' }),
    ]);
    expect(await world.testApp.services.admin.fraud.payoutHolds.isHeld(world.actors.owner.userId)).toBe(
      false,
    );

    // Back to the list: the owner's payout approved (the step-up still holds), the driver's
    // rejected with a reason; each row shows what the API answered.
    await page.click('#nav [data-view=payouts]');
    await page.click(`#payouts tr[data-id="${ownerPayoutId}"] button:text("Approve")`);
    await textIs(page, `#payouts tr[data-id="${ownerPayoutId}"] .status`, 'APPROVED');
    await page.fill('#payouts-reason', 'Duplicate of an earlier request');
    await page.click(`#payouts tr[data-id="${payoutId}"] button:text("Reject")`);
    await textIs(page, `#payouts tr[data-id="${payoutId}"] .status`, 'REJECTED');
    expect((await api('GET', `/v1/admin/payouts/${ownerPayoutId}`)).json().status).toBe('APPROVED');
    expect((await api('GET', `/v1/admin/payouts/${payoutId}`)).json().status).toBe('REJECTED');
    await page.click('#payouts-form button[type=submit]');
    await page.waitForSelector(`#payouts tr[data-id="${ownerPayoutId}"]`, {
      state: 'detached',
      timeout: 15_000,
    });

    // A projection rebuilt: a new generation is built and swapped in.
    const before = (await api('GET', '/v1/admin/projections')).json().items as {
      name: string;
      generation: number;
      status: string;
      registered: boolean;
    }[];
    const target = before.find((item) => item.registered && item.status === 'active')!;
    await page.click('#nav [data-view=projections]');
    await page.click(`#projections tr[data-name="${target.name}"] button`);
    await notice(page, new RegExp(`Rebuilding ${target.name}`));
    const rebuilt = await until(
      async () =>
        ((await api('GET', '/v1/admin/projections')).json().items as typeof before).filter(
          (item) => item.name === target.name && item.status === 'active',
        ),
      (items) => items.some((item) => item.generation === target.generation + 1),
      30_000,
    );
    expect(rebuilt.map((item) => item.generation)).toEqual([target.generation + 1]);

    // Maintenance on: the public state says so, with the message; then off.
    await page.click('#nav [data-view=maintenance]');
    await page.waitForSelector('#maintenance-state[data-enabled=false]', { timeout: 15_000 });
    await page.fill('#maintenance-form [name=message]', 'Mise à jour, retour dans 10 minutes');
    await page.click('#maintenance-form button[type=submit]');
    await page.waitForSelector('#maintenance-state[data-enabled=true]', { timeout: 15_000 });
    const on = await world.testApp.app.inject({ method: 'GET', url: '/v1/maintenance' });
    expect(on.json()).toMatchObject({ enabled: true, message: 'Mise à jour, retour dans 10 minutes' });
    await page.click('#maintenance-off');
    await page.waitForSelector('#maintenance-state[data-enabled=false]', { timeout: 15_000 });
    const off = await world.testApp.app.inject({ method: 'GET', url: '/v1/maintenance' });
    expect(off.json()).toMatchObject({ enabled: false });

    // A flag created (off), then switched on.
    const flagKey = `console.test-${key().slice(-8).toLowerCase()}`;
    await page.click('#nav [data-view=flags]');
    await page.fill('#flag-form [name=key]', flagKey);
    await page.fill('#flag-form [name=description]', 'Made by the browser test');
    await page.click('#flag-form button[type=submit]');
    await page.waitForSelector(`#flags tr[data-key="${flagKey}"]`, { timeout: 15_000 });
    expect((await api('GET', `/v1/admin/feature-flags/${flagKey}`)).json()).toMatchObject({
      enabled: false,
      version: 1,
    });
    await page.click(`#flags tr[data-key="${flagKey}"] button`);
    await textIs(page, `#flags tr[data-key="${flagKey}"] .enabled`, 'on');
    expect((await api('GET', `/v1/admin/feature-flags/${flagKey}`)).json()).toMatchObject({
      enabled: true,
      version: 2,
      percentage: 100,
      description: 'Made by the browser test',
    });

    // A reconciliation run started for the last hour: listed, then opened from the list.
    const local = (ms: number) => {
      const at = new Date(ms);
      const two = (n: number) => String(n).padStart(2, '0');
      return `${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())}T${two(at.getHours())}:${two(at.getMinutes())}`;
    };
    await page.click('#nav [data-view=reconciliation]');
    await page.selectOption('#reconciliation-form [name=provider]', 'mtn_momo');
    await page.fill('#reconciliation-form [name=from]', local(Date.now() - 3_600_000));
    await page.fill('#reconciliation-form [name=to]', local(Date.now() + 60_000));
    await page.click('#reconciliation-form button[type=submit]');
    await notice(page, /Run finished/);
    const [run] = (await api('GET', '/v1/admin/reconciliation/runs')).json().items as {
      runId: string;
      status: string;
    }[];
    await page.waitForSelector(`#runs tr[data-id="${run!.runId}"]`, { timeout: 15_000 });
    // The run the start answered is shown; emptied here, so what follows is the list's "Open".
    await page.evaluate(() => {
      (globalThis as unknown as InPage).document.querySelector('#run')!.textContent = '';
    });
    await page.click(`#runs tr[data-id="${run!.runId}"] button`);
    await page.waitForFunction(
      (runId) => (globalThis as unknown as InPage).document.querySelector('#run dd')?.textContent === runId,
      run!.runId,
      { timeout: 15_000 },
    );
    expect((await tableRows(page, `#runs tr[data-id="${run!.runId}"]`))[0]![0]).toBe('mtn_momo');

    // A newsletter: a draft written in the form (both languages), its audience counted, scheduled
    // for tomorrow, then cancelled.
    const campaignName = `Console test ${key().slice(-6)}`;
    await page.click('#nav [data-view=newsletters]');
    await page.fill('#newsletter-form [name=name]', campaignName);
    await page.check('#newsletter-form [name=roles][value=customer]');
    await page.fill('#newsletter-form [name=cities]', 'Douala, Yaoundé');
    await page.check('#newsletter-form [name=channels][value=email]');
    for (const [language, words] of [
      ['fr', 'Nouveaux restaurants à Douala'],
      ['en', 'New restaurants in Douala'],
    ] as const) {
      await page.fill(`#newsletter-form [name=${language}-title]`, words);
      await page.fill(`#newsletter-form [name=${language}-sms]`, words);
      await page.fill(`#newsletter-form [name=${language}-body]`, `${words}: ten new menus this week.`);
    }
    await page.click('#newsletter-form button[type=submit]');
    await notice(page, /Draft created/);
    const campaigns = (await api('GET', '/v1/admin/newsletters?status=draft')).json().items as {
      id: string;
      name: string;
    }[];
    const campaign = campaigns.find((item) => item.name === campaignName)!;
    expect((await api('GET', `/v1/admin/newsletters/${campaign.id}`)).json()).toMatchObject({
      status: 'draft',
      segment: { roles: ['customer'], cities: ['douala', 'yaoundé'] },
      channels: ['email', 'push'],
      template: { en: { title: 'New restaurants in Douala' } },
    });
    await page.click(`#newsletters tr[data-id="${campaign.id}"] button:text("Audience")`);
    await notice(page, /^It reaches \d+ accounts now/);
    await page.fill('#newsletter-at', local(Date.now() + 86_400_000));
    await page.click(`#newsletters tr[data-id="${campaign.id}"] button:text("Schedule")`);
    await textIs(page, `#newsletters tr[data-id="${campaign.id}"] .status`, 'scheduled');
    await page.click(`#newsletters tr[data-id="${campaign.id}"] button:text("Cancel the campaign")`);
    await textIs(page, `#newsletters tr[data-id="${campaign.id}"] .status`, 'cancelled');
    expect((await api('GET', `/v1/admin/newsletters/${campaign.id}`)).json().status).toBe('cancelled');

    // A partnership request from the public form, accepted from the review queue with a note.
    const asked = await world.testApp.app.inject({
      method: 'POST',
      url: '/v1/partnership-requests',
      payload: {
        kind: 'fleet',
        organisation: 'Moto Express Akwa',
        contactName: 'Chantal Ngo',
        email: 'chantal@example.cm',
        city: 'Douala',
        message: 'Twenty riders available in the evenings.',
      },
    });
    expect(asked.statusCode, asked.body).toBe(201);
    const requestId = asked.json().id as string;
    await page.click('#nav [data-view=partnerships]');
    await page.waitForSelector(`#partnerships tr[data-id="${requestId}"]`, { timeout: 15_000 });
    expect((await tableRows(page, `#partnerships tr[data-id="${requestId}"]`))[0]!.slice(0, 3)).toEqual([
      'fleet',
      'Moto Express Akwa',
      'Chantal Ngo · chantal@example.cm',
    ]);
    await page.fill('#partnership-note', 'Call back on Monday');
    await page.click(`#partnerships tr[data-id="${requestId}"] button:text("Accept")`);
    await textIs(page, `#partnerships tr[data-id="${requestId}"] .status`, 'accepted');
    expect((await api('GET', `/v1/admin/partnership-requests/${requestId}`)).json()).toMatchObject({
      status: 'accepted',
      reviewNote: 'Call back on Monday',
    });

    // A promotional slot sold to the restaurant for tomorrow, then cancelled from its row.
    await page.click('#nav [data-view=promos]');
    await page.fill('#promo-form [name=restaurantId]', world.restaurantId);
    await page.fill('#promo-form [name=position]', '2');
    await page.fill('#promo-form [name=startsAt]', local(Date.now() + 86_400_000));
    await page.fill('#promo-form [name=endsAt]', local(Date.now() + 2 * 86_400_000));
    await page.fill('#promo-form [name=priceMinor]', '15000');
    await page.fill('#promo-form [name=headlineFr]', 'Le jus du jour');
    await page.click('#promo-form button[type=submit]');
    await notice(page, /Slot sold/);
    const [slot] = (await api('GET', `/v1/admin/promo-slots?restaurantId=${world.restaurantId}`)).json()
      .items as { id: string }[];
    expect((await api('GET', `/v1/admin/promo-slots/${slot!.id}`)).json()).toMatchObject({
      city: 'douala',
      position: 2,
      priceMinor: 15_000,
      headline: { fr: 'Le jus du jour', en: null },
      status: 'scheduled',
    });
    await page.click(`#promos tr[data-id="${slot!.id}"] button`);
    await textIs(page, `#promos tr[data-id="${slot!.id}"] .status`, 'cancelled');

    // Analytics: the three orders by day over the last 30 Douala days (the screen's default),
    // then peak hours; each exported as the CSV the API writes, downloaded with the admin's token.
    const today = new Date(Date.now() + 3_600_000).toISOString().slice(0, 10); // Douala is UTC+1
    await until(
      async () =>
        (await api('GET', `/v1/admin/analytics/orders?groupBy=day&from=${today}&to=${today}`)).json(),
      (answer: { items: { orders: number }[] }) => answer.items.some((row) => row.orders === 3),
      30_000,
    );
    await page.click('#nav [data-view=analytics]');
    await page.waitForSelector('#analytics tr', { timeout: 15_000 });
    const [heading] = await tableRows(page, '#analytics-head tr');
    expect(heading!.slice(0, 3)).toEqual(['key', 'label', 'orders']);
    expect(await tableRows(page, '#analytics tr')).toEqual([
      expect.arrayContaining([today]) as unknown as string[],
    ]);
    expect((await tableRows(page, '#analytics tr'))[0]![2]).toBe('3');
    const byDay = await downloaded(page, '#analytics-csv');
    expect(byDay.name).toMatch(new RegExp(`^orders-by-day-\\d{4}-\\d{2}-\\d{2}-${today}\\.csv$`));
    const [byDayHeader, byDayRow] = byDay.text.split('\r\n');
    expect(byDayHeader).toBe(`\uFEFF${heading!.join(',')}`);
    expect(byDayRow).toMatch(new RegExp(`^${today},${today},3,`));
    await page.selectOption('#analytics-form [name=report]', 'peak-hours');
    await page.click('#analytics-form button[type=submit]');
    await page.waitForFunction(
      () =>
        (globalThis as unknown as InPage).document.querySelector('#analytics-head th')?.textContent !== 'key',
      undefined,
      { timeout: 15_000 },
    );
    const [peakHeading] = await tableRows(page, '#analytics-head tr');
    expect(peakHeading).toContain('orders');
    const peak = await downloaded(page, '#analytics-csv');
    expect(peak.name).toMatch(/^peak-hours-.*\.csv$/);
    expect(peak.text.split('\r\n')[0]).toBe(`\uFEFF${peakHeading!.join(',')}`);

    // A user suspended (their token stops working) and reinstated.
    const customer = world.actors.customer;
    await page.click('#nav [data-view=users]');
    await page.fill('#users-form [name=q]', customer.phone);
    await page.click('#users-form button[type=submit]');
    await page.fill('#suspend-reason', 'Chargeback ring under review');
    await page.click(`#users tr[data-id="${customer.userId}"] button:text("Suspend")`);
    await page.waitForSelector(`#users tr[data-id="${customer.userId}"] button:text("Reinstate")`, {
      timeout: 15_000,
    });
    expect((await api('GET', `/v1/admin/users/${customer.userId}`)).json()).toMatchObject({
      status: 'suspended',
      suspendedReason: 'Chargeback ring under review',
    });
    const revoked = await world.testApp.app.inject({
      method: 'GET',
      url: '/v1/me',
      headers: authHeader(customer.accessToken),
    });
    expect(revoked.statusCode).toBe(401);
    await page.click(`#users tr[data-id="${customer.userId}"] button:text("Reinstate")`);
    await page.waitForSelector(`#users tr[data-id="${customer.userId}"] button:text("Suspend")`, {
      timeout: 15_000,
    });
    expect((await api('GET', `/v1/admin/users/${customer.userId}`)).json().status).toBe('active');

    // Every change is audited under the admin's name.
    const audited = await world.testApp.services.db
      .selectFrom('audit_logs')
      .select(['action'])
      .where('actor_id', '=', admin.userId)
      .execute();
    const actions = audited.map((row) => row.action);
    for (const action of [
      'admin.fraud_case_decided',
      'admin.payout_hold_released',
      'payout.approved',
      'payout.rejected',
      'admin.maintenance_changed',
      'admin.flag_created',
      'admin.flag_changed',
      'admin.newsletter_created',
      'admin.newsletter_previewed',
      'admin.newsletter_scheduled',
      'admin.newsletter_cancelled',
      'admin.partnership_reviewed',
      'admin.promo_slot_created',
      'admin.promo_slot_cancelled',
      'admin.user_suspended',
      'admin.user_reactivated',
    ])
      expect(actions).toContain(action);
    expect(actions.filter((action) => action === 'admin.maintenance_changed')).toHaveLength(2);

    expect(violations).toEqual([]);
    expect(offOrigin).toEqual([]);
    await page.close();
  }, 180_000);
});

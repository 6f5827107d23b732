import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, launchChromium } from './chromium.js';
import { act, orderWorld, placeOrder, type OrderWorld } from '../integration/orders/helpers.js';

/**
 * The public tracking page in a real headless Chromium (Debian's `chromium`): a status change
 * made over HTTP appears on the open page without a reload (WebSocket), under the page's CSP.
 */

let world: OrderWorld;
let browser: Browser;
let base: string;

describe.skipIf(!chromiumAvailable)('tracking page in headless Chromium', () => {
  beforeAll(async () => {
    world = await orderWorld();
    base = await world.testApp.app.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await world?.testApp.close();
  });

  it('shows the order, then a status change appears live without a reload, with no CSP violation', async () => {
    const order = (await placeOrder(world, world.actors.customer.accessToken)).json();
    const token = (order.trackingUrl as string).split('/').pop()!;
    const page = await browser.newPage();
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
    });
    // French by ?lang (the page's language link); the script's texts come from the page.
    await page.goto(`${base}/track/${token}?lang=fr`);
    await page.waitForSelector('#status[data-status="PLACED"]', { timeout: 10_000 });
    expect(await page.textContent('#restaurant')).toBe('Chez Mama Ngono');
    expect(await page.textContent('#address')).toBe('•••, Bonapriso, Douala');
    await page.waitForFunction("document.getElementById('live')?.textContent === 'En direct'", undefined, {
      timeout: 10_000,
    });
    // A marker on the window: a reload would wipe it.
    await page.evaluate('window.marker = 42');

    await act(world, order.id, 'accept', world.actors.owner.accessToken, { preparationMinutes: 20 });
    await page.waitForSelector('#status[data-status="ACCEPTED"]', { timeout: 10_000 });
    expect(await page.textContent('#status')).toBe('Acceptée');
    expect(await page.textContent('#pin')).toMatch(/^Donnez au livreur le code de livraison à \d chiffres/);
    expect(await page.evaluate('window.marker')).toBe(42);
    expect(await page.locator('#timeline li').count()).toBe(3);
    expect(violations).toEqual([]);
    await page.close();
  }, 60_000);
});

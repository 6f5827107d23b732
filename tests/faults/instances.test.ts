/**
 * Several app instances on one PostgreSQL and Redis (docs/ledger.md, "Several instances"): the
 * instance without the ledger writer's lease forwards its ledger calls to the holder, answers
 * wallet reads in well under a second, gets wallet-paid orders paid, says the truth on
 * /health/ready, and takes the lease over when the holder is killed (kill -9); afterwards the
 * ledger verifies and every order's money is accounted for (tests/faults/invariants.ts).
 */
import { describe, expect, it } from 'vitest';
import { settledInvariants } from './invariants.js';
import { createClient, operation, type Client } from './harness/client.js';
import { invariantSource } from './harness/source.js';
import { faultWorld, WALLET_SEED_MINOR, type Customer, type FaultWorld } from './harness/world.js';
import { NEAR } from '../integration/orders/helpers.js';

function walletOrder(world: FaultWorld) {
  return {
    restaurantId: world.restaurantId,
    items: [{ itemId: world.ndoleId, quantity: 1 }],
    delivery: NEAR,
    payment: { kind: 'wallet' },
  };
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work();
  return { value, ms: performance.now() - started };
}

async function wallet(client: Client, customer: Customer) {
  const answer = await client.get('/v1/wallet', customer.accessToken);
  return answer;
}

/** Reads the order (on the client's instance) until it leaves PENDING_PAYMENT or the deadline. */
async function paidStatus(client: Client, customer: Customer, orderId: string): Promise<string> {
  const deadline = Date.now() + 15_000;
  let status = 'unknown';
  while (Date.now() < deadline) {
    const answer = await client.get(`/v1/orders/${orderId}`, customer.accessToken).catch(() => undefined);
    status = answer?.status === 200 ? String(answer.body.status) : status;
    if (status !== 'PENDING_PAYMENT' && status !== 'unknown') return status;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return status;
}

async function ready(
  baseUrl: string,
): Promise<{ status: number; body: Record<string, unknown>; ms: number }> {
  const started = performance.now();
  const answer = await fetch(`${baseUrl}/health/ready`, { signal: AbortSignal.timeout(5_000) });
  return {
    status: answer.status,
    body: (await answer.json()) as Record<string, unknown>,
    ms: performance.now() - started,
  };
}

describe('several instances: the ledger on the instance without the lease', () => {
  it(
    'forwards submissions and reads to the holder, and takes over when the holder is killed',
    { timeout: 240_000 },
    async () => {
      const world = await faultWorld({ instances: 2 });
      const source = invariantSource({
        databaseUrl: world.database.url,
        encryptionKey: world.environment.ENCRYPTION_KEY!,
        simulators: world.simulators,
        leaseMs: Number(world.environment.IDEMPOTENCY_LEASE_SECONDS) * 1000,
      });
      const [holder, standby] = world.apps as [FaultWorld['app'], FaultWorld['app']];
      const figures: Record<string, number> = {};
      try {
        // The first instance is ready only once it holds the lease (nobody else could answer it).
        await holder.start();
        await standby.start();
        const onStandby = createClient(() => standby.baseUrl);
        const onHolder = createClient(() => holder.baseUrl);
        const [alice, bob, carol] = world.customers as [Customer, Customer, Customer];

        // /health/ready on the standby: ready, because the holder answered its ping in time.
        const health = await ready(standby.baseUrl);
        expect(health.status).toBe(200);
        figures.readyOnStandbyMs = health.ms;

        // GET /v1/wallet on the standby: the balance from the holder's writer, in well under 1 s
        // (the first read of a fresh process, printed, pays for its cold paths; the next is asserted).
        figures.walletFirstReadMs = (await timed(() => wallet(onStandby, alice))).ms;
        const read = await timed(() => wallet(onStandby, alice));
        figures.walletReadMs = read.ms;
        expect(read.value.status).toBe(200);
        expect(read.value.body.availableMinor).toBe(Number(WALLET_SEED_MINOR));
        expect(read.ms).toBeLessThan(1_000);

        // A top-up through the standby is credited (the provider's answer reaches either instance).
        const topUp = await onStandby.send(
          operation('top-up', '/v1/wallet/topups', alice.accessToken, {
            amountMinor: 2_000,
            phone: alice.momoPhone,
          }),
        );
        expect(topUp.status).toBe(202);
        const deadline = Date.now() + 20_000;
        let balance = 0;
        while (Date.now() < deadline) {
          balance = Number((await wallet(onStandby, alice)).body.availableMinor);
          if (balance === Number(WALLET_SEED_MINOR) + 2_000) break;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        expect(balance).toBe(Number(WALLET_SEED_MINOR) + 2_000);

        // A wallet-paid order placed on the standby is paid at once (201 PLACED, not PENDING_PAYMENT).
        const placed = await timed(() =>
          onStandby.send(operation('wallet order', '/v1/orders', alice.accessToken, walletOrder(world))),
        );
        figures.walletOrderOnStandbyMs = placed.ms;
        expect(placed.value.status).toBe(201);
        expect(await paidStatus(onStandby, alice, String(placed.value.body.id))).toBe('PLACED');
        const after = await wallet(onStandby, alice);
        expect(Number(after.body.availableMinor)).toBeLessThan(Number(WALLET_SEED_MINOR) + 2_000);

        // Under load (orders sent round-robin to the running instances, as a load balancer does),
        // the holder dies: the standby takes the lease over. A request the holder never answered
        // is retried by the client with its key and lands on the standby.
        let turn = 0;
        const balanced = createClient(() => {
          const running = world.apps.filter((app) => app.running());
          turn += 1;
          return running[turn % running.length]!.baseUrl;
        });
        const load = [bob, carol, bob, carol, bob, carol].map(async (customer) => ({
          customer,
          outcome: await balanced.send(
            operation('wallet order', '/v1/orders', customer.accessToken, walletOrder(world)),
            60_000,
          ),
        }));
        await new Promise((resolve) => setTimeout(resolve, 30));
        await holder.kill();
        const killedAt = performance.now();
        // The first ledger answer on the standby after the kill: the failover time.
        let failedOver = -1;
        while (performance.now() - killedAt < 30_000) {
          const answer = await wallet(onStandby, bob).catch(() => undefined);
          if (answer?.status === 200) {
            failedOver = performance.now() - killedAt;
            break;
          }
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        figures.failoverMs = failedOver;
        expect(failedOver).toBeGreaterThanOrEqual(0);
        expect(failedOver).toBeLessThan(5_000);
        expect((await ready(standby.baseUrl)).status).toBe(200);
        for (const { customer, outcome } of await Promise.all(load)) {
          expect(outcome.status).toBe(201);
          expect(await paidStatus(onStandby, customer, String(outcome.body.id))).toBe('PLACED');
        }

        // The killed instance comes back as the standby: its orders are paid through the new holder.
        await holder.start();
        const back = await onHolder.send(
          operation('wallet order', '/v1/orders', carol.accessToken, walletOrder(world)),
        );
        expect(back.status).toBe(201);
        expect(await paidStatus(onHolder, carol, String(back.body.id))).toBe('PLACED');
        const backRead = await timed(() => wallet(onHolder, carol));
        expect(backRead.value.status).toBe(200);
        expect(backRead.ms).toBeLessThan(1_000);

        // The ledger verifies (replay, hash chain, read models) and every order's money is accounted for.
        expect(await settledInvariants(source, 30_000)).toEqual([]);
        console.log(`[instances] ${JSON.stringify(figures)}`);
      } catch (error) {
        console.log(world.apps.map((app) => app.output().join('\n')).join('\n---\n'));
        throw error;
      } finally {
        await source.close();
        await world.close();
      }
    },
  );
});

import { describe, expect, it } from 'vitest';
import { assembleContexts, ContextWiringError, orderContexts } from './assemble.js';
import { defineContext, need, type AnyContextDefinition, type Platform } from './context.js';

/** The contexts under test touch no infrastructure. */
const platform = {} as Platform;

function context(name: string, needs: string[] = [], later: string[] = []): AnyContextDefinition {
  return {
    name,
    needs: Object.fromEntries(needs.map((other) => [other, need<unknown>()])),
    later: Object.fromEntries(later.map((other) => [other, need<unknown>()])),
    create: () => ({ service: { name } }),
  };
}

const names = (definitions: AnyContextDefinition[]) => definitions.map((definition) => definition.name);

describe('composition root: dependency order', () => {
  it('builds each context after what it needs, keeping the list order among the free ones', () => {
    const ordered = orderContexts([
      context('orders', ['catalog', 'payments']),
      context('identity'),
      context('payments', ['identity', 'ledger'], ['orders']),
      context('catalog', ['identity'], ['orders']),
      context('ledger'),
    ]);
    expect(names(ordered)).toEqual(['identity', 'catalog', 'ledger', 'payments', 'orders']);
  });

  it('fails at start naming a need that no context provides', () => {
    expect(() => orderContexts([context('orders', ['catalog']), context('identity')])).toThrow(
      new ContextWiringError('context "orders" needs "catalog", which is not in the list of contexts'),
    );
    expect(() => orderContexts([context('catalog', [], ['orders'])])).toThrow(/"catalog" needs "orders"/);
  });

  it('fails at start naming the contexts of a circular need', () => {
    const attempt = () =>
      orderContexts([
        context('identity'),
        context('orders', ['payments']),
        context('payments', ['ledger']),
        context('ledger', ['orders']),
      ]);
    expect(attempt).toThrow(ContextWiringError);
    expect(attempt).toThrow('circular needs between contexts: orders → payments → ledger → orders');
    expect(() => orderContexts([context('orders', ['orders'])])).toThrow(
      'circular needs between contexts: orders → orders',
    );
  });

  it('a cycle through `later` is allowed: it orders nothing', () => {
    expect(
      names(orderContexts([context('payments', [], ['orders']), context('orders', ['payments'])])),
    ).toEqual(['payments', 'orders']);
  });

  it('refuses two contexts with one name and names reserved for the platform', () => {
    expect(() => orderContexts([context('orders'), context('orders')])).toThrow(
      'two contexts are named "orders"',
    );
    expect(() => orderContexts([context('runtime')])).toThrow('reserved for the platform');
    expect(() => orderContexts([context('Bad-Name')])).toThrow('not a short camelCase word');
  });
});

describe('composition root: assembly', () => {
  it('gives each context the services it needs and, once all are built, the later ones', async () => {
    const seen: string[] = [];
    const payments = defineContext({
      name: 'payments',
      needs: {},
      later: { orders: need<{ describe(): string }>() },
      create(_platform, _needs, later) {
        expect(() => later.orders()).toThrow(/still being built: declare it in needs/);
        return { service: { settle: () => `settled for ${later.orders().describe()}` } };
      },
    });
    const orders = defineContext({
      name: 'orders',
      needs: { payments: need<{ settle(): string }>() },
      create(_platform, needs) {
        seen.push(needs.payments.settle.name);
        return { service: { describe: () => 'orders', pay: () => needs.payments.settle() } };
      },
    });
    const assembly = await assembleContexts(platform, [orders, payments]);
    expect(assembly.contexts.map((item) => item.name)).toEqual(['payments', 'orders']);
    expect(seen).toEqual(['settle']);
    const built = assembly.services as { orders: { pay(): string } };
    expect(built.orders.pay()).toBe('settled for orders');
  });

  it('awaits an asynchronous create before building what needs it', async () => {
    const slow = defineContext({
      name: 'slow',
      needs: {},
      async create() {
        await new Promise((resolve) => setTimeout(resolve, 5));
        return { service: 42 };
      },
    });
    const user = defineContext({
      name: 'user',
      needs: { slow: need<number>() },
      create: (_platform, needs) => ({ service: needs.slow + 1 }),
    });
    const assembly = await assembleContexts(platform, [user, slow]);
    expect(assembly.services).toEqual({ slow: 42, user: 43 });
  });
});

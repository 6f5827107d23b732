/**
 * The inventory context (issue #27, docs/inventory.md): a restaurant's ingredients and their
 * stock, recipes that tie dishes to ingredients, receipts (lots with expiry), wastage with
 * reasons, counts, low-stock and expiry alerts (to the owner's WebSocket), reorder suggestions
 * and a weekly report. Every change of stock is a journalled movement; settings changes go to
 * identity's audit log. Orders take from it through a reactor on their events.
 *
 * It needs the catalog (who owns a restaurant, which restaurant a dish is on) and identity (the
 * audit log). Nothing needs it.
 */
import { defineContext, need, tablesOf } from '../../platform/context.js';
import type { Catalog } from '../catalog/index.js';
import type { Identity } from '../identity/index.js';
import { createOrderReactor, INVENTORY_ORDER_REACTOR } from './order-reactor.js';
import { registerInventoryRoutes } from './routes.js';
import { createInventory, type Inventory } from './service.js';
import type { InventoryTables } from './tables.js';

export type { Inventory } from './service.js';
export { INVENTORY_ORDER_REACTOR } from './order-reactor.js';

export const inventoryContext = defineContext({
  name: 'inventory',
  needs: {
    catalog: need<Pick<Catalog, 'community' | 'orders'>>(),
    identity: need<Pick<Identity, 'audit'>>(),
  },
  tables: tablesOf<InventoryTables>(),
  create({ runtime, db, eventStore, realtime }, { catalog, identity }) {
    const ownerOf = (restaurantId: string) => catalog.orders.restaurantOwnerId(restaurantId);
    const inventory: Inventory = createInventory({
      db,
      catalog: { community: catalog.community, restaurantOwnerId: ownerOf },
      audit: (entry) =>
        identity.audit({
          action: entry.action,
          actor: { kind: 'user', userId: entry.actorId, requestId: entry.requestId ?? null },
          resource: entry.resource,
          oldValue: entry.oldValue,
          newValue: entry.newValue,
        }),
      bus: realtime.bus,
      logger: runtime.logger,
    });
    const reactor = createOrderReactor({
      db,
      eventStore,
      logger: runtime.logger,
      announce: inventory.announce,
      ownerOf,
    });
    return {
      service: inventory,
      routes(app) {
        registerInventoryRoutes(app, inventory, runtime.database.db);
      },
      reactors: [{ name: INVENTORY_ORDER_REACTOR, start: () => reactor.start(), stop: () => reactor.stop() }],
      schedules: [
        // The sweep is one idempotent INSERT … ON CONFLICT DO NOTHING: harmless on every instance.
        {
          name: 'inventory-expiry-alerts',
          cron: '7 6 * * *',
          run: async () => void (await inventory.expirySweep()),
        },
      ],
    };
  },
});

/**
 * The contract's table declarations, checked by the compiler (`npm run typecheck` compiles this
 * file; vitest runs the assertions): a context's `db` is typed against the tables it declared,
 * and the composition root's checks find two contexts declaring one table.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { defineContext, tablesOf, type DeclaredTables, type TableClashes } from './context.js';

interface MenuTables {
  menus: { id: string };
}
interface BasketTables {
  baskets: { id: string; menu_id: string };
}

const menus = defineContext({
  name: 'menus',
  needs: {},
  tables: tablesOf<MenuTables>(),
  create: ({ db }) => {
    void db.selectFrom('menus').select('id');
    // @ts-expect-error another context's table is not in this context's db
    void db.selectFrom('baskets');
    return { service: {} };
  },
});
const baskets = defineContext({
  name: 'baskets',
  needs: {},
  tables: tablesOf<BasketTables>(),
  create: ({ db }) => {
    void db.selectFrom('baskets').select(['id', 'menu_id']);
    return { service: {} };
  },
});
const alsoMenus = defineContext({
  name: 'also-menus',
  needs: {},
  tables: tablesOf<MenuTables>(),
  create: () => ({ service: {} }),
});
const tableless = defineContext({ name: 'tableless', needs: {}, create: () => ({ service: {} }) });

describe('the contract: each context owns its tables', () => {
  it('declares tables as a type only (nothing at run time)', () => {
    expect([menus, baskets, alsoMenus, tableless].map((definition) => definition.tables ?? {})).toEqual([
      {},
      {},
      {},
      {},
    ]);
  });

  it('merges the declared tables of the list (a context without tables adds none)', () => {
    type Merged = DeclaredTables<readonly [typeof menus, typeof baskets, typeof tableless]>;
    expectTypeOf<keyof Merged>().toEqualTypeOf<'menus' | 'baskets'>();
  });

  it('finds no clash when each table has one owner', () => {
    expectTypeOf<TableClashes<readonly [typeof menus, typeof baskets, typeof tableless]>>().toBeNever();
  });

  it('names the table two contexts both declare', () => {
    expectTypeOf<TableClashes<readonly [typeof menus, typeof alsoMenus]>>().toEqualTypeOf<
      | 'menus and also-menus both declare the table menus'
      | 'also-menus and menus both declare the table menus'
    >();
  });
});

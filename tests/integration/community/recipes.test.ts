import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMENTS_PER_HOUR } from '../../../src/modules/community/recipes.js';
import { authHeader, createUser, type CreatedUser } from '../../helpers/auth.js';
import type { OrderWorld } from '../orders/helpers.js';
import { deliveredOrder, fundedCustomer, loyaltyWorld } from '../loyalty/helpers.js';

let world: OrderWorld;

beforeAll(async () => {
  world = await loyaltyWorld({});
}, 120_000);
afterAll(async () => world?.testApp.close());

const inject = (options: InjectOptions) => world.testApp.app.inject(options);
const db = () => world.testApp.services.db;
const headers = (token?: string, extra: Record<string, string> = {}) => ({
  ...(token === undefined ? {} : authHeader(token)),
  'accept-language': 'en',
  ...extra,
});
const call = (method: InjectOptions['method'], url: string, token?: string, payload?: unknown) =>
  inject({
    method,
    url,
    headers: headers(token),
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
const owner = () => world.actors.owner;
const recipeBody = (overrides: Record<string, unknown> = {}) => ({
  restaurantId: world.restaurantId,
  dishIds: [world.ndoleId],
  title: 'Ndolé de Mama Ngono',
  intro: 'Le ndolé comme au restaurant.\nPour le dimanche.',
  ingredients: ['1 kg de feuilles de ndolé', '500 g d’arachides', '300 g de crevettes'],
  steps: ['Laver les feuilles.', 'Cuire les arachides.', 'Mélanger et mijoter.'],
  prepMinutes: 40,
  cookMinutes: 90,
  servings: 6,
  language: 'fr',
  ...overrides,
});
async function publish(overrides: Record<string, unknown> = {}): Promise<{ id: string }> {
  const response = await call('POST', '/v1/community/recipes', owner().accessToken, recipeBody(overrides));
  expect(response.statusCode, response.body).toBe(201);
  return response.json();
}
const read = (id: string, token?: string) => call('GET', `/v1/community/recipes/${id}`, token);
const ratingRows = async (recipeId: string) =>
  db().selectFrom('shared_recipe_ratings').select('rating').where('recipe_id', '=', recipeId).execute();
let rater: CreatedUser | undefined;
/** A customer who received an order from the restaurant (once per file: delivery takes a while). */
async function eligibleCustomer(): Promise<CreatedUser> {
  const customer = await fundedCustomer(world);
  await deliveredOrder(world, customer.accessToken);
  return customer;
}

describe('recipe sharing', () => {
  it('the owner publishes, edits, unpublishes and republishes; the public reads it, its restaurant’s and dish’s lists, with ETag/304', async () => {
    const created = await publish();
    expect(created).toMatchObject({
      restaurantId: world.restaurantId,
      dishIds: [world.ndoleId],
      published: true,
      hidden: false,
      rating: { average: null, count: 0 },
      servings: 6,
      language: 'fr',
    });
    const first = await read(created.id);
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toMatchObject({
      title: 'Ndolé de Mama Ngono',
      comments: { items: [], nextCursor: null },
    });
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^W\/"/);
    const again = await inject({
      method: 'GET',
      url: `/v1/community/recipes/${created.id}`,
      headers: { 'if-none-match': etag },
    });
    expect(again.statusCode).toBe(304);

    const edited = await call('PATCH', `/v1/community/recipes/${created.id}`, owner().accessToken, {
      title: '  Ndolé du dimanche  ',
      dishIds: [world.ndoleId, world.jusId],
    });
    expect(edited.statusCode, edited.body).toBe(200);
    expect(edited.json()).toMatchObject({ title: 'Ndolé du dimanche' });
    expect(edited.json().dishIds.sort()).toEqual([world.ndoleId, world.jusId].sort());
    // The ETag moved with the content.
    expect((await read(created.id)).headers.etag).not.toBe(etag);

    const byDish = await call('GET', `/v1/community/recipes?dishId=${world.jusId}`);
    expect(byDish.statusCode, byDish.body).toBe(200);
    expect(byDish.json().items.map((item: { id: string }) => item.id)).toContain(created.id);
    const byRestaurant = (
      await call('GET', `/v1/community/recipes?restaurantId=${world.restaurantId}`)
    ).json();
    expect(byRestaurant.items.map((item: { id: string }) => item.id)).toContain(created.id);

    const unpublished = await call(
      'POST',
      `/v1/community/recipes/${created.id}/unpublish`,
      owner().accessToken,
    );
    expect(unpublished.json()).toMatchObject({ published: false });
    expect((await read(created.id)).statusCode).toBe(404);
    expect((await read(created.id)).json().code).toBe('recipe_not_found');
    // Its owner still sees it; the lists no longer hold it.
    expect((await read(created.id, owner().accessToken)).statusCode).toBe(200);
    const listed = (await call('GET', `/v1/community/recipes?dishId=${world.jusId}`)).json();
    expect(listed.items.map((item: { id: string }) => item.id)).not.toContain(created.id);
    await call('POST', `/v1/community/recipes/${created.id}/publish`, owner().accessToken);
    expect((await read(created.id)).statusCode).toBe(200);

    const audited = await db()
      .selectFrom('audit_logs')
      .select('action')
      .where('resource', '=', `shared-recipe:${created.id}`)
      .orderBy('id')
      .execute();
    expect(audited.map((row) => row.action)).toEqual([
      'community.recipe.published',
      'community.recipe.edited',
      'community.recipe.unpublished',
      'community.recipe.republished',
    ]);
  });

  it('a retried publication with the same Idempotency-Key publishes once', async () => {
    const send = () =>
      inject({
        method: 'POST',
        url: '/v1/community/recipes',
        headers: headers(owner().accessToken, { 'idempotency-key': 'recipe-publish-0001' }),
        payload: recipeBody({ title: 'Une seule fois' }),
      });
    const [one, two] = [await send(), await send()];
    expect(one.statusCode, one.body).toBe(201);
    expect(two.json().id).toBe(one.json().id);
    const rows = await db()
      .selectFrom('shared_recipes')
      .select('id')
      .where('title', '=', 'Une seule fois')
      .execute();
    expect(rows).toHaveLength(1);
  });

  it('refuses strangers, bad input and unknown ids, changing nothing', async () => {
    const recipe = await publish();
    const otherOwner = await createUser(world.testApp, { roles: ['restaurant_owner'] });
    const count = async () =>
      Number(
        (
          await db()
            .selectFrom('shared_recipes')
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const before = await count();
    const notOwner = await call('POST', '/v1/community/recipes', otherOwner.accessToken, recipeBody());
    expect(notOwner.statusCode).toBe(403);
    expect(notOwner.json().code).toBe('recipe_not_owner');
    const editStranger = await call('PATCH', `/v1/community/recipes/${recipe.id}`, otherOwner.accessToken, {
      title: 'Volé',
    });
    expect(editStranger.statusCode).toBe(403);
    const unpublishStranger = await call(
      'POST',
      `/v1/community/recipes/${recipe.id}/unpublish`,
      otherOwner.accessToken,
    );
    expect(unpublishStranger.statusCode).toBe(403);
    // A customer may not publish at all (route access), nor may an anonymous caller.
    expect(
      (await call('POST', '/v1/community/recipes', world.actors.customer.accessToken, recipeBody()))
        .statusCode,
    ).toBe(403);
    expect((await call('POST', '/v1/community/recipes', undefined, recipeBody())).statusCode).toBe(401);
    // An admin may edit any restaurant's recipe.
    const byAdmin = await call(
      'PATCH',
      `/v1/community/recipes/${recipe.id}`,
      world.actors.admin.accessToken,
      {
        servings: 4,
      },
    );
    expect(byAdmin.statusCode, byAdmin.body).toBe(200);

    const unknownDish = await call(
      'POST',
      '/v1/community/recipes',
      owner().accessToken,
      recipeBody({ dishIds: ['00000000-0000-4000-8000-000000000000'] }),
    );
    expect(unknownDish.statusCode).toBe(422);
    expect(unknownDish.json().code).toBe('recipe_dish_invalid');
    const unknownRestaurant = await call(
      'POST',
      '/v1/community/recipes',
      owner().accessToken,
      recipeBody({ restaurantId: '00000000-0000-4000-8000-000000000000' }),
    );
    expect(unknownRestaurant.statusCode).toBe(404);
    for (const bad of [
      recipeBody({ title: 'a\u0000b' }),
      recipeBody({ title: 'a\u0007b' }),
      recipeBody({ title: 'x'.repeat(10_000) }),
      recipeBody({ intro: 'y'.repeat(100_000) }),
      recipeBody({ ingredients: Array.from({ length: 500 }, () => 'sel') }),
      recipeBody({ servings: 0 }),
      recipeBody({ language: 'de' }),
      recipeBody({ title: '   ' }),
      recipeBody({ dishIds: [] }),
      recipeBody({ extra: true }),
      recipeBody({ title: null }),
    ]) {
      const response = await call('POST', '/v1/community/recipes', owner().accessToken, bad);
      expect(response.statusCode, response.body).toBe(400);
      expect(response.headers['content-type']).toContain('application/problem+json');
    }
    expect(await count()).toBe(before);
    expect((await read('00000000-0000-4000-8000-000000000000')).statusCode).toBe(404);
    expect((await read('not-a-uuid')).statusCode).toBe(400);
    const badCursor = await call('GET', `/v1/community/recipes/${recipe.id}/comments?cursor=nonsense`);
    expect(badCursor.statusCode).toBe(400);
    expect(badCursor.json().code).toBe('invalid_cursor');
  });

  it('customers comment (paged newest first, pseudonym only when public) and refusals change nothing', async () => {
    const recipe = await publish();
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    const texts: string[] = [];
    for (let index = 0; index < 5; index += 1) {
      const text = `Commentaire ${index}\navec une ligne`;
      texts.push(text);
      const posted = await call('POST', `/v1/community/recipes/${recipe.id}/comments`, customer.accessToken, {
        text,
      });
      expect(posted.statusCode, posted.body).toBe(201);
    }
    const firstPage = (await call('GET', `/v1/community/recipes/${recipe.id}/comments?limit=3`)).json();
    expect(firstPage.items.map((item: { text: string }) => item.text)).toEqual(texts.slice(2).reverse());
    expect(firstPage.items[0].author).toBeNull(); // a private profile: no name, no id
    const secondPage = (
      await call('GET', `/v1/community/recipes/${recipe.id}/comments?limit=3&cursor=${firstPage.nextCursor}`)
    ).json();
    expect(secondPage.items.map((item: { text: string }) => item.text)).toEqual(texts.slice(0, 2).reverse());
    expect(secondPage.nextCursor).toBeNull();
    expect(JSON.stringify(firstPage)).not.toContain(customer.userId);

    const keyed = () =>
      inject({
        method: 'POST',
        url: `/v1/community/recipes/${recipe.id}/comments`,
        headers: headers(customer.accessToken, { 'idempotency-key': `comment-${recipe.id}` }),
        payload: { text: 'Une fois' },
      });
    expect((await keyed()).json().id).toBe((await keyed()).json().id);

    for (const text of ['a\u0000b', 'bell\u0007', 'z'.repeat(1_001), '   ', 'x'.repeat(200_000)]) {
      const refused = await call(
        'POST',
        `/v1/community/recipes/${recipe.id}/comments`,
        customer.accessToken,
        {
          text,
        },
      );
      expect(refused.statusCode, refused.body).toBe(400);
    }
    const notCustomer = await call(
      'POST',
      `/v1/community/recipes/${recipe.id}/comments`,
      world.driver.accessToken,
      {
        text: 'Bonjour',
      },
    );
    expect(notCustomer.statusCode).toBe(403);
    const unknown = await call(
      'POST',
      '/v1/community/recipes/00000000-0000-4000-8000-000000000000/comments',
      customer.accessToken,
      { text: 'Bonjour' },
    );
    expect(unknown.statusCode).toBe(404);
    const stored = await db()
      .selectFrom('shared_recipe_comments')
      .select('body')
      .where('recipe_id', '=', recipe.id)
      .execute();
    expect(stored).toHaveLength(6);
  });

  it(`a person comments at most ${COMMENTS_PER_HOUR} times an hour (429, French text)`, async () => {
    const recipe = await publish();
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    for (let index = 0; index < COMMENTS_PER_HOUR; index += 1) {
      const posted = await call('POST', `/v1/community/recipes/${recipe.id}/comments`, customer.accessToken, {
        text: `n° ${index}`,
      });
      expect(posted.statusCode, posted.body).toBe(201);
    }
    const refused = await inject({
      method: 'POST',
      url: `/v1/community/recipes/${recipe.id}/comments`,
      headers: { ...authHeader(customer.accessToken), 'accept-language': 'fr' },
      payload: { text: 'encore' },
    });
    expect(refused.statusCode).toBe(429);
    expect(refused.json().detail).toContain('commentaires par heure');
  });

  it('ratings: only after an order received from the restaurant; one each, changeable; the average exact under concurrent ratings', async () => {
    const recipe = await publish();
    const stranger = await createUser(world.testApp, { roles: ['customer'] });
    const refused = await call('PUT', `/v1/community/recipes/${recipe.id}/rating`, stranger.accessToken, {
      rating: 5,
    });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().code).toBe('recipe_rating_not_allowed');
    for (const rating of [0, 6, 2.5, '5', null]) {
      const bad = await call('PUT', `/v1/community/recipes/${recipe.id}/rating`, stranger.accessToken, {
        rating,
      });
      expect(bad.statusCode, String(rating)).toBe(400);
    }

    const raters: CreatedUser[] = [];
    for (let index = 0; index < 4; index += 1) raters.push(await eligibleCustomer());
    rater = raters[0];
    const first = await call('PUT', `/v1/community/recipes/${recipe.id}/rating`, raters[0]!.accessToken, {
      rating: 4,
    });
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toEqual({ rating: 4, average: 4, count: 1 });
    const changed = await call('PUT', `/v1/community/recipes/${recipe.id}/rating`, raters[0]!.accessToken, {
      rating: 2,
    });
    expect(changed.json()).toEqual({ rating: 2, average: 2, count: 1 });

    // Every rater sends three different ratings at once, all raters together: 12 writes racing.
    await Promise.all(
      raters.flatMap((each) =>
        [1, 3, 5].map(async (rating) => {
          const response = await call('PUT', `/v1/community/recipes/${recipe.id}/rating`, each.accessToken, {
            rating,
          });
          expect(response.statusCode, response.body).toBe(200);
        }),
      ),
    );
    const rows = await ratingRows(recipe.id);
    expect(rows).toHaveLength(4);
    const sum = rows.reduce((total, row) => total + row.rating, 0);
    const view = (await read(recipe.id)).json();
    expect(view.rating).toEqual({ count: 4, average: Math.round((sum * 100) / 4) / 100 });
    const totals = await db()
      .selectFrom('shared_recipes')
      .select(['rating_sum', 'rating_count'])
      .where('id', '=', recipe.id)
      .executeTakeFirstOrThrow();
    expect(Number(totals.rating_sum)).toBe(sum);
    expect(totals.rating_count).toBe(4);
  }, 180_000);

  it('reports once per person; support sees the queue, hides and restores with a reason, audited; hidden items vanish from public reads', async () => {
    const recipe = await publish({ title: 'À signaler' });
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    const other = await createUser(world.testApp, { roles: ['customer'] });
    const comment = (
      await call('POST', `/v1/community/recipes/${recipe.id}/comments`, customer.accessToken, {
        text: 'Insulte',
      })
    ).json();
    const support = world.support.accessToken;

    const reported = await call('POST', '/v1/community/reports', other.accessToken, {
      kind: 'comment',
      id: comment.id,
      reason: 'Insultant',
    });
    expect(reported.statusCode, reported.body).toBe(202);
    const twice = await call('POST', '/v1/community/reports', other.accessToken, {
      kind: 'comment',
      id: comment.id,
      reason: 'Encore',
    });
    expect(twice.statusCode).toBe(409);
    expect(twice.json().code).toBe('report_duplicate');
    // A restaurant owner and a driver may report too; a recipe as well as a comment.
    expect(
      (
        await call('POST', '/v1/community/reports', world.driver.accessToken, {
          kind: 'recipe',
          id: recipe.id,
          reason: 'Recette copiée',
        })
      ).statusCode,
    ).toBe(202);
    const target = { kind: 'recipe', id: recipe.id };
    for (const bad of [
      { ...target, reason: '' },
      { ...target, reason: 'a\u0000' },
      { ...target, reason: 'r'.repeat(501) },
      { ...target, reason: '   ' },
      target,
      { kind: 'dish', id: recipe.id, reason: 'x' },
      { kind: 'recipe', id: 'nope', reason: 'x' },
    ]) {
      const refused = await call('POST', '/v1/community/reports', customer.accessToken, bad);
      expect(refused.statusCode, JSON.stringify(bad)).toBe(400);
    }
    expect(
      (
        await call('POST', '/v1/community/reports', other.accessToken, {
          kind: 'comment',
          id: '00000000-0000-4000-8000-000000000000',
          reason: 'x',
        })
      ).statusCode,
    ).toBe(404);
    expect(
      (await call('POST', '/v1/community/reports', undefined, { kind: 'recipe', id: recipe.id, reason: 'x' }))
        .statusCode,
    ).toBe(401);

    // Only staff see the queue.
    expect((await call('GET', '/v1/community/moderation/reports', customer.accessToken)).statusCode).toBe(
      403,
    );
    expect((await call('GET', '/v1/community/moderation/reports', owner().accessToken)).statusCode).toBe(403);
    const queue = async () => {
      const items: { kind: string; id: string; reports: number; reasons: string[]; hidden: boolean }[] = [];
      let cursor: string | null = null;
      do {
        const response = await call(
          'GET',
          `/v1/community/moderation/reports?limit=2${cursor === null ? '' : `&cursor=${cursor}`}`,
          support,
        );
        expect(response.statusCode, response.body).toBe(200);
        items.push(...response.json().items);
        cursor = response.json().nextCursor;
      } while (cursor !== null);
      return items;
    };
    const open = await queue();
    expect(open.find((item) => item.id === comment.id)).toMatchObject({
      kind: 'comment',
      reports: 1,
      reasons: ['Insultant'],
      hidden: false,
    });
    expect(open.find((item) => item.id === recipe.id)).toMatchObject({ kind: 'recipe', reports: 1 });

    // A customer may not moderate; a reason is required.
    expect(
      (
        await call('POST', `/v1/community/moderation/comments/${comment.id}/hide`, customer.accessToken, {
          reason: 'x',
        })
      ).statusCode,
    ).toBe(403);
    expect(
      (await call('POST', `/v1/community/moderation/comments/${comment.id}/hide`, support, {})).statusCode,
    ).toBe(400);
    const hidden = await call('POST', `/v1/community/moderation/comments/${comment.id}/hide`, support, {
      reason: 'Propos injurieux',
    });
    expect(hidden.json()).toEqual({
      kind: 'comment',
      id: comment.id,
      hidden: true,
      changed: true,
      resolvedReports: 1,
    });
    const repeat = await call('POST', `/v1/community/moderation/comments/${comment.id}/hide`, support, {
      reason: 'Propos injurieux',
    });
    expect(repeat.json()).toMatchObject({ changed: false, resolvedReports: 0 });
    const comments = (await call('GET', `/v1/community/recipes/${recipe.id}/comments`)).json();
    expect(comments.items.map((item: { id: string }) => item.id)).not.toContain(comment.id);
    expect((await queue()).some((item) => item.id === comment.id)).toBe(false);
    // A hidden comment cannot be reported again.
    expect(
      (
        await call('POST', '/v1/community/reports', customer.accessToken, {
          kind: 'comment',
          id: comment.id,
          reason: 'x',
        })
      ).statusCode,
    ).toBe(404);

    const hideRecipe = await call('POST', `/v1/community/moderation/recipes/${recipe.id}/hide`, support, {
      reason: 'Recette copiée',
    });
    expect(hideRecipe.statusCode, hideRecipe.body).toBe(200);
    expect((await read(recipe.id)).statusCode).toBe(404);
    expect((await call('GET', `/v1/community/recipes/${recipe.id}/comments`)).statusCode).toBe(404);
    const lists = [
      (await call('GET', `/v1/community/recipes?restaurantId=${world.restaurantId}&limit=50`)).json(),
      (await call('GET', `/v1/community/recipes?dishId=${world.ndoleId}&limit=50`)).json(),
    ];
    for (const list of lists)
      expect(list.items.map((item: { id: string }) => item.id)).not.toContain(recipe.id);
    // Neither comments nor ratings reach a hidden recipe.
    expect(
      (await call('POST', `/v1/community/recipes/${recipe.id}/comments`, customer.accessToken, { text: 'x' }))
        .statusCode,
    ).toBe(404);

    const restored = await call('POST', `/v1/community/moderation/recipes/${recipe.id}/restore`, support, {
      reason: 'Autorisation de l’auteur reçue',
    });
    expect(restored.json()).toMatchObject({ hidden: false, changed: true });
    expect((await read(recipe.id)).statusCode).toBe(200);

    const audit = await db()
      .selectFrom('audit_logs')
      .select(['action', 'actor_id', 'subject_user_id', 'new_value'])
      .where('resource', 'in', [`shared-recipe:${recipe.id}`, `shared-recipe-comment:${comment.id}`])
      .where('action', 'like', 'community.recipe\\_%')
      .orderBy('id')
      .execute();
    expect(audit.map((row) => row.action)).toEqual([
      'community.recipe_comment.hidden',
      'community.recipe_item.hidden',
      'community.recipe_item.restored',
    ]);
    expect(audit[0]).toMatchObject({
      actor_id: world.support.userId,
      subject_user_id: customer.userId,
      new_value: { reason: 'Propos injurieux', hidden: true, resolvedReports: 1 },
    });
  });

  it('a person’s comments, ratings and reports are in their export and go at erasure (the recipe’s totals follow)', async () => {
    const recipe = await publish();
    const person = rater ?? (await eligibleCustomer());
    await call('PUT', `/v1/community/recipes/${recipe.id}/rating`, person.accessToken, { rating: 5 });
    const comment = (
      await call('POST', `/v1/community/recipes/${recipe.id}/comments`, person.accessToken, {
        text: 'Délicieux',
      })
    ).json();
    await call('POST', '/v1/community/reports', person.accessToken, {
      kind: 'recipe',
      id: recipe.id,
      reason: 'Erreur',
    });
    const otherReporter = await createUser(world.testApp, { roles: ['customer'] });
    await call('POST', '/v1/community/reports', otherReporter.accessToken, {
      kind: 'comment',
      id: comment.id,
      reason: 'Spam',
    });

    const hook = world.testApp.services.platform.personalData.get('community')!;
    const exported = (await hook.export!(person.userId, { phone: person.phone, email: null })) as {
      recipes: Record<string, unknown[]>;
    };
    expect(exported.recipes.comments).toContainEqual(
      expect.objectContaining({ id: comment.id, text: 'Délicieux' }),
    );
    expect(exported.recipes.ratings).toContainEqual(
      expect.objectContaining({ recipeId: recipe.id, rating: 5 }),
    );
    expect(exported.recipes.reports).toContainEqual(
      expect.objectContaining({ itemId: recipe.id, reason: 'Erreur' }),
    );

    await hook.erase(person.userId, { phone: person.phone, email: null });
    expect(await world.testApp.services.community.recipes.personalData.export(person.userId)).toBeNull();
    expect((await read(recipe.id)).json().rating).toEqual({ average: null, count: 0 });
    const left = await db()
      .selectFrom('shared_recipe_reports')
      .select(['item_kind', 'reporter_id'])
      .where('recipe_id', '=', recipe.id)
      .execute();
    // The person's report stays without them; the report about their (deleted) comment is gone.
    expect(left).toEqual([{ item_kind: 'recipe', reporter_id: null }]);
  });
});

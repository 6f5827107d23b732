/**
 * Menu description drafts for owners (issue #22, docs/catalog.md "Description drafts"): from a
 * dish's name, its ingredients (given, else inventory's recipe) and its cuisine, a description in
 * French and English, written by Gemini (src/platform/gemini) or, without a key or when it fails,
 * by a template. A draft is stored (one per item, replaced by the next) and is never published
 * until the owner confirms it: confirming writes the item's description through the menu's own
 * update (audited `menu.item_updated`, the menu cache dropped), once.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { TextModel } from '../../platform/gemini/index.js';
import { catalogErrors } from './errors.js';
import type { AuditWriter, Caller } from './context.js';
import type { ItemRecord } from './model.js';
import type { CatalogRepository } from './repository.js';
import {
  DRAFT_MAX_OUTPUT_TOKENS,
  draftPrompt,
  draftSystemInstruction,
  inputHash,
  normalizedInput,
  parseDraft,
  templateDraft,
  type DraftInput,
  type DraftText,
} from './rules/description-drafts.js';
import type { CatalogDb } from './tables.js';

export interface DescriptionDraftView {
  id: string;
  itemId: string;
  description: DraftText;
  source: 'model' | 'template';
  model: string | null;
  createdAt: string;
  confirmedAt: string | null;
}

export interface DraftRequest {
  /** The dish's ingredients; without them, inventory's recipe (if any). */
  ingredients?: string[];
  /** A cuisine code; without it, the restaurant's cuisines. */
  cuisine?: string;
}

/** What the drafts need of the menu: its normal, audited update. */
export type DescriptionWriter = (
  caller: Caller,
  restaurantId: string,
  itemId: string,
  description: DraftText,
) => Promise<ItemRecord>;

type DraftRow = {
  id: string;
  item_id: string;
  description_fr: string;
  description_en: string;
  source: string;
  model: string | null;
  input_hash: string;
  created_at: Date;
  confirmed_at: Date | null;
};

const viewOf = (row: DraftRow): DescriptionDraftView => ({
  id: row.id,
  itemId: row.item_id,
  description: { fr: row.description_fr, en: row.description_en },
  source: row.source === 'model' ? 'model' : 'template',
  model: row.model,
  createdAt: row.created_at.toISOString(),
  confirmedAt: row.confirmed_at?.toISOString() ?? null,
});

export function createDescriptionDrafts(deps: {
  db: CatalogDb;
  repository: CatalogRepository;
  audit: AuditWriter;
  writeDescription: DescriptionWriter;
  /** Inventory's recipe for a dish (a `later` need: inventory is built after the catalog). */
  recipeIngredients(restaurantId: string, itemId: string): Promise<string[]>;
  model: TextModel | undefined;
  logger: Logger;
}) {
  async function ownedItem(caller: Caller, restaurantId: string, itemId: string) {
    const restaurant = await deps.repository.findRestaurant(restaurantId);
    if (restaurant === undefined)
      throw catalogErrors.of('not_found', 'restaurant_not_found', 'No such restaurant.');
    if (!caller.isAdmin && restaurant.ownerId !== caller.userId)
      throw catalogErrors.of(
        'forbidden',
        'not_restaurant_owner',
        "Only this restaurant's owner or an admin may edit its menu.",
      );
    const item = await deps.repository.findItem(restaurantId, itemId);
    if (item === undefined)
      throw catalogErrors.of('not_found', 'menu_item_not_found', 'No such item in this restaurant.');
    return { restaurant, item };
  }

  const current = (itemId: string) =>
    deps.db
      .selectFrom('catalog_description_drafts')
      .select([
        'id',
        'item_id',
        'description_fr',
        'description_en',
        'source',
        'model',
        'input_hash',
        'created_at',
        'confirmed_at',
      ])
      .where('item_id', '=', itemId)
      .executeTakeFirst();

  /** The model's draft, or undefined (then the template): never throws for the model's sake. */
  async function modelDraft(input: DraftInput, template: DraftText, itemId: string) {
    if (deps.model === undefined) return undefined;
    try {
      const raw = await deps.model.generate({
        system: draftSystemInstruction(),
        prompt: draftPrompt(input),
        maxOutputTokens: DRAFT_MAX_OUTPUT_TOKENS,
        format: 'json',
      });
      const parsed = parseDraft(raw, template);
      if (parsed === undefined) throw new Error('the model answered nothing usable');
      return { text: parsed, model: deps.model.name };
    } catch (error) {
      deps.logger.warn({ err: error, itemId }, 'menu description draft fell back to the template');
      return undefined;
    }
  }

  return {
    /** Writes a new draft for the item (replacing the previous one); publishes nothing. */
    async draft(
      caller: Caller,
      restaurantId: string,
      itemId: string,
      request: DraftRequest,
    ): Promise<DescriptionDraftView> {
      const { restaurant, item } = await ownedItem(caller, restaurantId, itemId);
      const ingredients = request.ingredients ?? (await deps.recipeIngredients(restaurantId, itemId));
      const input = normalizedInput({
        name: item.name.en === undefined ? { fr: item.name.fr } : { fr: item.name.fr, en: item.name.en },
        ingredients,
        cuisines: request.cuisine === undefined ? restaurant.cuisines : [request.cuisine],
      });
      const hash = inputHash(input);
      // The same dish drafted again: the model's unconfirmed draft is reused (no second call).
      const previous = await current(itemId);
      if (
        previous !== undefined &&
        previous.input_hash === hash &&
        previous.source === 'model' &&
        previous.confirmed_at === null &&
        deps.model !== undefined
      )
        return viewOf(previous);
      const template = templateDraft(input);
      const drafted = await modelDraft(input, template, itemId);
      const row = await deps.db
        .insertInto('catalog_description_drafts')
        .values({
          id: randomUUID(),
          item_id: itemId,
          restaurant_id: restaurantId,
          description_fr: (drafted?.text ?? template).fr,
          description_en: (drafted?.text ?? template).en,
          source: drafted === undefined ? 'template' : 'model',
          model: drafted?.model ?? null,
          input_hash: hash,
          created_by: caller.userId,
          created_at: new Date(),
          confirmed_at: null,
          confirmed_by: null,
        })
        .onConflict((conflict) =>
          conflict.column('item_id').doUpdateSet((eb) => ({
            id: eb.ref('excluded.id'),
            description_fr: eb.ref('excluded.description_fr'),
            description_en: eb.ref('excluded.description_en'),
            source: eb.ref('excluded.source'),
            model: eb.ref('excluded.model'),
            input_hash: eb.ref('excluded.input_hash'),
            created_by: eb.ref('excluded.created_by'),
            created_at: eb.ref('excluded.created_at'),
            confirmed_at: null,
            confirmed_by: null,
          })),
        )
        .returningAll()
        .executeTakeFirstOrThrow();
      await deps.audit({
        action: 'menu.description_drafted',
        actor: caller.actor,
        resource: `menu_item:${itemId}`,
        newValue: { draftId: row.id, source: row.source, model: row.model },
      });
      return viewOf(row);
    },

    /** The item's current draft (404 without one). */
    async read(caller: Caller, restaurantId: string, itemId: string): Promise<DescriptionDraftView> {
      await ownedItem(caller, restaurantId, itemId);
      const row = await current(itemId);
      if (row === undefined)
        throw catalogErrors.of(
          'not_found',
          'description_draft_not_found',
          'This item has no description draft.',
        );
      return viewOf(row);
    },

    /**
     * Publishes the draft the owner read (`draftId`) as the item's description, through the
     * menu's normal update. Once: confirming it again answers the item unchanged; a draft replaced
     * meanwhile is 409 `description_draft_changed`.
     */
    async confirm(
      caller: Caller,
      restaurantId: string,
      itemId: string,
      draftId: string,
    ): Promise<ItemRecord> {
      const { item } = await ownedItem(caller, restaurantId, itemId);
      const row = await current(itemId);
      if (row === undefined)
        throw catalogErrors.of(
          'not_found',
          'description_draft_not_found',
          'This item has no description draft.',
        );
      if (row.id !== draftId)
        throw catalogErrors.of(
          'conflict',
          'description_draft_changed',
          'A newer draft replaced this one; read it and confirm that one.',
          { details: { currentDraftId: row.id } },
        );
      if (row.confirmed_at !== null) return item;
      const description = { fr: row.description_fr, en: row.description_en };
      // A crash between these two steps leaves the draft unconfirmed: the retry writes the same text.
      const updated = await deps.writeDescription(caller, restaurantId, itemId, description);
      await deps.db
        .updateTable('catalog_description_drafts')
        .set({ confirmed_at: new Date(), confirmed_by: caller.userId })
        .where('id', '=', draftId)
        .where('confirmed_at', 'is', null)
        .execute();
      await deps.audit({
        action: 'menu.description_draft_confirmed',
        actor: caller.actor,
        resource: `menu_item:${itemId}`,
        newValue: { draftId, source: row.source },
      });
      return updated;
    },
  };
}

export type DescriptionDrafts = ReturnType<typeof createDescriptionDrafts>;

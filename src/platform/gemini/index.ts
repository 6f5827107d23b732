/**
 * Gemini for any context (docs/support.md "Gemini"): the `TextModel` port and its adapter over
 * Google's Gen AI SDK (model.ts), one daily call budget shared by every feature (budget.ts), and
 * the pure rules for what leaves (redaction) and what comes back (plain text, capped) (text.ts).
 *
 *   const gemini = createGemini({ config, db: runtime.database.db });
 *   const model = gemini.model('menu_drafts'); // undefined without GEMINI_API_KEY: use the fallback
 *
 * This folder is infrastructure: it imports no context.
 */
import type { Kysely } from 'kysely';
import type { Config } from '../../config/index.js';
import { budgetedModel, createModelBudget, type ModelBudget } from './budget.js';
import { createGeminiModel, type TextModel } from './model.js';
import type { GeminiTables } from './tables.js';

export { budgetedModel, createModelBudget, type ModelBudget } from './budget.js';
export {
  createGeminiModel,
  MAX_RESPONSE_BYTES,
  ModelError,
  type GeminiOptions,
  type TextModel,
  type TextRequest,
} from './model.js';
export { jsonObjectOf, plainText, redact } from './text.js';
export type { GeminiTables } from './tables.js';

export type GeminiConfig = Pick<
  Config,
  'GEMINI_API_KEY' | 'GEMINI_BASE_URL' | 'GEMINI_MODEL' | 'GEMINI_TIMEOUT_MS' | 'GEMINI_DAILY_CALL_BUDGET'
>;

export interface Gemini {
  /** The model for one feature, within the shared daily budget; undefined without a key. */
  model(feature: string): TextModel | undefined;
  budget: ModelBudget;
}

export function createGemini<Tables extends GeminiTables>(deps: {
  config: GeminiConfig;
  db: Kysely<Tables>;
  now?: () => Date;
}): Gemini {
  const { config } = deps;
  const budget = createModelBudget({
    db: deps.db,
    dailyCalls: config.GEMINI_DAILY_CALL_BUDGET,
    ...(deps.now === undefined ? {} : { now: deps.now }),
  });
  const key = config.GEMINI_API_KEY;
  const model =
    key === undefined || key === ''
      ? undefined
      : createGeminiModel({
          apiKey: key,
          baseUrl: config.GEMINI_BASE_URL,
          model: config.GEMINI_MODEL,
          timeoutMs: config.GEMINI_TIMEOUT_MS,
        });
  return {
    budget,
    model: (feature) => (model === undefined ? undefined : budgetedModel(model, budget, feature)),
  };
}

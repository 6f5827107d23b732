import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Spending controls by category (issue #28): a wallet may
// refuse some categories outright (a parent funding food only) and cap others per month. One call,
// `wallet_reserve_parts`, does what `wallet_reserve` did and then, for a wallet with controls,
// refuses a blocked category or counts each capped category against its month, all or nothing:
// a refusal gives back what it counted, so a refused payment has counted nothing. The wallet row
// is locked before any cap is counted, so two payments of one wallet cannot pass a cap together.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE wallets ADD COLUMN category_controls jsonb NOT NULL DEFAULT '{}'::jsonb`.execute(db);
  await sql`
    CREATE FUNCTION wallet_reserve_parts(
      p_user text, p_currency text, p_amount bigint, p_day text, p_month text,
      p_default_daily bigint, p_default_monthly bigint, p_parts jsonb
    ) RETURNS text LANGUAGE plpgsql AS $$
    DECLARE
      outcome text;
      controls jsonb;
      part record;
      cap bigint;
      counted bigint;
      refused text := NULL;
      counted_list text := '';
    BEGIN
      outcome := wallet_reserve(p_user, p_currency, p_amount, p_day, p_month, p_default_daily, p_default_monthly);
      IF outcome <> 'ok' OR p_parts IS NULL THEN RETURN outcome; END IF;
      SELECT category_controls INTO controls FROM wallets
       WHERE user_id = p_user AND currency = p_currency FOR UPDATE;
      IF controls = '{}'::jsonb THEN RETURN 'ok'; END IF;
      FOR part IN SELECT * FROM jsonb_to_recordset(p_parts) AS x(category text, amount bigint) LOOP
        IF coalesce((controls -> part.category ->> 'blocked')::boolean, false) THEN
          refused := 'blocked:' || part.category;
          EXIT;
        END IF;
      END LOOP;
      IF refused IS NULL THEN
        FOR part IN SELECT * FROM jsonb_to_recordset(p_parts) AS x(category text, amount bigint) LOOP
          cap := (controls -> part.category ->> 'monthlyLimitMinor')::bigint;
          CONTINUE WHEN cap IS NULL;
          IF part.amount > cap THEN refused := 'capped:' || part.category; EXIT; END IF;
          counted := NULL;
          INSERT INTO wallet_spending AS s (user_id, currency, period, spent_minor)
          VALUES (p_user, p_currency, 'C:' || part.category || ':' || p_month, part.amount)
          ON CONFLICT (user_id, currency, period) DO UPDATE SET spent_minor = s.spent_minor + excluded.spent_minor
            WHERE s.spent_minor + excluded.spent_minor <= cap
          RETURNING spent_minor INTO counted;
          IF counted IS NULL THEN refused := 'capped:' || part.category; EXIT; END IF;
          counted_list := counted_list || ',' || part.category;
        END LOOP;
      END IF;
      -- 'ok', or 'ok:' and the categories counted (what a later release must give back).
      IF refused IS NULL THEN
        RETURN CASE WHEN counted_list = '' THEN 'ok' ELSE 'ok:' || substr(counted_list, 2) END;
      END IF;
      -- Give back everything counted above, so a refused payment has counted nothing.
      UPDATE wallet_spending SET spent_minor = spent_minor - p_amount
       WHERE user_id = p_user AND currency = p_currency AND period IN (p_day, p_month);
      FOR part IN SELECT * FROM jsonb_to_recordset(p_parts) AS x(category text, amount bigint) LOOP
        EXIT WHEN 'capped:' || part.category = refused;
        cap := (controls -> part.category ->> 'monthlyLimitMinor')::bigint;
        CONTINUE WHEN cap IS NULL;
        UPDATE wallet_spending SET spent_minor = spent_minor - part.amount
         WHERE user_id = p_user AND currency = p_currency AND period = 'C:' || part.category || ':' || p_month;
      END LOOP;
      RETURN refused;
    END $$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP FUNCTION IF EXISTS wallet_reserve_parts(text, text, bigint, text, text, bigint, bigint, jsonb)`.execute(
    db,
  );
  await sql`ALTER TABLE wallets DROP COLUMN IF EXISTS category_controls`.execute(db);
}

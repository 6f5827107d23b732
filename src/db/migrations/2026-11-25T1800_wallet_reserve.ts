import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Paying from a wallet made eight round trips before the
// ledger transfer (the wallet row ensured and read twice, then a transaction counting the day and
// the month against the limits). One function call does the same, atomically: it creates the
// wallet with the platform's default limits if needed, refuses a frozen one, and counts the amount
// against both periods or neither.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE FUNCTION wallet_reserve(
      p_user text, p_currency text, p_amount bigint, p_day text, p_month text,
      p_default_daily bigint, p_default_monthly bigint
    ) RETURNS text LANGUAGE plpgsql AS $$
    DECLARE
      w wallets%ROWTYPE;
      counted bigint;
    BEGIN
      SELECT * INTO w FROM wallets WHERE user_id = p_user AND currency = p_currency;
      IF NOT FOUND THEN
        INSERT INTO wallets (user_id, currency, daily_limit_minor, monthly_limit_minor)
        VALUES (p_user, p_currency, p_default_daily, p_default_monthly)
        ON CONFLICT (user_id, currency) DO NOTHING;
        SELECT * INTO STRICT w FROM wallets WHERE user_id = p_user AND currency = p_currency;
      END IF;
      IF w.status = 'frozen' THEN RETURN 'frozen'; END IF;
      IF p_amount > w.daily_limit_minor OR p_amount > w.monthly_limit_minor THEN RETURN 'limit'; END IF;
      INSERT INTO wallet_spending AS s (user_id, currency, period, spent_minor)
      VALUES (p_user, p_currency, p_day, p_amount)
      ON CONFLICT (user_id, currency, period) DO UPDATE SET spent_minor = s.spent_minor + excluded.spent_minor
        WHERE s.spent_minor + excluded.spent_minor <= w.daily_limit_minor
      RETURNING spent_minor INTO counted;
      IF counted IS NULL THEN RETURN 'limit'; END IF;
      counted := NULL;
      INSERT INTO wallet_spending AS s (user_id, currency, period, spent_minor)
      VALUES (p_user, p_currency, p_month, p_amount)
      ON CONFLICT (user_id, currency, period) DO UPDATE SET spent_minor = s.spent_minor + excluded.spent_minor
        WHERE s.spent_minor + excluded.spent_minor <= w.monthly_limit_minor
      RETURNING spent_minor INTO counted;
      IF counted IS NULL THEN
        -- The month is full: give the day back, so nothing was counted.
        UPDATE wallet_spending SET spent_minor = spent_minor - p_amount
         WHERE user_id = p_user AND currency = p_currency AND period = p_day;
        RETURN 'limit';
      END IF;
      RETURN 'ok';
    END $$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP FUNCTION IF EXISTS wallet_reserve(text, text, bigint, text, text, bigint, bigint)`.execute(
    db,
  );
}

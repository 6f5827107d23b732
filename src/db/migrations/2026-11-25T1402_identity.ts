import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Identity is state-stored (docs/architecture.md, decision 6):
// users, sessions and their refresh tokens, login attempts, TOTP, one-time codes, password
// resets, token signing keys, request-signing clients and the append-only audit log.
const now = sql`now()`;

async function createUsers(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('users')
    .addColumn('id', 'uuid', (column) => column.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('phone', 'text', (column) => column.unique())
    .addColumn('email', 'text')
    .addColumn('name', 'text')
    .addColumn('password_hash', 'text')
    .addColumn('roles', sql`text[]`, (column) => column.notNull().defaultTo(sql`'{}'::text[]`))
    .addColumn('status', 'text', (column) =>
      column
        .notNull()
        .check(sql`status in ('pending_verification', 'guest', 'active', 'suspended', 'deleted')`),
    )
    .addColumn('phone_verified', 'boolean', (column) => column.notNull().defaultTo(false))
    .addColumn('email_verified', 'boolean', (column) => column.notNull().defaultTo(false))
    .addColumn('failed_attempts', 'integer', (column) => column.notNull().defaultTo(0))
    .addColumn('locked_until', 'timestamptz')
    .addColumn('last_failed_at', 'timestamptz')
    .addColumn('last_login_at', 'timestamptz')
    .addColumn('locale', 'text', (column) => column.notNull().defaultTo('fr'))
    .addColumn('notification_preferences', 'jsonb', (column) => column.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('suspended_reason', 'text')
    .addColumn('created_at', 'timestamptz', (column) => column.notNull().defaultTo(now))
    .addColumn('updated_at', 'timestamptz', (column) => column.notNull().defaultTo(now))
    .addColumn('deleted_at', 'timestamptz')
    .execute();
  await sql`CREATE UNIQUE INDEX users_email_unique ON users (lower(email)) WHERE email IS NOT NULL`.execute(
    db,
  );
  await sql`CREATE INDEX users_roles_idx ON users USING gin (roles)`.execute(db);
  await sql`CREATE INDEX users_created_idx ON users (created_at DESC, id DESC)`.execute(db);

  await db.schema
    .createTable('user_addresses')
    .addColumn('id', 'uuid', (column) => column.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (column) => column.notNull().references('users.id').onDelete('cascade'))
    .addColumn('label', 'text', (column) => column.notNull())
    .addColumn('line1', 'text', (column) => column.notNull())
    .addColumn('line2', 'text')
    .addColumn('city', 'text', (column) => column.notNull())
    .addColumn('district', 'text')
    .addColumn('landmark', 'text')
    .addColumn('latitude', 'double precision')
    .addColumn('longitude', 'double precision')
    .addColumn('instructions', 'text')
    .addColumn('is_default', 'boolean', (column) => column.notNull().defaultTo(false))
    .addColumn('created_at', 'timestamptz', (column) => column.notNull().defaultTo(now))
    .addColumn('updated_at', 'timestamptz', (column) => column.notNull().defaultTo(now))
    .execute();
  await db.schema.createIndex('user_addresses_user_idx').on('user_addresses').column('user_id').execute();
}

async function createSessions(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('sessions')
    .addColumn('id', 'uuid', (column) => column.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (column) => column.notNull().references('users.id').onDelete('cascade'))
    .addColumn('kind', 'text', (column) => column.notNull().check(sql`kind in ('user', 'guest')`))
    .addColumn('client', 'text', (column) => column.notNull().check(sql`client in ('web', 'mobile')`))
    .addColumn('ip_address', 'text')
    .addColumn('user_agent', 'text')
    .addColumn('two_factor_verified', 'boolean', (column) => column.notNull().defaultTo(false))
    .addColumn('step_up_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (column) => column.notNull().defaultTo(now))
    .addColumn('last_activity_at', 'timestamptz', (column) => column.notNull().defaultTo(now))
    .addColumn('expires_at', 'timestamptz', (column) => column.notNull())
    .addColumn('revoked_at', 'timestamptz')
    .addColumn('revoked_reason', 'text')
    .execute();
  await db.schema
    .createIndex('sessions_user_idx')
    .on('sessions')
    .columns(['user_id', 'created_at'])
    .execute();

  // One row per refresh token ever issued; the session is the token family.
  await db.schema
    .createTable('refresh_tokens')
    .addColumn('token_hash', 'text', (column) => column.primaryKey())
    .addColumn('session_id', 'uuid', (column) =>
      column.notNull().references('sessions.id').onDelete('cascade'),
    )
    .addColumn('created_at', 'timestamptz', (column) => column.notNull().defaultTo(now))
    .addColumn('expires_at', 'timestamptz', (column) => column.notNull())
    .addColumn('rotated_at', 'timestamptz')
    .execute();
  await db.schema
    .createIndex('refresh_tokens_session_idx')
    .on('refresh_tokens')
    .column('session_id')
    .execute();
}

async function createSecurityTables(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('login_attempts')
    .addColumn('id', 'bigserial', (column) => column.primaryKey())
    .addColumn('identifier_hash', 'text', (column) => column.notNull())
    .addColumn('identifier_masked', 'text', (column) => column.notNull())
    .addColumn('user_id', 'uuid', (column) => column.references('users.id').onDelete('set null'))
    .addColumn('ip_address', 'text')
    .addColumn('user_agent', 'text')
    .addColumn('success', 'boolean', (column) => column.notNull())
    .addColumn('reason', 'text', (column) => column.notNull())
    .addColumn('attempted_at', 'timestamptz', (column) => column.notNull().defaultTo(now))
    .execute();
  await db.schema
    .createIndex('login_attempts_identifier_idx')
    .on('login_attempts')
    .columns(['identifier_hash', 'attempted_at'])
    .execute();
  await db.schema.createIndex('login_attempts_user_idx').on('login_attempts').column('user_id').execute();

  await db.schema
    .createTable('two_factor_auth')
    .addColumn('user_id', 'uuid', (column) => column.primaryKey().references('users.id').onDelete('cascade'))
    .addColumn('secret_ciphertext', 'bytea', (column) => column.notNull())
    .addColumn('backup_code_hashes', sql`text[]`, (column) => column.notNull().defaultTo(sql`'{}'::text[]`))
    .addColumn('enabled_at', 'timestamptz')
    .addColumn('last_used_step', 'bigint')
    .addColumn('last_used_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (column) => column.notNull().defaultTo(now))
    .execute();

  await db.schema
    .createTable('phone_verifications')
    .addColumn('id', 'uuid', (column) => column.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('phone', 'text', (column) => column.notNull())
    .addColumn('purpose', 'text', (column) => column.notNull())
    .addColumn('code_hash', 'text', (column) => column.notNull())
    .addColumn('attempts', 'integer', (column) => column.notNull().defaultTo(0))
    .addColumn('max_attempts', 'integer', (column) => column.notNull())
    .addColumn('expires_at', 'timestamptz', (column) => column.notNull())
    .addColumn('consumed_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (column) => column.notNull().defaultTo(now))
    .execute();
  await db.schema
    .createIndex('phone_verifications_phone_idx')
    .on('phone_verifications')
    .columns(['phone', 'purpose', 'created_at'])
    .execute();

  await db.schema
    .createTable('password_resets')
    .addColumn('token_hash', 'text', (column) => column.primaryKey())
    .addColumn('user_id', 'uuid', (column) => column.notNull().references('users.id').onDelete('cascade'))
    .addColumn('expires_at', 'timestamptz', (column) => column.notNull())
    .addColumn('used_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (column) => column.notNull().defaultTo(now))
    .execute();
  await db.schema.createIndex('password_resets_user_idx').on('password_resets').column('user_id').execute();
}

async function createKeyTables(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('signing_keys')
    .addColumn('kid', 'text', (column) => column.primaryKey())
    .addColumn('alg', 'text', (column) => column.notNull())
    .addColumn('public_jwk', 'jsonb', (column) => column.notNull())
    .addColumn('private_key_ciphertext', 'bytea', (column) => column.notNull())
    .addColumn('created_at', 'timestamptz', (column) => column.notNull().defaultTo(now))
    .addColumn('retire_after', 'timestamptz', (column) => column.notNull())
    .addColumn('verify_until', 'timestamptz', (column) => column.notNull())
    .execute();

  await db.schema
    .createTable('api_signing_clients')
    .addColumn('key_id', 'text', (column) => column.primaryKey())
    .addColumn('name', 'text', (column) => column.notNull())
    .addColumn('secret_ciphertext', 'bytea', (column) => column.notNull())
    .addColumn('scopes', sql`text[]`, (column) => column.notNull().defaultTo(sql`'{}'::text[]`))
    .addColumn('created_at', 'timestamptz', (column) => column.notNull().defaultTo(now))
    .addColumn('expires_at', 'timestamptz', (column) => column.notNull())
    .addColumn('revoked_at', 'timestamptz')
    .execute();
}

async function createAuditLog(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('audit_logs')
    .addColumn('id', 'bigserial', (column) => column.primaryKey())
    .addColumn('actor_kind', 'text', (column) => column.notNull())
    .addColumn('actor_id', 'uuid')
    .addColumn('subject_user_id', 'uuid')
    .addColumn('action', 'text', (column) => column.notNull())
    .addColumn('resource', 'text')
    .addColumn('old_value', 'jsonb')
    .addColumn('new_value', 'jsonb')
    .addColumn('ip_address', 'text')
    .addColumn('user_agent', 'text')
    .addColumn('request_id', 'text')
    .addColumn('created_at', 'timestamptz', (column) => column.notNull().defaultTo(now))
    .execute();
  await db.schema
    .createIndex('audit_logs_subject_idx')
    .on('audit_logs')
    .columns(['subject_user_id', 'id'])
    .execute();
  await db.schema.createIndex('audit_logs_actor_idx').on('audit_logs').columns(['actor_id', 'id']).execute();
  await db.schema.createIndex('audit_logs_action_idx').on('audit_logs').columns(['action', 'id']).execute();
  // Append-only: the database itself refuses to change or remove a line of the audit trail.
  await sql`
    CREATE FUNCTION audit_logs_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'audit_logs is append-only';
    END $$`.execute(db);
  await sql`
    CREATE TRIGGER audit_logs_no_update_delete BEFORE UPDATE OR DELETE ON audit_logs
    FOR EACH ROW EXECUTE FUNCTION audit_logs_append_only()`.execute(db);
  await sql`
    CREATE TRIGGER audit_logs_no_truncate BEFORE TRUNCATE ON audit_logs
    FOR EACH STATEMENT EXECUTE FUNCTION audit_logs_append_only()`.execute(db);
}

export async function up(db: Kysely<any>): Promise<void> {
  await createUsers(db);
  await createSessions(db);
  await createSecurityTables(db);
  await createKeyTables(db);
  await createAuditLog(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('audit_logs').execute();
  await sql`DROP FUNCTION IF EXISTS audit_logs_append_only()`.execute(db);
  for (const table of [
    'api_signing_clients',
    'signing_keys',
    'password_resets',
    'phone_verifications',
    'two_factor_auth',
    'login_attempts',
    'refresh_tokens',
    'sessions',
    'user_addresses',
    'users',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}

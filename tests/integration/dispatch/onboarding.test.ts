import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH_TEST_ENV, authHeader, createUser, type CreatedUser } from '../../helpers/auth.js';
import { approvedDriver } from '../../helpers/drivers.js';
import { orderWorld, type OrderWorld } from '../orders/helpers.js';
import { solidPng, tinyPdf, upload } from '../files/helpers.js';

/**
 * Onboarding over HTTP on PostgreSQL: a customer uploads driver documents (files context),
 * applies, staff review the queue (background check, approve / reject / ask for more, each
 * audited), approval grants the driver role, and only an approved driver with valid documents
 * goes on shift. Bad input changes nothing.
 */
let world: OrderWorld;
let admin: CreatedUser;

beforeAll(async () => {
  world = await orderWorld(AUTH_TEST_ENV);
  admin = world.actors.admin;
}, 120_000);
afterAll(async () => {
  await world?.testApp.close();
});

const inject = (method: 'GET' | 'PUT' | 'POST', url: string, token: string | undefined, payload?: object) =>
  world.testApp.app.inject({
    method,
    url,
    headers: token === undefined ? {} : authHeader(token),
    ...(payload === undefined ? {} : { payload }),
  });

async function documentsOf(user: CreatedUser, kinds: string[]): Promise<Record<string, string>> {
  const documents: Record<string, string> = {};
  for (const kind of kinds) {
    const uploaded =
      kind === 'photo'
        ? await upload(
            world.testApp,
            user.accessToken,
            { purpose: 'driver_document', documentKind: kind },
            { body: await solidPng(64, 64) },
          )
        : await upload(
            world.testApp,
            user.accessToken,
            { purpose: 'driver_document', documentKind: kind },
            { body: tinyPdf(kind), contentType: 'application/pdf', filename: `${kind}.pdf` },
          );
    expect(uploaded.statusCode, uploaded.body).toBe(201);
    documents[kind] = uploaded.json().id as string;
  }
  return documents;
}

const inAYear = new Date(Date.now() + 365 * 86_400_000).toISOString().slice(0, 10);
const ALL_KINDS = ['identity', 'licence', 'photo', 'vehicle_registration', 'insurance'];
const applicationRow = (userId: string) =>
  world.testApp.services.db
    .selectFrom('driver_applications')
    .selectAll()
    .where('user_id', '=', userId)
    .executeTakeFirst();

describe('applying', () => {
  it('a customer applies with their documents; bad applications are refused and change nothing', async () => {
    const applicant = await createUser(world.testApp, { roles: ['customer'] });
    const stranger = await createUser(world.testApp, { roles: ['customer'] });
    const documents = await documentsOf(applicant, ALL_KINDS);
    const theirs = await documentsOf(stranger, ['identity']);
    const body = {
      vehicle: 'motorbike',
      plate: 'lt-123-ab',
      licenceExpiresOn: inAYear,
      insuranceExpiresOn: inAYear,
      documents,
    };

    const refusals: [object, number, string][] = [
      [{ ...body, documents: { ...documents, insurance: undefined } }, 400, 'application_document_missing'],
      [{ ...body, plate: undefined }, 400, 'application_field_missing'],
      [{ ...body, licenceExpiresOn: '2020-01-01' }, 422, 'application_document_expired'],
      [
        { ...body, documents: { ...documents, identity: theirs.identity } },
        422,
        'application_document_invalid',
      ],
      [
        { ...body, documents: { ...documents, identity: documents.licence } },
        422,
        'application_document_invalid',
      ],
      [{ ...body, vehicle: 'rocket' }, 400, 'validation_failed'],
      [{ ...body, plate: 'AB\u0000CD' }, 400, 'invalid_characters'],
      [{ ...body, plate: 'X'.repeat(10_000) }, 400, 'validation_failed'],
      [{ ...body, documents: null }, 400, 'validation_failed'],
    ];
    for (const [payload, status, code] of refusals) {
      const refused = await inject('PUT', '/v1/drivers/me/application', applicant.accessToken, payload);
      expect(refused.statusCode, refused.body).toBe(status);
      expect(refused.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(refused.json().code).toBe(code);
    }
    expect(await applicationRow(applicant.userId)).toBeUndefined();
    expect((await inject('GET', '/v1/drivers/me/application', applicant.accessToken)).statusCode).toBe(404);

    const applied = await inject('PUT', '/v1/drivers/me/application', applicant.accessToken, body);
    expect(applied.statusCode, applied.body).toBe(200);
    expect(applied.json()).toMatchObject({
      status: 'pending',
      vehicle: 'motorbike',
      plate: 'LT-123-AB',
      backgroundCheck: 'not_started',
    });
    // The same PUT again is the same application (one audit entry).
    expect((await inject('PUT', '/v1/drivers/me/application', applicant.accessToken, body)).json()).toEqual(
      applied.json(),
    );
    const audits = await world.testApp.services.db
      .selectFrom('audit_logs')
      .select('action')
      .where('resource', '=', `driver_application:${applicant.userId}`)
      .execute();
    expect(audits.map((row) => row.action)).toEqual(['driver_application.submitted']);
    // Someone else cannot apply with these documents; anonymous callers are refused.
    const other = await inject('PUT', '/v1/drivers/me/application', stranger.accessToken, body);
    expect(other.statusCode).toBe(422);
    expect(other.json().code).toBe('application_document_invalid');
    expect(await applicationRow(stranger.userId)).toBeUndefined();
    expect((await inject('PUT', '/v1/drivers/me/application', undefined, body)).statusCode).toBe(401);
  });
});

describe('review', () => {
  it('staff review the queue; approval needs a clear background check, grants the driver role and is audited; then the driver goes online', async () => {
    const applicant = await createUser(world.testApp, { roles: ['customer'] });
    const documents = await documentsOf(applicant, ['identity', 'licence', 'photo']);
    const applied = await inject('PUT', '/v1/drivers/me/application', applicant.accessToken, {
      vehicle: 'bicycle',
      licenceExpiresOn: inAYear,
      documents,
    });
    expect(applied.statusCode, applied.body).toBe(200);
    const base = `/v1/admin/drivers/applications/${applicant.userId}`;

    // Only administrators see the queue.
    expect((await inject('GET', '/v1/admin/drivers/applications', applicant.accessToken)).statusCode).toBe(
      403,
    );
    expect((await inject('GET', '/v1/admin/drivers/applications', world.driver.accessToken)).statusCode).toBe(
      403,
    );
    let cursor: string | null = null;
    const seen: string[] = [];
    do {
      const page = await inject(
        'GET',
        `/v1/admin/drivers/applications?status=pending&limit=1${cursor === null ? '' : `&cursor=${cursor}`}`,
        admin.accessToken,
      );
      expect(page.statusCode, page.body).toBe(200);
      seen.push(...page.json().items.map((item: { userId: string }) => item.userId));
      cursor = page.json().nextCursor;
    } while (cursor !== null);
    expect(seen).toContain(applicant.userId);
    expect(
      (await inject('GET', '/v1/admin/drivers/applications?cursor=garbage', admin.accessToken)).json().code,
    ).toBe('invalid_cursor');

    const approveEarly = await inject('POST', `${base}/review`, admin.accessToken, { decision: 'approve' });
    expect(approveEarly.statusCode).toBe(409);
    expect(approveEarly.json().code).toBe('background_check_required');
    const noReason = await inject('POST', `${base}/review`, admin.accessToken, { decision: 'reject' });
    expect(noReason.statusCode).toBe(400);
    expect(noReason.json().code).toBe('reason_required');
    expect((await applicationRow(applicant.userId))?.status).toBe('pending');

    // Ask for more, the applicant resubmits, the check is clear, approval.
    const more = await inject('POST', `${base}/review`, admin.accessToken, {
      decision: 'more_info',
      reason: 'Photo too dark',
    });
    expect(more.json()).toMatchObject({ status: 'more_info', reason: 'Photo too dark' });
    expect((await inject('GET', '/v1/drivers/me/application', applicant.accessToken)).json().reason).toBe(
      'Photo too dark',
    );
    const resubmitted = await inject('PUT', '/v1/drivers/me/application', applicant.accessToken, {
      vehicle: 'bicycle',
      licenceExpiresOn: inAYear,
      documents: { ...documents, photo: (await documentsOf(applicant, ['photo'])).photo },
    });
    expect(resubmitted.json()).toMatchObject({ status: 'pending', reason: null });
    expect(
      (await inject('PUT', `${base}/background-check`, admin.accessToken, { status: 'clear' })).json()
        .backgroundCheck,
    ).toBe('clear');
    const approved = await inject('POST', `${base}/review`, admin.accessToken, { decision: 'approve' });
    expect(approved.statusCode, approved.body).toBe(200);
    expect(approved.json().status).toBe('approved');
    // A retry is answered the same and records nothing more; another decision now is refused.
    expect(
      (await inject('POST', `${base}/review`, admin.accessToken, { decision: 'approve' })).statusCode,
    ).toBe(200);
    expect(
      (await inject('POST', `${base}/review`, admin.accessToken, { decision: 'reject', reason: 'x' })).json()
        .code,
    ).toBe('application_not_pending');
    const user = await world.testApp.services.identity.repository.findUserById(applicant.userId);
    expect(user?.roles).toContain('driver');
    const audits = await world.testApp.services.db
      .selectFrom('audit_logs')
      .select(['action', 'actor_id'])
      .where('resource', '=', `driver_application:${applicant.userId}`)
      .orderBy('created_at')
      .execute();
    expect(audits.map((row) => row.action)).toEqual([
      'driver_application.submitted',
      'driver_application.more_info',
      'driver_application.submitted',
      'driver_application.background_check',
      'driver_application.approve',
    ]);
    expect(
      audits
        .filter((row) => row.action !== 'driver_application.submitted')
        .every((row) => row.actor_id === admin.userId),
    ).toBe(true);

    // Signed in again, the token carries the driver role: the driver goes online.
    const login = await inject('POST', '/v1/auth/login', undefined, {
      phone: applicant.phone,
      password: applicant.password,
    });
    expect(login.statusCode, login.body).toBe(200);
    const online = await inject('PUT', '/v1/drivers/me/availability', login.json().accessToken, {
      online: true,
    });
    expect(online.statusCode, online.body).toBe(200);
    expect(online.json()).toMatchObject({ online: true });
  });

  it('a driver without an approved application, or with an expired licence, does not go on shift', async () => {
    const unapproved = await createUser(world.testApp, { roles: ['driver'] });
    const refused = await inject('PUT', '/v1/drivers/me/availability', unapproved.accessToken, {
      online: true,
    });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().code).toBe('driver_not_approved');
    expect((await inject('GET', '/v1/drivers/me', unapproved.accessToken)).json().online).toBe(false);

    const expired = await approvedDriver(world.testApp);
    await sql`UPDATE driver_applications SET licence_expires_on = current_date - 2 WHERE user_id = ${expired.userId}`.execute(
      world.testApp.services.db,
    );
    const late = await inject('PUT', '/v1/drivers/me/availability', expired.accessToken, { online: true });
    expect(late.statusCode).toBe(409);
    expect(late.json().code).toBe('driver_documents_expired');
    expect(await world.testApp.services.dispatch.onboarding.eligible(expired.userId)).toBe(false);
    // Going offline is always allowed.
    expect(
      (await inject('PUT', '/v1/drivers/me/availability', expired.accessToken, { online: false })).statusCode,
    ).toBe(200);
  });

  it('the daily round reminds of documents ending in 30 and 7 days once across instances, through notify, and takes expired drivers off shift', async () => {
    const { dispatch, eventStore, db } = world.testApp.services;
    const soon = await approvedDriver(world.testApp);
    const month = await approvedDriver(world.testApp);
    const lapsing = await approvedDriver(world.testApp);
    const later = await approvedDriver(world.testApp);
    const doualaToday = "(now() AT TIME ZONE 'Africa/Douala')::date";
    await sql`UPDATE driver_applications SET licence_expires_on = ${sql.raw(doualaToday)} + 7 WHERE user_id = ${soon.userId}`.execute(
      db,
    );
    await sql`UPDATE driver_applications SET insurance_expires_on = ${sql.raw(doualaToday)} + 30 WHERE user_id = ${month.userId}`.execute(
      db,
    );
    // 8 days is no threshold: no reminder.
    await sql`UPDATE driver_applications SET licence_expires_on = ${sql.raw(doualaToday)} + 8 WHERE user_id = ${later.userId}`.execute(
      db,
    );
    expect(
      (await inject('PUT', '/v1/drivers/me/availability', lapsing.accessToken, { online: true })).statusCode,
    ).toBe(200);
    await sql`UPDATE driver_applications SET insurance_expires_on = current_date - 3 WHERE user_id = ${lapsing.userId}`.execute(
      db,
    );
    // Two instances' ticks at once, then a rerun: one record and one reminder per document and threshold.
    const [first, second] = await Promise.all([dispatch.documentsRound(), dispatch.documentsRound()]);
    expect(first.documents.failed + second.documents.failed).toBe(0);
    expect(first.documents.offline + second.documents.offline).toBeGreaterThanOrEqual(1);
    await dispatch.documentsRound();
    const events = await eventStore.readStream(`driver-documents-${soon.userId}`);
    expect(events.map((event) => [event.type, event.data])).toEqual([
      [
        'DriverDocumentExpiring',
        expect.objectContaining({ driverId: soon.userId, document: 'licence', daysLeft: 7 }),
      ],
    ]);
    const intents = await db
      .selectFrom('notification_intents')
      .select(['recipient_id', 'kind'])
      .where('recipient_id', 'in', [soon.userId, month.userId, lapsing.userId, later.userId])
      .orderBy('kind')
      .execute();
    expect(intents).toEqual([
      { recipient_id: month.userId, kind: 'driver.insurance_expiring' },
      { recipient_id: soon.userId, kind: 'driver.licence_expiring' },
    ]);
    expect((await inject('GET', '/v1/drivers/me', lapsing.accessToken)).json().online).toBe(false);
  });

  it('unknown applications are 404; a non-admin cannot review', async () => {
    const missing = await inject(
      'POST',
      `/v1/admin/drivers/applications/${crypto.randomUUID()}/review`,
      admin.accessToken,
      {
        decision: 'approve',
      },
    );
    expect(missing.statusCode).toBe(404);
    expect(missing.json().code).toBe('application_not_found');
    const support = await inject(
      'POST',
      `/v1/admin/drivers/applications/${world.driver.userId}/review`,
      world.support.accessToken,
      {
        decision: 'approve',
      },
    );
    expect(support.statusCode).toBe(403);
  });
});

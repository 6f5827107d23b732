import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import * as queries from '../../../ledger/projections/queries.js';
import { ProblemSchema } from '../../http/problem.js';
import { ledgerErrors } from './errors.js';
import { transactionReportCsv } from './transaction-report.js';
import type { Ledger } from './service.js';
import {
  AccountSchema,
  accountView,
  decodeEntryCursor,
  encodeEntryCursor,
  EntrySchema,
  entryView,
  TrialBalanceSchema,
  trialBalanceView,
  VerifySchema,
  verifyView,
} from './views.js';

const finance = { access: { permissions: ['FINANCIAL_OVERSIGHT' as const] } };
const denied = { 401: ProblemSchema, 403: ProblemSchema };
const ACCOUNT_ID_PATTERN = '^[A-Za-z0-9_:-]{1,128}$';

export function registerLedgerRoutes(app: FastifyInstance, ledger: Ledger, db: queries.ReadDb): void {
  app.post(
    '/v1/admin/ledger/verify',
    {
      config: finance,
      schema: {
        tags: ['admin', 'ledger'],
        summary: 'Replay the ledger from its first event: balances, invariants, hash chain, read models',
        description:
          'Always 200 when the check ran; `ok` is false and `mismatches` names every event that differs.',
        security: [{ bearer: [] }],
        response: { 200: VerifySchema, ...denied },
      },
    },
    async () => verifyView(await ledger.verify({ source: 'admin' })),
  );

  app.get(
    '/v1/admin/ledger/trial-balance',
    {
      config: finance,
      schema: {
        tags: ['admin', 'ledger'],
        summary: 'Per-currency sums of debits and credits, posted and pending (read model)',
        security: [{ bearer: [] }],
        response: { 200: TrialBalanceSchema, ...denied },
      },
    },
    async () => {
      if (!(await queries.projectionExists(db))) return trialBalanceView([], null);
      return trialBalanceView(
        await queries.projectedTrialBalance(db),
        await queries.projectedHead(db, ledger.stream),
      );
    },
  );

  app.get(
    '/v1/admin/ledger/accounts/:accountId',
    {
      config: finance,
      schema: {
        tags: ['admin', 'ledger'],
        summary: "An account's balances (from the writer) and its statement, newest entry first",
        security: [{ bearer: [] }],
        params: Type.Object({ accountId: Type.String({ pattern: ACCOUNT_ID_PATTERN }) }),
        querystring: Type.Object({
          cursor: Type.Optional(Type.String({ maxLength: 64 })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: queries.MAX_ENTRIES_PAGE, default: 50 })),
        }),
        response: {
          200: Type.Object({
            account: AccountSchema,
            entries: Type.Array(EntrySchema),
            nextCursor: Type.Union([Type.String(), Type.Null()]),
          }),
          400: ProblemSchema,
          404: ProblemSchema,
          ...denied,
        },
      },
    },
    async (request) => {
      const { accountId } = request.params as { accountId: string };
      const { cursor, limit = 50 } = request.query as { cursor?: string; limit?: number };
      const before = cursor === undefined ? null : decodeEntryCursor(cursor);
      const account = await ledger.account(accountId);
      if (account === null) throw ledgerErrors.notFound(`No ledger account ${accountId}.`);
      const entries = (await queries.projectionExists(db))
        ? await queries.entriesPage(db, accountId, before, limit)
        : [];
      const last = entries.at(-1);
      return {
        account: accountView(account),
        entries: entries.map(entryView),
        nextCursor:
          entries.length === limit && last !== undefined && last.entryNo > 1n
            ? encodeEntryCursor(last.entryNo)
            : null,
      };
    },
  );

  app.get(
    '/v1/admin/ledger/reports/transactions.csv',
    {
      config: finance,
      schema: {
        tags: ['admin', 'ledger'],
        summary: 'Every ledger transfer booked in a period, as CSV (finance, tax authority), streamed',
        description:
          'One line per transfer, oldest first; columns in docs/ledger.md. UTF-8 with a BOM, CRLF lines.',
        security: [{ bearer: [] }],
        querystring: Type.Object(
          {
            from: Type.String({ format: 'date-time', description: 'booked from (inclusive)' }),
            to: Type.String({
              format: 'date-time',
              description: 'until (exclusive); at most 366 days after from',
            }),
            delimiter: Type.Optional(Type.Union([Type.Literal('comma'), Type.Literal('semicolon')])),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.String({ contentMediaType: 'text/csv' }),
          400: ProblemSchema,
          422: ProblemSchema,
          ...denied,
        },
      },
    },
    async (request, reply) => {
      const query = request.query as { from: string; to: string; delimiter?: 'comma' | 'semicolon' };
      const stream = transactionReportCsv(
        db,
        new Date(query.from),
        new Date(query.to),
        query.delimiter === 'semicolon' ? ';' : ',',
      );
      const name = `transactions-${query.from.slice(0, 10)}-${query.to.slice(0, 10)}.csv`.replace(
        /[^A-Za-z0-9._-]/g,
        '_',
      );
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${name}"`)
        .send(stream as unknown as string); // streamed: Fastify pipes a Readable unserialised
    },
  );
}

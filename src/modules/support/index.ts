/**
 * The support context (issue #22, docs/support.md): tickets opened by customers, restaurant
 * owners and drivers, optionally about one of their orders; messages with staff-only internal
 * notes and attachments by file id; the opener's list and the staff queue by SLA due time; the
 * workflow (open → pending → resolved → closed, reopen within SUPPORT_REOPEN_DAYS, assignment,
 * escalation), each change audited and published to the opener; and the order's dispute opened
 * through orders' own command (the refund stays orders' `resolve`).
 *
 * It needs orders' `parties` and `disputes`, files' `read` and identity's `audit` and
 * `repository` (is this person a support agent): ports declared in ports.ts.
 */
import { createComplaintCounts } from './complaints.js';
import { defineContext, need, tablesOf } from '../../platform/context.js';
import { fieldCipherOf } from '../../platform/field-crypto.js';
import type { Catalog } from '../catalog/index.js';
import type { Identity } from '../identity/index.js';
import type {
  SupportDisputesPort,
  SupportFilesPort,
  SupportNotifier,
  SupportOrderPartiesPort,
  SupportOrderRemediesPort,
} from './ports.js';
import { createSupportAssist } from './assist.js';
import { createSupportAssistant } from './assistant.js';
import { createAttachmentAccess } from './attachment-access.js';
import { createOrderAccess } from './order-access.js';
import { registerAssistantRoutes } from './assistant-routes.js';
import { supportAssistantInbound } from './assistant-chat.js';
import { AUTO_TICKET_REACTOR, createAutoTickets } from './auto-tickets.js';
import { supportChatInbound } from './chat.js';
import { createGemini } from '../../platform/gemini/index.js';
import { createSupportIntake } from './intake.js';
import { registerSmsIntakeRoutes } from './sms-routes.js';
import { registerEmailIntakeRoutes } from './email-routes.js';
import { createSupportPrometheus } from './metrics.js';
import { createCannedResponses } from './canned.js';
import { registerCannedRoutes } from './canned-routes.js';
import { registerKnowledgeBaseRoutes } from './kb-routes.js';
import { createKnowledgeBase } from './knowledge-base.js';
import { registerAgentRoutes, registerSupportRoutes } from './routes.js';
import { registerTeamRoutes } from './team-routes.js';
import { createSupportRemedies, type SupportLedgerPort, type SupportPayoutsPort } from './remedies.js';
import { registerRemedyRoutes } from './remedy-routes.js';
import { createSupportService, SUPERVISORS_TOLD_MAX, type SupportService } from './service.js';
import type { SupportTables } from './tables.js';

export type { SupportService, SupportCaller } from './service.js';
export type {
  SupportDisputesPort,
  SupportFilesPort,
  SupportNotifier,
  SupportOrderPartiesPort,
  SupportOrderRemediesPort,
} from './ports.js';
export { CATEGORIES, PRIORITIES, STATUSES as TICKET_STATUSES } from './tables.js';
export {
  createSupportRemedies,
  type SupportRemedies,
  type SupportLedgerPort,
  type SupportPayoutsPort,
} from './remedies.js';
export { remedyTransferId } from './remedy-rules.js';
export type { ComplaintCount, ComplaintCounts } from './complaints.js';

export const supportContext = defineContext({
  name: 'support',
  needs: {
    identity: need<Pick<Identity, 'audit' | 'repository'>>(),
    orders: need<{
      parties: SupportOrderPartiesPort;
      disputes: SupportDisputesPort;
      remedies: SupportOrderRemediesPort;
    }>(),
    files: need<{ read: SupportFilesPort }>(),
    // Replies to offline openers and SLA breaches by push or SMS (notify's intents and fallback).
    notify: need<SupportNotifier>(),
    // Dispute remedies: transfers on the ledger, and refunds by Mobile Money as a customer's
    // withdrawal through payments' payouts.
    ledger: need<SupportLedgerPort>(),
    payments: need<{ payouts: SupportPayoutsPort }>(),
    // A ticket's city and its support hours (issue #26): restaurants' cities and the city directory.
    catalog: need<Pick<Catalog, 'cities' | 'orders'>>(),
  },
  tables: tablesOf<SupportTables>(),
  create(
    { runtime, db, realtime, eventStore },
    { identity, orders, files, notify, ledger, payments, catalog },
  ) {
    const { config } = runtime;
    const clockOf = async (city: string | undefined) => {
      const found = city === undefined ? undefined : await catalog.cities.supportClockOf(city);
      if (found === undefined) return undefined;
      const hours =
        found.supportHours === undefined
          ? undefined
          : { timeZone: found.timeZone, window: found.supportHours };
      return { cityId: found.cityId, ...(hours === undefined ? {} : { hours }) };
    };
    const prometheus = createSupportPrometheus();
    const knowledgeBase = createKnowledgeBase({ db, audit: (entry) => identity.audit(entry) });
    const support: SupportService = createSupportService({
      db,
      cipher: fieldCipherOf(config),
      orders: orders.parties,
      disputes: orders.disputes,
      files: (reader, fileId) => files.read(reader, fileId),
      async agents(userId) {
        const user = await identity.repository.findUserById(userId);
        return (
          user !== undefined &&
          user.status === 'active' &&
          (user.roles.includes('support') || user.roles.includes('admin'))
        );
      },
      audit: (entry) => identity.audit(entry),
      async contactOf(userId) {
        const user = await identity.repository.findUserById(userId);
        return user === undefined ? undefined : { name: user.name ?? null, phone: user.phone ?? null };
      },
      bus: realtime.bus,
      suggest: knowledgeBase.suggest,
      notifier: notify,
      prometheus,
      canned: (id) => canned.usable(id),
      async admins() {
        const admins = await identity.repository.searchUsers({
          role: 'admin',
          status: 'active',
          limit: SUPERVISORS_TOLD_MAX,
        });
        return admins.map((user) => user.id);
      },
      policy: {
        slaMinutes: {
          urgent: config.SUPPORT_SLA_URGENT_MINUTES,
          high: config.SUPPORT_SLA_HIGH_MINUTES,
          normal: config.SUPPORT_SLA_NORMAL_MINUTES,
          low: config.SUPPORT_SLA_LOW_MINUTES,
        },
        firstResponseMinutes: {
          urgent: config.SUPPORT_FIRST_RESPONSE_URGENT_MINUTES,
          high: config.SUPPORT_FIRST_RESPONSE_HIGH_MINUTES,
          normal: config.SUPPORT_FIRST_RESPONSE_NORMAL_MINUTES,
          low: config.SUPPORT_FIRST_RESPONSE_LOW_MINUTES,
        },
        highValueOrderXaf: config.SUPPORT_HIGH_VALUE_ORDER_XAF,
        reopenDays: config.SUPPORT_REOPEN_DAYS,
      },
      // The order's restaurant's city, else the city of the opener's default (or first) address.
      async ticketCity({ openerId, restaurantId }) {
        if (restaurantId !== undefined) return clockOf(await catalog.orders.restaurantCity(restaurantId));
        const addresses = await identity.repository.listAddresses(openerId, 20);
        const address = addresses.find((a) => a.is_default) ?? addresses[0];
        return clockOf(address?.city);
      },
      cityHours: async (cityId) => (await clockOf(cityId))?.hours,
      cityKnown: async (cityId) => (await clockOf(cityId))?.cityId === cityId,
      logger: runtime.logger,
    });
    const remedies = createSupportRemedies({
      db,
      cipher: fieldCipherOf(config),
      ledger,
      payouts: payments.payouts,
      orders: orders.parties,
      orderRemedies: orders.remedies,
      staffTicket: (caller, ticketId) => support.staffTicket(caller, ticketId),
      isSupervisor: (caller) => support.isSupervisor(caller),
      audit: (entry) => identity.audit(entry),
      publish: (ticketId, data) => support.tell(ticketId, 'support.remedy_decided', data),
      limits: {
        agentMaxMinor: config.SUPPORT_REMEDY_AGENT_MAX_XAF,
        supervisorMaxMinor: config.SUPPORT_REMEDY_SUPERVISOR_MAX_XAF,
      },
      logger: runtime.logger,
    });
    const canned = createCannedResponses({
      db,
      audit: (entry) => identity.audit(entry),
      isSupervisor: async (userId, admin) => admin || (await support.agents.isSupervisor(userId)),
    });
    // One Gemini model for agents' drafts and the first-line assistant, within the daily budget
    // every Gemini feature shares (src/platform/gemini/budget.ts), counted as `support`.
    const gemini = createGemini({ config, db: runtime.database.db });
    const model = gemini.model('support');
    const modelBudget = gemini.budget;
    const nameOf = async (userId: string) => (await identity.repository.findUserById(userId))?.name ?? null;
    const assist = createSupportAssist({ support, knowledgeBase, model, nameOf, logger: runtime.logger });
    const assistant = createSupportAssistant({
      support,
      knowledgeBase,
      orders: orders.parties,
      model,
      minConfidence: config.SUPPORT_ASSISTANT_MIN_CONFIDENCE_PERCENT / 100,
      nameOf,
      logger: runtime.logger,
    });
    const intake = createSupportIntake({
      support,
      async phones(phone) {
        const user = await identity.repository.findUserByPhone(phone);
        return user === undefined ? undefined : { userId: user.id, roles: user.roles, status: user.status };
      },
      async emails(address) {
        // The exact address (identity's blind index); names are searched too, so the match is checked.
        const found = await identity.repository.searchUsers({ text: address, limit: 5 });
        const user = found.find((candidate) => candidate.email?.toLowerCase() === address);
        return user === undefined ? undefined : { userId: user.id, roles: user.roles, status: user.status };
      },
    });
    const autoTickets = createAutoTickets({
      support,
      orders: orders.parties,
      db,
      eventStore,
      logger: runtime.logger,
    });
    return {
      service: Object.assign(support, {
        autoTickets,
        remedies,
        // Dispatch's driver performance counts the complaints about a driver's deliveries.
        complaints: createComplaintCounts(db),
        assistant,
        modelBudget,
        // Files asks who may read a support attachment (its `later` need).
        attachments: createAttachmentAccess({
          db,
          isSupervisor: (userId) => support.agents.isSupervisor(userId),
        }),
        // Orders and files ask which orders a support agent may see (their `later` needs).
        orderAccess: createOrderAccess({
          db,
          isSupervisor: (userId) => support.agents.isSupervisor(userId),
        }),
      }),
      routes(app) {
        for (const metric of prometheus.all) app.metricsRegistry.registerMetric(metric);
        registerSupportRoutes(app, { support, runtime, assist });
        registerAssistantRoutes(app, { assistant, runtime });
        registerAgentRoutes(app, support);
        registerTeamRoutes(app, support);
        registerRemedyRoutes(app, { remedies, runtime });
        registerKnowledgeBaseRoutes(app, { knowledgeBase, runtime });
        registerCannedRoutes(app, { canned, runtime });
        // Inbound SMS: only with the token that checks Twilio's signature.
        if (config.TWILIO_AUTH_TOKEN !== undefined)
          registerSmsIntakeRoutes(app, intake, {
            twilioAuthToken: config.TWILIO_AUTH_TOKEN,
            publicBaseUrl: config.PUBLIC_BASE_URL,
          });
        // Inbound e-mail: only with the key that checks Mailgun's signature.
        if (config.MAILGUN_WEBHOOK_SIGNING_KEY !== undefined)
          registerEmailIntakeRoutes(app, intake, { signingKey: config.MAILGUN_WEBHOOK_SIGNING_KEY });
      },
      inbound: [...supportChatInbound(support), ...supportAssistantInbound(assistant)],
      // Tickets from disputes and failed deliveries: one per order event (ids derived from it).
      reactors: [{ name: AUTO_TICKET_REACTOR, start: autoTickets.start, stop: autoTickets.stop }],
      // Idempotent: each alert is claimed on its row, so every instance may run the sweep.
      schedules: [
        { name: 'support-sla-sweep', cron: '* * * * *', run: async () => void (await support.sweepSla()) },
        // Remedies left half done by a client that never retried: claimed per row, idempotent.
        { name: 'support-remedy-sweep', cron: '*/5 * * * *', run: async () => void (await remedies.sweep()) },
      ],
      // Erasure also drops the notes of remedies granted to the person (the amounts are the books).
      personalData: {
        export: support.personalData.export,
        async erase(userId: string) {
          return {
            ...(await support.personalData.erase(userId)),
            remedyNotesErased: await remedies.erase(userId),
          };
        },
      },
    };
  },
});

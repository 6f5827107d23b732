/**
 * Drivers' earnings (issue #20): `GET /v1/drivers/me/earnings` sums the credits the ledger booked
 * to the driver's payable (driver fee, tip, incentives), per delivery and per day, week or month,
 * from the ledger's statement read model, never recomputed from orders. Administrators set
 * incentive rules (fuel per km, peak hours, bonus challenges) and settle a period: each payment is
 * a ledger transfer from the platform's delivery expense with its reason, and its id makes a
 * second settlement of the same period book nothing new.
 */
import { randomUUID } from 'node:crypto';
import type { Transfer } from '../../../ledger/rules/index.js';
import { dispatchErrors } from './errors.js';
import {
  incentiveTransfers,
  summarize,
  type BookedDelivery,
  type EarningsPeriod,
  type IncentiveKind,
  type IncentiveRule,
} from './earnings-rules.js';
import type { EarningsRepository, IncentiveRuleRow } from './earnings-repository.js';
import { distanceMeters } from './geo.js';
import type { OnboardingActor, OnboardingIdentity } from './onboarding.js';

/** The longest period one read or one settlement covers. */
export const EARNINGS_MAX_RANGE_DAYS = 92;
export const RULES_PAGE_MAX = 100;
/** Transfers submitted to the ledger at once by a settlement. */
const SUBMIT_CHUNK = 500;

export interface IncentiveLedger {
  submit(transfers: readonly Transfer[]): Promise<{ result: string; detail?: string }[]>;
}

export interface RuleInput {
  kind: IncentiveKind;
  name: string;
  amountMinor: number;
  weekdays?: number[] | undefined;
  startHour?: number | undefined;
  endHour?: number | undefined;
  target?: number | undefined;
  from?: string | undefined;
  to?: string | undefined;
}

function checkRange(from: Date, to: Date): void {
  if (!(from.getTime() < to.getTime()))
    throw dispatchErrors.of('unprocessable', 'invalid_period', '`from` must be before `to`.');
  if (to.getTime() - from.getTime() > EARNINGS_MAX_RANGE_DAYS * 86_400_000)
    throw dispatchErrors.of(
      'unprocessable',
      'invalid_period',
      `A period covers at most ${EARNINGS_MAX_RANGE_DAYS} days.`,
    );
}

function ruleOf(row: IncentiveRuleRow): IncentiveRule {
  const params = row.params;
  const amountMinor = BigInt(row.amount_minor);
  if (row.kind === 'peak_hour')
    return {
      id: row.id,
      kind: 'peak_hour',
      name: row.name,
      amountMinor,
      weekdays: params.weekdays as number[],
      startHour: params.startHour as number,
      endHour: params.endHour as number,
    };
  if (row.kind === 'bonus_challenge')
    return {
      id: row.id,
      kind: 'bonus_challenge',
      name: row.name,
      amountMinor,
      target: params.target as number,
      fromMs: Date.parse(params.from as string),
      toMs: Date.parse(params.to as string),
    };
  return { id: row.id, kind: 'fuel_per_km', name: row.name, amountMinor };
}

export function ruleView(row: IncentiveRuleRow) {
  return {
    id: row.id,
    kind: row.kind,
    name: row.name,
    amountMinor: Number(row.amount_minor),
    params: row.params,
    active: row.active,
    createdAt: row.created_at.toISOString(),
  };
}

function paramsOf(input: RuleInput): Record<string, unknown> {
  const invalid = (message: string) => dispatchErrors.of('validation', 'incentive_rule_invalid', message);
  if (input.kind === 'peak_hour') {
    const { weekdays, startHour, endHour } = input;
    if (weekdays === undefined || weekdays.length === 0 || startHour === undefined || endHour === undefined)
      throw invalid('A peak-hour rule needs weekdays, startHour and endHour.');
    if (startHour >= endHour) throw invalid('startHour must be before endHour.');
    return { weekdays: [...new Set(weekdays)].sort(), startHour, endHour };
  }
  if (input.kind === 'bonus_challenge') {
    const { target, from, to } = input;
    if (target === undefined || from === undefined || to === undefined)
      throw invalid('A challenge needs a target number of deliveries, from and to.');
    if (!(Date.parse(from) < Date.parse(to))) throw invalid('A challenge’s `from` must be before its `to`.');
    if (Date.parse(to) - Date.parse(from) > EARNINGS_MAX_RANGE_DAYS * 86_400_000)
      throw invalid(`A challenge lasts at most ${EARNINGS_MAX_RANGE_DAYS} days.`);
    return { target, from: new Date(from).toISOString(), to: new Date(to).toISOString() };
  }
  return {};
}

export function createEarnings(deps: {
  repository: EarningsRepository;
  ledger: () => IncentiveLedger;
  identity: OnboardingIdentity;
}) {
  const { repository } = deps;

  async function deliveriesWithDistance(from: Date, to: Date): Promise<BookedDelivery[]> {
    const booked = await repository.bookedDeliveries(from, to);
    const points = await repository.trails(booked.map((delivery) => delivery.orderId));
    const distance = new Map<string, number>();
    let previous: (typeof points)[number] | undefined;
    for (const point of points) {
      if (previous !== undefined && previous.order_id === point.order_id)
        distance.set(point.order_id, (distance.get(point.order_id) ?? 0) + distanceMeters(previous, point));
      previous = point;
    }
    return booked.map((delivery) => ({ ...delivery, distanceMeters: distance.get(delivery.orderId) ?? 0 }));
  }

  return {
    /** The driver's earnings in [from, to): totals, buckets per period and each delivery's lines. */
    async earnings(driverId: string, period: EarningsPeriod, from: Date, to: Date) {
      checkRange(from, to);
      const entries = await repository.credits(driverId, from, to);
      const summary = summarize(entries, period);
      const byOrder = new Map<
        string,
        { orderId: string; feeMinor: bigint; tipMinor: bigint; incentivesMinor: bigint; bookedAt: string }
      >();
      const others: {
        reason: string | null;
        incentive: string | null;
        amountMinor: bigint;
        bookedAt: string;
      }[] = [];
      for (const entry of entries) {
        if (entry.orderId === null) {
          others.push({
            reason: entry.reason,
            incentive: entry.incentive,
            amountMinor: entry.amountMinor,
            bookedAt: new Date(entry.atMs).toISOString(),
          });
          continue;
        }
        let line = byOrder.get(entry.orderId);
        if (line === undefined) {
          line = {
            orderId: entry.orderId,
            feeMinor: 0n,
            tipMinor: 0n,
            incentivesMinor: 0n,
            bookedAt: new Date(entry.atMs).toISOString(),
          };
          byOrder.set(entry.orderId, line);
        }
        if (entry.code === 'driver_fee' || entry.code === 'driver_fee_reversal')
          line.feeMinor += entry.amountMinor;
        else if (entry.code === 'tip') line.tipMinor += entry.amountMinor;
        else line.incentivesMinor += entry.amountMinor;
      }
      return {
        driverId,
        period,
        from: from.toISOString(),
        to: to.toISOString(),
        ...summary,
        deliveries: [...byOrder.values()],
        otherIncentives: others,
      };
    },

    async createRule(input: RuleInput, actor: OnboardingActor, id: string = randomUUID()) {
      const params = paramsOf(input);
      await repository.insertRule({
        id,
        kind: input.kind,
        name: input.name,
        amountMinor: BigInt(input.amountMinor),
        params,
        createdBy: actor.userId!,
      });
      const row = (await repository.rule(id))!;
      await deps.identity.audit({
        action: 'driver_incentive_rule.created',
        actor,
        resource: `driver_incentive_rule:${id}`,
        newValue: ruleView(row),
      });
      return ruleView(row);
    },

    async rule(id: string) {
      const row = await repository.rule(id);
      if (row === undefined)
        throw dispatchErrors.of('not_found', 'incentive_rule_not_found', 'There is no such incentive rule.');
      return ruleView(row);
    },

    async rules(activeOnly: boolean, limit: number) {
      const rows = await repository.rules(activeOnly, Math.max(1, Math.min(limit, RULES_PAGE_MAX)));
      return { items: rows.map(ruleView) };
    },

    async deactivateRule(id: string, actor: OnboardingActor) {
      const row = await repository.rule(id);
      if (row === undefined)
        throw dispatchErrors.of('not_found', 'incentive_rule_not_found', 'There is no such incentive rule.');
      if (await repository.deactivate(id))
        await deps.identity.audit({
          action: 'driver_incentive_rule.deactivated',
          actor,
          resource: `driver_incentive_rule:${id}`,
          oldValue: { active: true },
          newValue: { active: false },
        });
      return ruleView((await repository.rule(id))!);
    },

    /**
     * Books the incentives of [from, to) under the active rules: fuel and peak hours per delivery
     * the ledger booked a fee for, challenges whose window the period covers. Safe to run again:
     * a transfer already booked answers `exists` and moves nothing.
     */
    async settle(from: Date, to: Date, actor: OnboardingActor) {
      checkRange(from, to);
      const rules = (await repository.rules(true, RULES_PAGE_MAX))
        .map(ruleOf)
        .filter(
          (rule) =>
            rule.kind !== 'bonus_challenge' || (rule.fromMs >= from.getTime() && rule.toMs <= to.getTime()),
        );
      const transfers = incentiveTransfers(await deliveriesWithDistance(from, to), rules);
      const outcomes = { booked: 0, alreadyBooked: 0, refused: 0, bookedMinor: 0n };
      for (let start = 0; start < transfers.length; start += SUBMIT_CHUNK) {
        const chunk = transfers.slice(start, start + SUBMIT_CHUNK);
        const results = await deps.ledger().submit(chunk);
        results.forEach((outcome, index) => {
          if (outcome.result === 'ok') {
            outcomes.booked += 1;
            outcomes.bookedMinor += chunk[index]!.amountMinor;
          } else if (outcome.result === 'exists') outcomes.alreadyBooked += 1;
          else outcomes.refused += 1;
        });
      }
      await deps.identity.audit({
        action: 'driver_incentives.settled',
        actor,
        resource: `driver_incentives:${from.toISOString()}/${to.toISOString()}`,
        newValue: {
          ...outcomes,
          bookedMinor: Number(outcomes.bookedMinor),
          rules: rules.map((rule) => rule.id),
        },
      });
      return { from: from.toISOString(), to: to.toISOString(), transfers: transfers.length, ...outcomes };
    },
  };
}

export type Earnings = ReturnType<typeof createEarnings>;

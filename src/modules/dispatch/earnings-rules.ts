/**
 * The pure rules of drivers' incentives (docs/dispatch.md, "Earnings"): from the deliveries the
 * ledger booked a driver fee for, and the rules administrators set, the ledger transfers that pay
 * fuel per km, peak-hour incentives and bonus challenges. Each transfer moves money from the
 * platform's delivery expense to the driver's payable, with code `driver_incentive`, its reason in
 * `userData`, and an id derived from the rule and the delivery (or driver), so booking twice lands
 * once. No I/O.
 */
import { deliveryExpenseId, driverPayableId, type Transfer } from '../../../ledger/rules/index.js';
import { doualaDay } from './onboarding-rules.js';

export const INCENTIVE_KINDS = ['fuel_per_km', 'peak_hour', 'bonus_challenge'] as const;
export type IncentiveKind = (typeof INCENTIVE_KINDS)[number];

/** One delivery as the ledger booked it: the driver fee's transfer names the order. */
export interface BookedDelivery {
  orderId: string;
  driverId: string;
  /** When the fee was booked (the escrow's release at delivery), epoch ms. */
  bookedAtMs: number;
  /** The distance carried, from the order's trail (0 when there is no trail). */
  distanceMeters: number;
}

export type IncentiveRule =
  | { id: string; kind: 'fuel_per_km'; name: string; amountMinor: bigint }
  | {
      id: string;
      kind: 'peak_hour';
      name: string;
      amountMinor: bigint;
      /** Douala weekdays, 0 = Sunday. */
      weekdays: readonly number[];
      startHour: number;
      endHour: number;
    }
  | {
      id: string;
      kind: 'bonus_challenge';
      name: string;
      amountMinor: bigint;
      target: number;
      fromMs: number;
      toMs: number;
    };

const DOUALA_OFFSET_MS = 3_600_000;

/** The Douala weekday (0 = Sunday) and hour of an instant (UTC+1, no daylight saving). */
export function doualaWeekdayHour(atMs: number): { weekday: number; hour: number } {
  const local = new Date(atMs + DOUALA_OFFSET_MS);
  return { weekday: local.getUTCDay(), hour: local.getUTCHours() };
}

/** In the peak window: its weekdays, from startHour up to (not including) endHour. */
export function inPeak(
  rule: { weekdays: readonly number[]; startHour: number; endHour: number },
  atMs: number,
) {
  const { weekday, hour } = doualaWeekdayHour(atMs);
  return rule.weekdays.includes(weekday) && hour >= rule.startHour && hour < rule.endHour;
}

/** XAF for a distance at a rate per km, rounded half up to the franc. */
export function fuelMinor(distanceMeters: number, perKmMinor: bigint): bigint {
  const metres = BigInt(Math.max(0, Math.round(distanceMeters)));
  return (metres * perKmMinor + 500n) / 1000n;
}

function incentive(
  id: string,
  driverId: string,
  amountMinor: bigint,
  reason: { kind: IncentiveKind; ruleId: string; orderId?: string; detail: string },
): Transfer {
  return {
    id,
    debitAccountId: deliveryExpenseId('XAF'),
    creditAccountId: driverPayableId(driverId, 'XAF'),
    amountMinor,
    currency: 'XAF',
    code: 'driver_incentive',
    flags: {},
    userData: {
      driverId,
      incentive: reason.kind,
      ruleId: reason.ruleId,
      reason: reason.detail.slice(0, 128),
      ...(reason.orderId === undefined ? {} : { orderId: reason.orderId }),
    },
  };
}

/** The transfer id of an incentive: one per rule and delivery (or rule and driver). */
export const incentiveTransferId = (kind: IncentiveKind, ruleId: string, subject: string) =>
  `drv:${kind}:${ruleId}:${subject}`;

/**
 * The transfers a settlement books for these deliveries under these rules. Deterministic: the
 * same deliveries and rules give the same transfers (same ids), whatever their order. A challenge
 * counts the given deliveries inside its window, so it is settled by a run that covers the window.
 */
export function incentiveTransfers(
  deliveries: readonly BookedDelivery[],
  rules: readonly IncentiveRule[],
): Transfer[] {
  const transfers: Transfer[] = [];
  const sorted = [...deliveries].sort((a, b) => (a.orderId < b.orderId ? -1 : a.orderId > b.orderId ? 1 : 0));
  for (const rule of rules) {
    if (rule.kind === 'fuel_per_km') {
      for (const delivery of sorted) {
        const amount = fuelMinor(delivery.distanceMeters, rule.amountMinor);
        if (amount > 0n)
          transfers.push(
            incentive(incentiveTransferId(rule.kind, rule.id, delivery.orderId), delivery.driverId, amount, {
              kind: rule.kind,
              ruleId: rule.id,
              orderId: delivery.orderId,
              detail: `fuel: ${Math.round(delivery.distanceMeters)} m at ${rule.amountMinor} XAF/km`,
            }),
          );
      }
    } else if (rule.kind === 'peak_hour') {
      for (const delivery of sorted)
        if (inPeak(rule, delivery.bookedAtMs))
          transfers.push(
            incentive(
              incentiveTransferId(rule.kind, rule.id, delivery.orderId),
              delivery.driverId,
              rule.amountMinor,
              {
                kind: rule.kind,
                ruleId: rule.id,
                orderId: delivery.orderId,
                detail: `peak hour: ${rule.name} (${doualaDay(delivery.bookedAtMs)})`,
              },
            ),
          );
    } else {
      const counts = new Map<string, number>();
      for (const delivery of sorted)
        if (delivery.bookedAtMs >= rule.fromMs && delivery.bookedAtMs < rule.toMs)
          counts.set(delivery.driverId, (counts.get(delivery.driverId) ?? 0) + 1);
      for (const [driverId, count] of [...counts].sort(([a], [b]) => (a < b ? -1 : 1)))
        if (count >= rule.target)
          transfers.push(
            incentive(incentiveTransferId(rule.kind, rule.id, driverId), driverId, rule.amountMinor, {
              kind: rule.kind,
              ruleId: rule.id,
              detail: `challenge: ${rule.name} (${count}/${rule.target} deliveries)`,
            }),
          );
    }
  }
  return transfers;
}

export type EarningsPeriod = 'day' | 'week' | 'month';

/** The start (YYYY-MM-DD, Douala) of the day, ISO week (Monday) or month an instant falls in. */
export function periodStart(atMs: number, period: EarningsPeriod): string {
  const day = doualaDay(atMs);
  if (period === 'day') return day;
  if (period === 'month') return `${day.slice(0, 7)}-01`;
  const date = new Date(`${day}T00:00:00Z`);
  const sinceMonday = (date.getUTCDay() + 6) % 7;
  return new Date(date.getTime() - sinceMonday * 86_400_000).toISOString().slice(0, 10);
}

/** One credit to a driver's payable, as the ledger's statement has it. */
export interface EarningEntry {
  transferId: string;
  code: string;
  amountMinor: bigint;
  atMs: number;
  orderId: string | null;
  incentive: string | null;
  reason: string | null;
}

export interface EarningsSummary {
  totals: { feesMinor: bigint; tipsMinor: bigint; incentivesMinor: bigint; totalMinor: bigint };
  buckets: {
    periodStart: string;
    deliveries: number;
    feesMinor: bigint;
    tipsMinor: bigint;
    incentivesMinor: bigint;
    totalMinor: bigint;
  }[];
}

/** Sums statement credits by period: every franc of the entries is in exactly one bucket. */
export function summarize(entries: readonly EarningEntry[], period: EarningsPeriod): EarningsSummary {
  const buckets = new Map<string, EarningsSummary['buckets'][number]>();
  const deliveriesOf = new Map<string, Set<string>>();
  for (const entry of entries) {
    const start = periodStart(entry.atMs, period);
    let bucket = buckets.get(start);
    if (bucket === undefined) {
      bucket = {
        periodStart: start,
        deliveries: 0,
        feesMinor: 0n,
        tipsMinor: 0n,
        incentivesMinor: 0n,
        totalMinor: 0n,
      };
      buckets.set(start, bucket);
      deliveriesOf.set(start, new Set());
    }
    if (entry.code === 'driver_fee') {
      bucket.feesMinor += entry.amountMinor;
      if (entry.orderId !== null) deliveriesOf.get(start)!.add(entry.orderId);
    } else if (entry.code === 'driver_fee_reversal') bucket.feesMinor += entry.amountMinor;
    else if (entry.code === 'tip') bucket.tipsMinor += entry.amountMinor;
    else bucket.incentivesMinor += entry.amountMinor;
    bucket.totalMinor += entry.amountMinor;
  }
  const list = [...buckets.values()].sort((a, b) => (a.periodStart < b.periodStart ? -1 : 1));
  for (const bucket of list) bucket.deliveries = deliveriesOf.get(bucket.periodStart)!.size;
  const totals = { feesMinor: 0n, tipsMinor: 0n, incentivesMinor: 0n, totalMinor: 0n };
  for (const bucket of list) {
    totals.feesMinor += bucket.feesMinor;
    totals.tipsMinor += bucket.tipsMinor;
    totals.incentivesMinor += bucket.incentivesMinor;
    totals.totalMinor += bucket.totalMinor;
  }
  return { totals, buckets: list };
}

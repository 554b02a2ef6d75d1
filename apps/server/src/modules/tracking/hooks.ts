import type pg from 'pg';
import type { Services } from '../../http/context.js';

/*
 * Tracking records conversions; other modules (rewards) react to them inside the same
 * transaction through these hooks, so tracking never imports rewards and a conversion and its
 * commission commit together. Hooks are registered once at start-up (see app.ts).
 */

export interface AttributedTo {
  programId: string;
  partnerId: string;
  enrollmentId: string;
  /** How the attribution was made. */
  via: 'click' | 'coupon';
  clickId: string | null;
  /**
   * The enrollment's status when the conversion arrived. Tracking attributes conversions to
   * partners whatever their status (analytics); only `approved` enrollments may earn, which the
   * reward hooks check.
   */
  enrollmentStatus?: string;
}

export interface LeadRecorded {
  workspaceId: string;
  leadId: string;
  customerId: string;
  eventName: string;
  occurredAt: Date;
  attribution: AttributedTo | null;
  customerCountry: string | null;
  /** The email the conversion carried, if any (fraud checks read its domain; never stored plain). */
  customerEmail?: string | null;
  /** The commission an earlier hook created for this conversion, if any. */
  commission?: CommissionSummary | undefined;
}

export interface SaleRecorded {
  workspaceId: string;
  saleId: string;
  customerId: string;
  invoiceId: string;
  amount: number;
  currency: string;
  productId: string | null;
  occurredAt: Date;
  attribution: AttributedTo | null;
  customerCountry: string | null;
  /** The email the conversion carried, if any (fraud checks read its domain; never stored plain). */
  customerEmail?: string | null;
  /** The commission an earlier hook created for this conversion, if any. */
  commission?: CommissionSummary | undefined;
  /** Reads later hooks offered to earlier ones (see {@link ReadAlong}). */
  readsAlong?: readonly ReadAlong[];
  /**
   * Set when the conversion's first statement already took the attributed partner's locks
   * (db/locks.ts) — a sale attributed by its coupon — and answered the hooks' coupon reads there
   * (see {@link CouponRead}), by owner.
   */
  preLocked?: PreLockedAttribution | undefined;
  /**
   * Writes the deferred writes earlier hooks left so far, now, in one statement: for a hook that
   * must read or change their rows before the final statement (fraud holding the new commission).
   */
  writeDeferred?: () => Promise<void>;
}

export interface RefundRecorded {
  workspaceId: string;
  refundId: string;
  saleId: string;
  /** Whose referral the sale was (its attribution snapshot), or null; the partner's lock is held. */
  attribution: { programId: string; partnerId: string; customerId: string } | null;
  /** Refunded now (minor units); `saleAmount` and `refundedBefore` give the context. */
  amount: number;
  saleAmount: number;
  refundedBefore: number;
  occurredAt: Date;
}

export interface CommissionSummary {
  id: string;
  amount: number;
  status: 'pending' | 'held' | 'payable' | 'paid' | 'reversed';
}

export interface CustomerRewardSummary {
  type: 'flat' | 'percentage';
  amount: number;
  durationMonths?: number;
  code: string | null;
}

/**
 * A write a hook leaves for the conversion's final statement instead of sending it alone (each
 * round trip costs a socket write; this saves one per deferring hook on every conversion): the body
 * of a data-modifying CTE whose parameters are numbered from `firstParam`. Tracking runs it in the
 * same transaction, after every hook, before the commit.
 */
export type DeferredWrite = (firstParam: number) => { sql: string; params: unknown[] };

/**
 * A read a hook will need during a conversion, offered before any hook runs: an earlier hook that
 * sends a statement anyway may answer it there, as one more column (a scalar subquery), which
 * saves the later hook a round trip. Unanswered, the later hook reads for itself.
 */
export interface ReadAlong {
  /** Who offered it, so the offering hook finds its own answer. */
  readonly owner: string;
  /** A scalar subquery expression (JSON or null) with its parameters numbered from `firstParam`. */
  sql(firstParam: number): { sql: string; params: unknown[] };
  answered: boolean;
  answer: unknown;
}

/**
 * The unanswered reads as extra select columns `read_<n>` for a statement whose other parameters
 * end before `firstParam`, and the function that stores the answers from its result row.
 */
export function readAlongColumns(reads: readonly ReadAlong[] | undefined, firstParam: number): { columns: string; params: unknown[]; answer(row: Record<string, unknown>): void } {
  const open = (reads ?? []).filter((r) => !r.answered);
  const params: unknown[] = [];
  const columns = open.map((read, i) => {
    const { sql, params: own } = read.sql(firstParam + params.length);
    params.push(...own);
    return `, (${sql}) as read_${i}`;
  });
  return {
    columns: columns.join(''),
    params,
    answer(row) {
      open.forEach((read, i) => {
        read.answer = row[`read_${i}`] ?? null;
        read.answered = true;
      });
    },
  };
}

/**
 * A read a hook will need once a sale is attributed to its coupon's enrollment, offered to the
 * sale's first statement (which finds the coupon and locks the customer), saving the hook a round
 * trip. That statement also takes the coupon partner's locks when the sale can only be attributed
 * to that partner (record.ts, couponLocking); its reads see the snapshot the statement started with.
 */
export interface CouponRead {
  /** Who offered it, so the offering hook finds its own answer. */
  readonly owner: string;
  /**
   * A scalar subquery expression (JSON or null) about the program `ids.programId` and enrollment
   * `ids.enrollmentId` (SQL text expressions), without parameters of its own.
   */
  sql(ids: { workspaceId: string; programId: string; enrollmentId: string }): string;
}

/**
 * What a sale's first statement did early for the sale's attribution (tracking hands it on only
 * when the attribution is the coupon's own enrollment): its partner's locks are held, and each
 * coupon read's answer (JSON or null) is here by owner.
 */
export interface PreLockedAttribution {
  answers: ReadonlyMap<string, unknown>;
}

/** What every conversion hook may hand back besides its own result. */
export interface HookWrites {
  deferred?: DeferredWrite[];
}

export interface ConversionHooks {
  onLead?(
    client: pg.PoolClient,
    services: Services,
    event: LeadRecorded,
  ): Promise<{ commission?: CommissionSummary; customerReward?: CustomerRewardSummary } & HookWrites>;
  onSale?(client: pg.PoolClient, services: Services, event: SaleRecorded): Promise<{ commission?: CommissionSummary } & HookWrites>;
  /** Reads this hook's `onSale` will need, offered to the hooks before it (see {@link ReadAlong}). */
  offerSaleReads?(event: Pick<SaleRecorded, 'workspaceId' | 'customerId' | 'attribution'>): ReadAlong[];
  /** Reads this hook's `onSale` will need about a coupon's enrollment (see {@link CouponRead}). */
  offerCouponReads?(): CouponRead[];
  onRefund?(
    client: pg.PoolClient,
    services: Services,
    event: RefundRecorded,
  ): Promise<{ adjustments: { commissionId: string; amount: number }[] }>;
  /** Work on a sale that must see what other transactions committed (see {@link AfterSale}). */
  afterSale?: AfterSale;
}

/**
 * Runs after a sale's transaction commits, and again when a repeat of the sale is answered from the
 * stored one, so a retry finishes what a failure after the commit left undone: it must be
 * idempotent. Its error fails the sale's request (the sale stays recorded; the retry runs it again).
 * Only when `wanted`, a boolean SQL expression about the workspace `$1` that the sale's first
 * statement evaluates, is true: a sale pays no round trip for work its workspace cannot need.
 */
export interface AfterSale {
  wanted: string;
  run(services: Services, sale: { workspaceId: string; saleId: string }): Promise<void>;
}

const hooks: ConversionHooks[] = [];

export function addConversionHooks(h: ConversionHooks): void {
  if (!hooks.includes(h)) hooks.push(h);
}

export function conversionHooks(): readonly ConversionHooks[] {
  return hooks;
}

/** The deferred writes as CTEs named `deferred_<n>`, numbered from `firstParam`. */
export function deferredCtes(writes: readonly DeferredWrite[], firstParam: number): { ctes: string[]; params: unknown[] } {
  const ctes: string[] = [];
  const params: unknown[] = [];
  for (const write of writes) {
    const { sql, params: own } = write(firstParam + params.length);
    ctes.push(`deferred_${ctes.length} as (${sql})`);
    params.push(...own);
  }
  return { ctes, params };
}

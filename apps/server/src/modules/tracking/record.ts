import type pg from 'pg';
import { ApiError } from '@tandem/contracts';
import { ATTRIBUTION_SKEW_MS, decideAttribution, newId, type AttributionModel, type Touch } from '@tandem/core';
import type { Services } from '../../http/context.js';
import { keyedHash } from '../../security/crypto.js';
import { isUniqueViolation, queryAndCommit, withTransaction } from '../../db/tx.js';
import { lockPartner, partnerLocksSql } from '../../db/locks.js';
import { emitEvent, outboxEventCte, STORED_EVENT_UNDISPATCHED, wakeIfUndispatched, type DomainEvent } from '../events/emit.js';
import { bumpConversionRollup, conversionRollupCte, type ConversionDelta } from '../analytics/rollups.js';
import { conversionHooks, deferredCtes, type AttributedTo, type CommissionSummary, type CustomerRewardSummary, type DeferredWrite } from './hooks.js';
import { addCouponTouch, couponColumn, enrollmentStatusOf, resolveTouches, type CouponRow, type ResolvedTouches } from './touches.js';

/*
 * Leads, sales and refunds. Each is one transaction: customer (locked, so conversions of one
 * customer are processed in arrival order), attribution, the conversion row (its unique key is
 * the idempotency key), the hooks (rewards), the outbox event and the rollups; the 2xx is sent
 * only after commit, so an acknowledged conversion is durable.
 *
 * A repeat (same customer+event, same invoice) loses the race on the unique index — Postgres
 * makes the loser wait for the winner's commit, on whatever process it runs — and answers with
 * the body the winner stored, after rolling back everything it did.
 */

/** Thrown inside the transaction to roll it back and answer with the stored body instead. */
export class ReplayedConversion<T> extends Error {
  constructor(readonly body: T) {
    super('replayed conversion');
  }
}

/**
 * Runs a recording transaction; a replay answers with the stored body. When the transaction fails
 * on a unique index, `storedBody` (if given) looks for what a concurrent duplicate recorded
 * meanwhile: found, it is the answer; not found, the error stands.
 */
export async function recordIdempotently<T>(
  services: Pick<Services, 'pool' | 'statistics'>,
  work: (client: pg.PoolClient) => Promise<T>,
  storedBody?: () => Promise<T | null>,
): Promise<{ body: T; replayed: boolean }> {
  try {
    const body = await withTransaction(services.pool, work);
    // A new conversion grew the hot tables: their planner statistics may need a refresh.
    services.statistics.noteChanges();
    return { body, replayed: false };
  } catch (error) {
    if (error instanceof ReplayedConversion) return { body: error.body as T, replayed: true };
    if (storedBody && isUniqueViolation(error)) {
      const stored = await storedBody();
      if (stored !== null) return { body: stored, replayed: true };
    }
    throw error;
  }
}

export function checkOccurredAt(occurredAt: string | undefined, now: Date): Date {
  if (!occurredAt) return now;
  const at = new Date(occurredAt);
  if (at.getTime() > now.getTime() + ATTRIBUTION_SKEW_MS) {
    throw new ApiError('unprocessable', 'occurredAt lies more than 5 minutes in the future', [
      { path: 'occurredAt', message: 'must not be more than 5 minutes in the future' },
    ]);
  }
  return at;
}

export interface CustomerInput {
  externalId: string;
  email?: string | undefined;
  name?: string | undefined;
  country?: string | undefined;
}

/**
 * What of the customer's details may be kept. Without consent (issue 8) only what attribution
 * needs survives — the external id and the attributed partner/click on the customer row —
 * and a withdrawal also forgets what an earlier, consented call stored.
 */
function storableDetails(services: Services, workspaceId: string, customer: CustomerInput, consent: boolean) {
  if (!consent) return { emailHash: null, name: null, country: null };
  return {
    emailHash: customer.email ? emailHash(services, workspaceId, customer.email) : null,
    name: customer.name ?? null,
    country: customer.country ?? null,
  };
}

/** Without consent the stored personal details are erased; with it, new details fill in or replace old ones. */
async function updateCustomerDetails(
  client: pg.PoolClient,
  services: Services,
  workspaceId: string,
  customerId: string,
  input: CustomerInput,
  consent: boolean,
): Promise<void> {
  if (!consent) {
    await client.query(
      `update customers set email_hash = null, name = null, country = null
        where workspace_id = $1 and id = $2 and (email_hash is not null or name is not null or country is not null)`,
      [workspaceId, customerId],
    );
    return;
  }
  const details = storableDetails(services, workspaceId, input, consent);
  await client.query(
    `update customers set email_hash = coalesce($3, email_hash), name = coalesce($4, name), country = coalesce($5, country) where workspace_id = $1 and id = $2`,
    [workspaceId, customerId, details.emailHash, details.name, details.country],
  );
}

interface CustomerRow {
  id: string;
  external_id: string;
  country: string | null;
  program_id: string | null;
  partner_id: string | null;
  enrollment_id: string | null;
  click_id: string | null;
  attributed_via: 'click' | 'coupon' | null;
  touch_at: Date | null;
  /** The attribution settings of the standing attribution's program (STANDING_PROGRAM), null when there is none. */
  standing_program: { window_days: number; model: AttributionModel } | null;
}

/** A select-list expression for `standing_program`, over a row `customer` of the customers table ($1 the workspace). */
const STANDING_PROGRAM = `(select json_build_object('window_days', p.attribution_window_days, 'model', p.attribution_model)
    from programs p where p.workspace_id = $1 and p.id = customer.program_id) as standing_program`;

export const emailHash = (services: Services, workspaceId: string, email: string) =>
  keyedHash(`${services.secret}:customer-email:${workspaceId}`, email.trim().toLowerCase());

/**
 * Finds or creates the customer and locks its row until the transaction ends, in one statement
 * (a sale's: a lead's refreshes the details too): the no-op `do update` takes the row lock on an
 * existing customer, and `xmax = 0` tells a fresh insert from a found row. Parameters from `first`:
 * workspace, new id, external id, email hash, name, country.
 */
const customerUpsert = (first: number) => {
  const p = (i: number) => `$${first + i}`;
  return `insert into customers as c (workspace_id, id, external_id, email_hash, name, country) values (${p(0)}, ${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)})
     on conflict (workspace_id, external_id) do update set external_id = c.external_id
     returning id, external_id, country, program_id, partner_id, enrollment_id, click_id, attributed_via, touch_at, (xmax = 0) as created`;
};

function customerUpsertParams(services: Services, workspaceId: string, input: CustomerInput, consent: boolean): unknown[] {
  const details = storableDetails(services, workspaceId, input, consent);
  return [workspaceId, newId('cus'), input.externalId, details.emailHash, details.name, details.country];
}

/** The customer's standing attribution as a Touch (with its program's current settings). */
function currentTouch(c: CustomerRow): Touch | null {
  if (!c.program_id || !c.partner_id || !c.enrollment_id || !c.attributed_via || !c.touch_at) return null;
  const settings = c.standing_program && { windowDays: c.standing_program.window_days, model: c.standing_program.model };
  if (!settings) return null;
  return {
    via: c.attributed_via,
    clickId: c.click_id,
    programId: c.program_id,
    partnerId: c.partner_id,
    enrollmentId: c.enrollment_id,
    at: c.touch_at.getTime(),
    ...settings,
  };
}

/**
 * The country the reward rules see. The rewards module keeps it with the reward event (replays
 * must see the same facts), so without consent it is not passed on at all.
 */
function consentedCountry(input: CustomerInput, stored: CustomerRow, consent: boolean): string | null {
  if (!consent) return null;
  return input.country ?? stored.country;
}

interface Attributed {
  touch: Touch | null;
  /** What the hooks see, with the enrollment's status: only `approved` enrollments earn (rewards checks it). */
  forHooks: AttributedTo | null;
  /** The touch history and standing attribution to record, in the conversion's final statement. */
  writes: DeferredWrite[];
}

/** Decides the conversion's attribution, records the customer's touches and new standing attribution. */
async function attribute(
  client: pg.PoolClient,
  workspaceId: string,
  customer: CustomerRow,
  resolved: ResolvedTouches,
  occurredAt: Date,
  consent: boolean,
): Promise<Attributed> {
  const current = currentTouch(customer);
  const decision = decideAttribution({ occurredAt: occurredAt.getTime(), touches: resolved.touches, current });
  // The touch history links the customer to every click it arrived with; without consent only the
  // attributing touch is kept, on the customer row below.
  const touchRows = (consent ? resolved.notes : []).map((note) => {
    const rejected = decision.rejected.find((r) => r.touch.via === 'click' && r.touch.clickId === note.key);
    const eligible = !note.known ? (note.via === 'click' ? 'unknown_click' : 'unknown_coupon') : rejected ? rejected.why : 'yes';
    return { ...note, eligible };
  });
  const touch = decision.attribution;
  const attributes = touch !== null && (decision.reason === 'new' || decision.reason === 'replaced_last_touch');
  // The touches and the customer's new standing attribution ride on the conversion's final
  // statement (a round trip fewer): nothing before it reads them — the hooks read referrals,
  // commissions and the customer's email hash, never its attribution or touch history.
  const writes: DeferredWrite[] = [];
  if (touchRows.length > 0) {
    const values = [
      workspaceId,
      customer.id,
      touchRows.map((t) => t.key),
      touchRows.map((t) => t.via),
      touchRows.map((t) => t.programId),
      touchRows.map((t) => t.partnerId),
      touchRows.map((t) => t.at),
      touchRows.map((t) => t.eligible),
    ];
    writes.push((first) => {
      const p = (i: number) => `$${first + i}`;
      return {
        sql: `insert into customer_touches (workspace_id, customer_id, touch_key, via, program_id, partner_id, touch_at, eligible)
              select ${p(0)}, ${p(1)}, t.touch_key, t.via, t.program_id, t.partner_id, t.touch_at, t.eligible
                from unnest(${p(2)}::text[], ${p(3)}::text[], ${p(4)}::text[], ${p(5)}::text[], ${p(6)}::timestamptz[], ${p(7)}::text[])
                     as t(touch_key, via, program_id, partner_id, touch_at, eligible)
              on conflict do nothing`,
        params: values,
      };
    });
  }
  if (attributes) {
    const values = [workspaceId, customer.id, touch.programId, touch.partnerId, touch.enrollmentId, touch.clickId, touch.via, new Date(touch.at), occurredAt];
    writes.push((first) => {
      const p = (i: number) => `$${first + i}`;
      return {
        sql: `update customers set program_id = ${p(2)}, partner_id = ${p(3)}, enrollment_id = ${p(4)}, click_id = ${p(5)}, attributed_via = ${p(6)},
                     touch_at = ${p(7)}, first_attributed_at = coalesce(first_attributed_at, ${p(8)}::timestamptz)
               where workspace_id = ${p(0)} and id = ${p(1)}`,
        params: values,
      };
    });
  }
  if (!touch) return { touch: null, forHooks: null, writes };
  const status =
    resolved.enrollmentStatus.get(touch.enrollmentId) ?? (await enrollmentStatusOf(client, workspaceId, touch.enrollmentId)) ?? 'unknown';
  return {
    touch,
    writes,
    forHooks: {
      programId: touch.programId,
      partnerId: touch.partnerId,
      enrollmentId: touch.enrollmentId,
      via: touch.via,
      clickId: touch.clickId,
      enrollmentStatus: status,
    },
  };
}

/**
 * A lead's or sale's last statement: the row's customer, attribution snapshot and stored response,
 * its outbox event, its rollup bucket and every deferred write (attribution, hooks), in one round
 * trip — each costs a socket write, which dominates ingest on a busy machine.
 */
async function completeConversion(
  client: pg.PoolClient,
  row: { workspaceId: string; id: string; customerId: string; touch: Touch | null; body: unknown; sale?: SaleColumns },
  deferred: readonly DeferredWrite[],
  also: { event: DomainEvent; rollup: ConversionDelta },
): Promise<void> {
  const { touch, sale } = row;
  const own = [
    row.workspaceId,
    row.id,
    row.customerId,
    touch?.programId ?? null,
    touch?.partnerId ?? null,
    touch?.enrollmentId ?? null,
    touch?.clickId ?? null,
    touch?.via ?? null,
    JSON.stringify(row.body),
    ...(sale ? [sale.invoiceId, sale.paymentRef, sale.amount, sale.currency, sale.productId, sale.occurredAt, sale.source] : []),
  ];
  const event = outboxEventCte(also.event, own.length + 1);
  const rollup = conversionRollupCte(also.rollup, own.length + 1 + event.params.length);
  const writes = deferredCtes(deferred, own.length + 1 + event.params.length + rollup.params.length);
  // A lead was claimed by inserting it first and is completed here. A sale is inserted only here,
  // whole (inserting it early and updating it later wrote the row and its five index entries
  // twice): a concurrent duplicate of its invoice fails on the invoice's unique index after the
  // first one commits, rolls back, and answers with the first one's body (recordIdempotently).
  // The statement commits the transaction in the same round trip: it is always the last.
  const completed = sale
    ? `insert into sales (workspace_id, id, customer_id, program_id, partner_id, enrollment_id, click_id, attributed_via, response, invoice_id, payment_ref, amount, currency, product_id, occurred_at, source)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`
    : `update leads set customer_id = $3, program_id = $4, partner_id = $5, enrollment_id = $6, click_id = $7, attributed_via = $8, response = $9
        where workspace_id = $1 and id = $2`;
  const { rows } = await queryAndCommit<{ undispatched: boolean }>(
    client,
    `with completed as (${completed}), ${[event.cte, rollup.cte, ...writes.ctes].join(', ')}
     select ${STORED_EVENT_UNDISPATCHED}`,
    [...own, ...event.params, ...rollup.params, ...writes.params],
  );
  wakeIfUndispatched(client, rows[0]);
}

/**
 * What a sale's first statement may do besides finding the customer and the coupon: when the sale
 * names a coupon and no click that resolved to a partner, and the customer has no standing attribution or one to the coupon's
 * own program and partner, the sale can only be attributed to the coupon's partner (or to nobody).
 * The statement then takes that partner's locks — after the customer's row lock, the order every
 * conversion takes them in (db/locks.ts) — and answers the hooks' coupon reads, which saves the
 * rewards hook its round trip for the program, the enrollment and the locks. A sale that could go
 * elsewhere takes no lock here: locking a partner it is not attributed to and then the one it is
 * could deadlock with a sale doing the reverse. Extra select columns `pre_locked` (true, or null when
 * no lock was taken) and `coupon_read_<n>`.
 *
 * The reads see the statement's snapshot, taken before it waited for the customer's row: a change
 * to the program or enrollment committed during that wait is seen by the next sale, as a change
 * committed just after the read always was (neither takes the partner's lock).
 */
function couponLocking(couponOnly: boolean): { columns: string; join: string; answers(row: object): Map<string, unknown> } {
  const reads = couponOnly ? conversionHooks().flatMap((h) => h.offerCouponReads?.() ?? []) : [];
  if (reads.length === 0) return { columns: 'null as pre_locked', join: '', answers: () => new Map() };
  // $1 is the workspace (the customer upsert's first parameter).
  const ids = { workspaceId: '$1', programId: "(claim.coupon->>'program_id')", enrollmentId: "(claim.coupon->>'enrollment_id')" };
  const columns = reads.map((read, i) => `, (${read.sql(ids)}) as coupon_read_${i}`);
  return {
    // The lock columns are selected so that the planner can never drop the join that takes them.
    columns: `early.program_lock, early.partner_lock, early.pre_locked${reads.map((_, i) => `, early.coupon_read_${i}`).join('')}`,
    join: `left join lateral (
             select ${partnerLocksSql(ids.workspaceId, ids.programId, "(claim.coupon->>'partner_id')")}, true as pre_locked${columns.join('')}
              where claim.stored is null and claim.coupon is not null
                and (claim.partner_id is null or (claim.program_id = claim.coupon->>'program_id' and claim.partner_id = claim.coupon->>'partner_id'))
           ) early on true`,
    answers: (row) => new Map(reads.map((read, i) => [read.owner, (row as Record<string, unknown>)[`coupon_read_${i}`] ?? null])),
  };
}

/** A sale's own columns, written with its attribution by `completeConversion`. */
interface SaleColumns {
  invoiceId: string;
  paymentRef: string | null;
  amount: number;
  currency: string;
  productId: string | null;
  occurredAt: Date;
  source: 'api' | 'stripe';
}

// ---------------------------------------------------------------------------------------------
// Leads

export interface LeadInput {
  clickId?: string | undefined;
  couponCode?: string | undefined;
  customer: CustomerInput;
  eventName: string;
  occurredAt?: string | undefined;
  /** Default true: server-to-server calls are made with the customer's consent. */
  consent?: boolean | undefined;
  /**
   * Records the lead for its attribution only: no conversion hook runs, so it earns no lead reward
   * and nothing is scored (a Stripe checkout that arrived after its invoice, see stripe/webhook.ts).
   */
  attributionOnly?: boolean | undefined;
}

export interface LeadResult {
  customer: { id: string; externalId: string };
  lead: { id: string; eventName: string };
  attributed: boolean;
  partnerId: string | null;
  commission?: CommissionSummary;
  customerReward?: CustomerRewardSummary;
}

/**
 * What a lead and a sale both settle before their transaction: the event's time (not too far in
 * the future), consent (default yes), and the click it names, resolved to its partner. A coupon
 * code is looked up by the transaction's first statement (`couponColumn`), a round trip fewer.
 */
async function prepareConversion(
  services: Services,
  workspaceId: string,
  input: { occurredAt?: string | undefined; consent?: boolean | undefined; clickId?: string | undefined },
) {
  const now = services.now();
  const occurredAt = checkOccurredAt(input.occurredAt, now);
  const resolved = await resolveTouches(services.pool, workspaceId, { clickId: input.clickId, occurredAt }, now);
  return { occurredAt, consent: input.consent ?? true, resolved };
}

export async function trackLead(
  services: Services,
  workspaceId: string,
  input: LeadInput,
): Promise<{ body: LeadResult; replayed: boolean }> {
  const { occurredAt, consent, resolved } = await prepareConversion(services, workspaceId, input);

  return recordIdempotently<LeadResult>(services, async (client) => {
    const leadId = newId('led');
    const coupon = couponColumn(input.couponCode, 1, 11);
    // The customer (found or created, locked, its details refreshed — or erased without consent)
    // and the lead's claim on (customer, event) in one round trip. A repeat changes nothing: it is
    // rolled back below and answers with the stored body.
    const { rows: claimRows } = await client.query<CustomerRow & { claimed: boolean; coupon: CouponRow | null }>(
      `with customer as (
         insert into customers as c (workspace_id, id, external_id, email_hash, name, country) values ($1, $2, $3, $4, $5, $6)
         on conflict (workspace_id, external_id) do update set
           email_hash = case when $7::boolean then coalesce(excluded.email_hash, c.email_hash) end,
           name = case when $7::boolean then coalesce(excluded.name, c.name) end,
           country = case when $7::boolean then coalesce(excluded.country, c.country) end
         returning id, external_id, country, program_id, partner_id, enrollment_id, click_id, attributed_via, touch_at
       ), claimed as (
         insert into leads (workspace_id, id, customer_id, event_name, occurred_at, response)
         select $1, $8, customer.id, $9, $10, '{}' from customer
         on conflict (workspace_id, customer_id, event_name) do nothing
         returning id
       )
       select customer.*, exists (select 1 from claimed) as claimed, ${coupon.sql} as coupon, ${STANDING_PROGRAM} from customer`,
      [...customerUpsertParams(services, workspaceId, input.customer, consent), consent, leadId, input.eventName, occurredAt, ...coupon.params],
    );
    const { claimed, coupon: couponRow, ...customer } = claimRows[0]!;
    addCouponTouch(resolved, couponRow, input.couponCode, occurredAt);
    if (!claimed) {
      const { rows } = await client.query<{ response: LeadResult }>(
        'select response from leads where workspace_id = $1 and customer_id = $2 and event_name = $3',
        [workspaceId, customer.id, input.eventName],
      );
      throw new ReplayedConversion(rows[0]!.response);
    }
    const { touch, forHooks, writes } = await attribute(client, workspaceId, customer, resolved, occurredAt, consent);

    const body: LeadResult = {
      customer: { id: customer.id, externalId: customer.external_id },
      lead: { id: leadId, eventName: input.eventName },
      attributed: touch !== null,
      partnerId: touch?.partnerId ?? null,
    };
    const deferred: DeferredWrite[] = [...writes];
    for (const h of input.attributionOnly ? [] : conversionHooks()) {
      if (!h.onLead) continue;
      const r = await h.onLead(client, services, {
        workspaceId,
        leadId,
        customerId: customer.id,
        eventName: input.eventName,
        occurredAt,
        attribution: forHooks,
        customerCountry: consentedCountry(input.customer, customer, consent),
        // The raw address goes to the hooks in memory only (fraud checks its domain); it is never stored.
        customerEmail: consent ? (input.customer.email ?? null) : null,
        // What an earlier hook (rewards) created for this conversion: later hooks (fraud) score it.
        commission: body.commission,
      });
      if (r.commission) body.commission = r.commission;
      if (r.customerReward) body.customerReward = r.customerReward;
      if (r.deferred) deferred.push(...r.deferred);
    }
    await completeConversion(client, { workspaceId, id: leadId, customerId: customer.id, touch, body }, deferred, {
      event: {
        workspaceId,
        type: 'lead.created',
        data: {
          id: leadId,
          customerId: customer.id,
          externalId: customer.external_id,
          eventName: input.eventName,
          partnerId: touch?.partnerId ?? null,
          programId: touch?.programId ?? null,
          occurredAt: occurredAt.toISOString(),
        },
      },
      rollup: { workspaceId, programId: touch?.programId ?? null, partnerId: touch?.partnerId ?? null, at: occurredAt, currency: '', leads: 1 },
    });
    return body;
  });
}

// ---------------------------------------------------------------------------------------------
// Sales

export interface SaleInput {
  customer: CustomerInput;
  amount: number;
  currency: string;
  invoiceId: string;
  occurredAt?: string | undefined;
  productId?: string | undefined;
  clickId?: string | undefined;
  couponCode?: string | undefined;
  /** Another reference of the payment (Stripe payment intent) that refunds may name. */
  paymentRef?: string | null;
  source?: 'api' | 'stripe';
  /** Default true: server-to-server calls are made with the customer's consent. */
  consent?: boolean | undefined;
}

export interface SaleResult {
  sale: { id: string };
  customer: { id: string; externalId: string };
  attributed: boolean;
  partnerId: string | null;
  commission?: CommissionSummary;
}

export async function trackSale(
  services: Services,
  workspaceId: string,
  input: SaleInput,
  inTransaction?: (client: pg.PoolClient, body: SaleResult) => Promise<void>,
): Promise<{ body: SaleResult; replayed: boolean }> {
  const { occurredAt, consent, resolved } = await prepareConversion(services, workspaceId, input);

  // A concurrent duplicate of the invoice committed first: this transaction failed on the
  // invoice's unique index and rolled back; the first one's body is the answer.
  const storedSale = async (): Promise<SaleResult | null> => {
    const { rows } = await services.pool.query<{ response: SaleResult }>('select response from sales where workspace_id = $1 and invoice_id = $2', [workspaceId, input.invoiceId]);
    return rows[0]?.response ?? null;
  };
  // Work after the commit (AfterSale): as the first statement found it wanted; all of it when the
  // transaction failed on a concurrent duplicate, which did not get that far.
  const afterSale = conversionHooks().flatMap((h) => (h.afterSale ? [h.afterSale] : []));
  let afterSaleWanted = afterSale;
  const recorded = await recordIdempotently<SaleResult>(services, async (client) => {
    const saleId = newId('sal');
    const coupon = couponColumn(input.couponCode, 1, 8);
    const params = [...customerUpsertParams(services, workspaceId, input.customer, consent), input.invoiceId, ...coupon.params];
    // Only a click that resolved to a partner is a touch; an unknown click id leaves the coupon alone.
    const early = couponLocking(input.couponCode !== undefined && resolved.touches.length === 0);
    // Lock the customer (conversions of one customer go in arrival order) and look for the invoice
    // in one round trip: a repeat of a recorded invoice answers with its stored body at once. A
    // concurrent duplicate is not visible yet; it is caught when the sale is inserted at the end.
    // `claim` is materialized so that the lateral's references to its subqueries (the coupon) do not
    // evaluate them again; the lateral runs after the upsert, as it needs the upsert's row.
    const { rows: claimRows } = await client.query<CustomerRow & { created: boolean; stored: SaleResult | null; coupon: CouponRow | null; pre_locked: boolean | null; after_sale: boolean[] }>(
      `with customer as (${customerUpsert(1)}),
       claim as materialized (
         select customer.*, (select response from sales where workspace_id = $1 and invoice_id = $7) as stored, ${coupon.sql} as coupon, ${STANDING_PROGRAM} from customer)
       select claim.*, ${early.columns}, array[${afterSale.map((a) => `(${a.wanted})`).join(', ')}]::boolean[] as after_sale from claim ${early.join}`,
      params,
    );
    const { created, stored, coupon: couponRow, pre_locked: preLockedCoupon, after_sale: wanted, ...customer } = claimRows[0]!;
    afterSaleWanted = afterSale.filter((_, i) => wanted[i]);
    if (stored) throw new ReplayedConversion(stored);
    addCouponTouch(resolved, couponRow, input.couponCode, occurredAt);
    if (!created && !consent) await updateCustomerDetails(client, services, workspaceId, customer.id, input.customer, consent);
    const { touch, forHooks, writes } = await attribute(client, workspaceId, customer, resolved, occurredAt, consent);
    const body: SaleResult = {
      sale: { id: saleId },
      customer: { id: customer.id, externalId: customer.external_id },
      attributed: touch !== null,
      partnerId: touch?.partnerId ?? null,
    };
    const deferred: DeferredWrite[] = [...writes];
    const readsAlong = conversionHooks().flatMap((h) => h.offerSaleReads?.({ workspaceId, customerId: customer.id, attribution: forHooks }) ?? []);
    const writeDeferred = async () => {
      if (deferred.length === 0) return;
      const { ctes, params } = deferredCtes(deferred.splice(0), 1);
      await client.query(`with ${ctes.join(', ')} select 1`, params);
    };
    // The early locks and reads are the coupon enrollment's: handed on only when the attribution is
    // that enrollment, which couponLocking made sure of (checked again here, where it is known).
    const preLocked =
      preLockedCoupon && couponRow && touch && touch.programId === couponRow.program_id && touch.partnerId === couponRow.partner_id && touch.enrollmentId === couponRow.enrollment_id
        ? { answers: early.answers(claimRows[0]!) }
        : undefined;
    for (const h of conversionHooks()) {
      if (!h.onSale) continue;
      const r = await h.onSale(client, services, {
        preLocked,
        workspaceId,
        saleId,
        customerId: customer.id,
        invoiceId: input.invoiceId,
        amount: input.amount,
        currency: input.currency,
        productId: input.productId ?? null,
        occurredAt,
        attribution: forHooks,
        customerCountry: consentedCountry(input.customer, customer, consent),
        // The raw address goes to the hooks in memory only (fraud checks its domain); it is never stored.
        customerEmail: consent ? (input.customer.email ?? null) : null,
        // What an earlier hook (rewards) created for this conversion: later hooks (fraud) score it.
        commission: body.commission,
        readsAlong,
        writeDeferred,
      });
      if (r.commission) body.commission = r.commission;
      if (r.deferred) deferred.push(...r.deferred);
    }
    if (inTransaction) await inTransaction(client, body);
    const sale: SaleColumns = {
      invoiceId: input.invoiceId, paymentRef: input.paymentRef ?? null, amount: input.amount, currency: input.currency, productId: input.productId ?? null, occurredAt, source: input.source ?? 'api',
    };
    await completeConversion(client, { workspaceId, id: saleId, customerId: customer.id, touch, body, sale }, deferred, {
      event: {
        workspaceId,
        type: 'sale.created',
        data: {
          id: saleId,
          customerId: customer.id,
          invoiceId: input.invoiceId,
          amount: input.amount,
          currency: input.currency,
          partnerId: touch?.partnerId ?? null,
          programId: touch?.programId ?? null,
          occurredAt: occurredAt.toISOString(),
        },
      },
      rollup: { workspaceId, programId: touch?.programId ?? null, partnerId: touch?.partnerId ?? null, at: occurredAt, currency: input.currency, sales: 1, revenue: input.amount },
    });
    return body;
  }, storedSale);
  for (const a of afterSaleWanted) await a.run(services, { workspaceId, saleId: recorded.body.sale.id });
  return recorded;
}

// ---------------------------------------------------------------------------------------------
// Refunds

export interface RefundResult {
  refund: { id: string; amount: number };
  sale: { id: string; amount: number; refundedAmount: number };
  adjustments: { commissionId: string; amount: number }[];
}

interface SaleForRefund {
  id: string;
  invoice_id: string;
  amount: number;
  refunded_amount: number;
  currency: string;
  program_id: string | null;
  partner_id: string | null;
  customer_id: string;
}

/**
 * Refunds (part of) a sale found by `where` inside the caller's transaction. The sale row is
 * locked, so concurrent refunds of one sale are serialised and together never exceed it: a
 * refund beyond what is left is refused (422), never silently clamped.
 */
export async function refundSale(
  client: pg.PoolClient,
  services: Services,
  workspaceId: string,
  find: { invoiceId: string } | { saleId: string },
  input: { amount?: number | undefined; occurredAt: Date; externalRef?: string | null },
): Promise<RefundResult> {
  const byInvoice = 'invoiceId' in find;
  const { rows } = await client.query<SaleForRefund>(
    `select id, invoice_id, amount, refunded_amount, currency, program_id, partner_id, customer_id from sales
      where workspace_id = $1 and ${byInvoice ? 'invoice_id' : 'id'} = $2 for update`,
    [workspaceId, byInvoice ? find.invoiceId : find.saleId],
  );
  const sale = rows[0];
  if (!sale) throw new ApiError('not_found', 'No sale with this invoiceId', [{ path: 'invoiceId', message: 'no sale has this invoiceId' }]);
  const remaining = sale.amount - sale.refunded_amount;
  const amount = input.amount ?? remaining;
  if (remaining <= 0)
    throw new ApiError('unprocessable', 'This sale is already refunded in full', [
      { path: 'invoiceId', message: 'is already refunded in full' },
    ]);
  if (amount > remaining) {
    throw new ApiError('unprocessable', `The refund exceeds what is left of the sale (${remaining})`, [
      { path: 'amount', message: `must be at most ${remaining}, the amount not yet refunded` },
    ]);
  }
  const refundId = newId('ref');
  // The partner's lock before the sale row changes: the update's trigger locks the partner's sale
  // counts, which a concurrent sale of that partner locks after the partner's lock (db/locks.ts).
  const attribution = sale.program_id && sale.partner_id ? { programId: sale.program_id, partnerId: sale.partner_id, customerId: sale.customer_id } : null;
  if (attribution) await lockPartner(client, workspaceId, attribution.programId, attribution.partnerId);
  await client.query('update sales set refunded_amount = refunded_amount + $3 where workspace_id = $1 and id = $2', [
    workspaceId,
    sale.id,
    amount,
  ]);
  const body: RefundResult = {
    refund: { id: refundId, amount },
    sale: { id: sale.id, amount: sale.amount, refundedAmount: sale.refunded_amount + amount },
    adjustments: [],
  };
  for (const h of conversionHooks()) {
    if (!h.onRefund) continue;
    const r = await h.onRefund(client, services, {
      workspaceId,
      refundId,
      saleId: sale.id,
      attribution,
      amount,
      saleAmount: sale.amount,
      refundedBefore: sale.refunded_amount,
      occurredAt: input.occurredAt,
    });
    body.adjustments.push(...r.adjustments);
  }
  await client.query(
    'insert into refunds (workspace_id, id, sale_id, amount, occurred_at, external_ref, response) values ($1, $2, $3, $4, $5, $6, $7)',
    [workspaceId, refundId, sale.id, amount, input.occurredAt, input.externalRef ?? null, JSON.stringify(body)],
  );
  await emitEvent(client, {
    workspaceId,
    type: 'refund.created',
    data: { id: refundId, saleId: sale.id, invoiceId: sale.invoice_id, amount, currency: sale.currency },
  });
  await bumpConversionRollup(client, {
    workspaceId,
    programId: sale.program_id,
    partnerId: sale.partner_id,
    at: input.occurredAt,
    currency: sale.currency,
    refunds: 1,
    refundedAmount: amount,
  });
  return body;
}

export async function trackRefund(
  services: Services,
  workspaceId: string,
  input: { invoiceId: string; amount?: number | undefined; occurredAt?: string | undefined },
): Promise<RefundResult> {
  const occurredAt = checkOccurredAt(input.occurredAt, services.now());
  return withTransaction(services.pool, (client) =>
    refundSale(client, services, workspaceId, { invoiceId: input.invoiceId }, { amount: input.amount, occurredAt }),
  );
}

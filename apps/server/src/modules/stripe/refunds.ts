import type pg from 'pg';
import type { Services } from '../../http/context.js';
import { withTransaction } from '../../db/tx.js';
import { refundSale } from '../tracking/record.js';

/*
 * `charge.refunded` → a refund of the sale of the same payment. Stripe reports the cumulative
 * refunded amount; what is new (never beyond the sale) becomes one refund through `refundSale`, so
 * commissions and the ledger follow as for any refund.
 *
 * Stripe does not order events: a refund may come before the `checkout.session.completed` or
 * `invoice.paid` that records its sale. Such a refund is kept in `stripe_pending_refunds` and
 * applied when the sale is recorded, by that event or by the brand (tracking API, imports): the
 * `afterSale` hook of hooks.ts runs `applyPendingRefunds` after every sale of the workspace. Neither side locks the other out; instead each one looks for
 * the other after its own commit (the refund for its sale, the sale for its waiting refunds), so
 * whichever commits second finds the first, and both finding it is harmless: applying locks the
 * sale row and deletes the waiting rows, so only one applies them. A crash between a commit and that
 * look leaves Stripe without an answer; its retry is a duplicate event, which looks again.
 */

export interface StripeRefund {
  eventId: string;
  chargeId: string;
  /** Cumulative at Stripe. */
  amountRefunded: number;
  /** The charge's currency; null when the event did not say (then taken to be the sale's). */
  currency: string | null;
  occurredAt: Date;
}

export interface RefundOutcome {
  outcome: 'refund' | 'ignored:nothing_new' | 'ignored:currency_mismatch';
  targetId: string;
}

interface SaleToRefund {
  id: string;
  amount: number;
  refunded_amount: number;
  currency: string;
}

/** The sales (aliased `s`) a refund naming `$2` (invoice, payment intent) may be of, as the sales table stores them; `$1` the workspace. */
const SALE_OF_REFS = `s.workspace_id = $1 and (s.invoice_id = any($2) or (s.payment_ref is not null and s.payment_ref = any($2)))`;

/** Finds and locks the sale of a refund's references; null when Tandem has not recorded it (yet). */
export async function lockSaleOfRefs(client: pg.PoolClient, workspaceId: string, refs: string[]): Promise<SaleToRefund | null> {
  const { rows } = await client.query<SaleToRefund>(
    `select s.id, s.amount, s.refunded_amount, s.currency from sales s where ${SALE_OF_REFS} order by s.occurred_at limit 1 for update`,
    [workspaceId, refs],
  );
  return rows[0] ?? null;
}

const setEventOutcome = (client: pg.PoolClient, workspaceId: string, eventId: string, outcome: string, targetId: string | null) =>
  client.query('update stripe_events set outcome = $3, target_id = $4 where workspace_id = $1 and event_id = $2', [workspaceId, eventId, outcome, targetId]);

/** Applies what is new in a Stripe refund to a sale the caller has locked, and records the event's outcome. */
export async function applyStripeRefund(
  client: pg.PoolClient,
  services: Services,
  workspaceId: string,
  sale: SaleToRefund,
  refund: StripeRefund,
): Promise<RefundOutcome> {
  // Stripe's amounts are minor units of the charge's currency: of a sale the brand recorded in
  // another one (tracking API, imports, under the invoice id the charge names) they are no part.
  if (refund.currency !== null && refund.currency !== sale.currency) {
    services.log.warn({ workspaceId, eventId: refund.eventId, saleId: sale.id, refundCurrency: refund.currency, saleCurrency: sale.currency }, 'Stripe refund not applied: its currency is not the sale\'s');
    await setEventOutcome(client, workspaceId, refund.eventId, 'ignored:currency_mismatch', sale.id);
    return { outcome: 'ignored:currency_mismatch', targetId: sale.id };
  }
  const delta = Math.min(refund.amountRefunded, sale.amount) - sale.refunded_amount;
  if (delta <= 0) {
    await setEventOutcome(client, workspaceId, refund.eventId, 'ignored:nothing_new', sale.id);
    return { outcome: 'ignored:nothing_new', targetId: sale.id };
  }
  const result = await refundSale(client, services, workspaceId, { saleId: sale.id }, { amount: delta, occurredAt: refund.occurredAt, externalRef: refund.chargeId });
  sale.refunded_amount = result.sale.refundedAmount;
  await setEventOutcome(client, workspaceId, refund.eventId, 'refund', result.refund.id);
  return { outcome: 'refund', targetId: result.refund.id };
}

/** Keeps a refund whose sale Tandem has not recorded, in the transaction that claimed its event. */
export async function keepPendingRefund(client: pg.PoolClient, workspaceId: string, refs: string[], refund: StripeRefund): Promise<void> {
  await client.query(
    'insert into stripe_pending_refunds (workspace_id, event_id, charge_id, refs, amount_refunded, currency, occurred_at) values ($1, $2, $3, $4, $5, $6, $7)',
    [workspaceId, refund.eventId, refund.chargeId, refs, refund.amountRefunded, refund.currency, refund.occurredAt],
  );
  await setEventOutcome(client, workspaceId, refund.eventId, 'refund_pending', null);
}

/**
 * Applies the refunds waiting for a sale — the sale of that id, or the one a refund's references
 * find — in the order Stripe made them. Called after the sale's or the refund's own commit; returns
 * what each applied event became (empty when nothing waits, which costs one read).
 */
export async function applyPendingRefunds(
  services: Services,
  workspaceId: string,
  find: { saleId: string } | { refs: string[] },
): Promise<Map<string, RefundOutcome>> {
  // The sale (by id, or the one the refund's references find, as `lockSaleOfRefs` does), if a refund waits for it.
  const { rows: found } = await services.pool.query<{ id: string }>(
    `select sale.id from (select s.id, s.invoice_id, s.payment_ref from sales s
                           where ${'saleId' in find ? 's.workspace_id = $1 and s.id = $2' : SALE_OF_REFS} order by s.occurred_at limit 1) sale
      where exists (select 1 from stripe_pending_refunds p where p.workspace_id = $1 and p.refs && array_remove(array[sale.invoice_id, sale.payment_ref], null))`,
    [workspaceId, 'saleId' in find ? find.saleId : find.refs],
  );
  const saleId = found[0]?.id;
  const applied = new Map<string, RefundOutcome>();
  if (!saleId) return applied;
  await withTransaction(services.pool, async (client) => {
    const { rows: locked } = await client.query<SaleToRefund & { refs: string[] }>(
      `select id, amount, refunded_amount, currency, array_remove(array[invoice_id, payment_ref], null) as refs from sales where workspace_id = $1 and id = $2 for update`,
      [workspaceId, saleId],
    );
    const sale = locked[0]!;
    // Under the sale's lock: a concurrent applier that took the lock first has deleted what it applied.
    const { rows: waiting } = await client.query<{ event_id: string; charge_id: string; amount_refunded: number; currency: string | null; occurred_at: Date }>(
      `delete from stripe_pending_refunds where workspace_id = $1 and refs && $2 returning event_id, charge_id, amount_refunded, currency, occurred_at`,
      [workspaceId, sale.refs],
    );
    waiting.sort((a, b) => a.occurred_at.getTime() - b.occurred_at.getTime() || a.amount_refunded - b.amount_refunded || a.event_id.localeCompare(b.event_id));
    for (const w of waiting) {
      const refund = { eventId: w.event_id, chargeId: w.charge_id, amountRefunded: Number(w.amount_refunded), currency: w.currency, occurredAt: w.occurred_at };
      applied.set(w.event_id, await applyStripeRefund(client, services, workspaceId, sale, refund));
    }
  });
  return applied;
}

/**
 * How long a refund waits for its sale. Stripe retries an unanswered event for about 3 days, so a
 * sale event that has not come within this is not coming: the refund is of a payment Tandem never
 * tracked (made before tracking began, or recorded nowhere).
 */
export const PENDING_REFUND_KEEP_DAYS = 30;
/** Rows deleted per statement: short transactions, as the click retention. */
const EXPIRE_BATCH = 1_000;

/**
 * Deletes the refunds that waited longer than {@link PENDING_REFUND_KEEP_DAYS} (by when Tandem
 * received them), one workspace at a time, at most `batch` rows per statement until none is left;
 * their `stripe_events` rows then say `ignored:unknown_sale`, what such a refund was before it could
 * wait. One whose sale is recorded by then (its look was missed) is applied to it instead. Run hourly by the `privacy.retention` job. A refund being applied meanwhile is not lost:
 * whichever statement deletes its row first has it (applying deletes under the sale's lock).
 */
export async function purgeExpiredPendingRefunds(services: Services, options: { batch?: number } = {}): Promise<number> {
  const batch = options.batch ?? EXPIRE_BATCH;
  const receivedBefore = new Date(services.now().getTime() - PENDING_REFUND_KEEP_DAYS * 24 * 3600 * 1000);
  const { rows: workspaces } = await services.pool.query<{ workspace_id: string }>(
    'select distinct workspace_id from stripe_pending_refunds where received_at < $1',
    [receivedBefore],
  );
  let deleted = 0;
  for (const { workspace_id: workspaceId } of workspaces) {
    // A refund whose sale is recorded after all, its look for waiting refunds missed (a sale of a
    // workspace without a Stripe secret yet, see hooks.ts, or one whose look failed and was never
    // retried), is applied now rather than reported as of an unknown sale.
    const { rows: sales } = await services.pool.query<{ id: string }>(
      `select distinct sale.id from stripe_pending_refunds p
         cross join lateral (select s.id from sales s where ${SALE_OF_REFS.replaceAll('$2', 'p.refs')} order by s.occurred_at limit 1) sale
        where p.workspace_id = $1 and p.received_at < $2`,
      [workspaceId, receivedBefore],
    );
    let failed = false;
    for (const { id } of sales) {
      try {
        await applyPendingRefunds(services, workspaceId, { saleId: id });
      } catch (error) {
        // Not expired either (that would drop a refund of a known sale): the next run tries again,
        // and the other workspaces are not held up.
        services.log.error({ err: error, workspaceId, saleId: id }, 'could not apply the Stripe refunds waiting for a sale');
        failed = true;
      }
    }
    if (failed) continue;
    for (;;) {
      const { rows } = await services.pool.query<{ deleted: number }>(
        `with gone as (
           delete from stripe_pending_refunds where workspace_id = $1 and event_id = any(array(
             select event_id from stripe_pending_refunds where workspace_id = $1 and received_at < $2 limit $3))
           returning event_id
         ), told as (
           update stripe_events e set outcome = 'ignored:unknown_sale' from gone
            where e.workspace_id = $1 and e.event_id = gone.event_id and e.outcome = 'refund_pending'
         )
         select count(*)::int as deleted from gone`,
        [workspaceId, receivedBefore, batch],
      );
      const n = rows[0]!.deleted;
      deleted += n;
      if (n < batch) break;
    }
  }
  if (deleted > 0) services.log.info({ deleted, receivedBefore: receivedBefore.toISOString() }, 'deleted Stripe refunds that waited too long for their sale');
  return deleted;
}

/*
 * What a Stripe event means for Tandem — pure, so every mapping rule is tested without HTTP.
 *
 * - `checkout.session.completed` (paid), or `checkout.session.async_payment_succeeded` (a delayed
 *   method — SEPA debit, ACH — paid later; its `completed` event was `unpaid`): a sale. Invoice id =
 *   the session's invoice (subscription checkouts, so the matching `invoice.paid` is the same sale),
 *   else its payment intent, else the session id. Click id from `client_reference_id` or
 *   `metadata.tdm_click`; coupon from `metadata.couponCode` / `metadata.tdm_coupon` or an expanded
 *   promotion code's `code`.
 * - A checkout with nothing to pay (a trial, a 100 % coupon): not a sale — a $0 sale would be the
 *   customer's "first sale" for durations and qualification, and earn flat rewards — but a lead
 *   (`stripe_checkout`) that attributes the customer, so the invoices paid later are attributed.
 * - `invoice.paid` with an amount: a sale (metadata on the invoice or its subscription details).
 * - `charge.refunded`: a refund of the sale found by the charge's invoice or payment intent, for
 *   the part of `amount_refunded` (cumulative at Stripe) not refunded yet; kept until that sale is
 *   recorded when it is not yet (refunds.ts).
 * Customer external id: `metadata.tdm_customer`, else Stripe's customer id (`cus_…`), else
 * `stripe:<object id>` so guest checkouts are still stored.
 */

type Obj = Record<string, unknown>;

export interface StripeEvent {
  id: string;
  type: string;
  created?: number;
  data: { object: Obj };
}

/** Who converted, when, and what attributes them: what a sale and a lead both carry. */
export interface StripeAttribution {
  occurredAt: string;
  clickId: string | undefined;
  couponCode: string | undefined;
  customer: { externalId: string; email: string | undefined; name: string | undefined; country: string | undefined };
}

export type StripeIntent =
  | (StripeAttribution & {
      kind: 'sale';
      /** For a checkout: the lead that attributes its customer when the invoice was already recorded without attribution. */
      checkoutLead?: string;
      invoiceId: string;
      paymentRef: string | null;
      amount: number;
      currency: string;
    })
  | (StripeAttribution & { kind: 'lead'; eventName: string })
  | {
      kind: 'refund';
      refs: string[];
      amountRefunded: number;
      /** The charge's currency (upper case), in which `amountRefunded` is counted; null when the event does not say. */
      currency: string | null;
      occurredAt: string;
      chargeId: string;
    }
  | { kind: 'ignored'; why: string };

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const CLICK = /^clk_[0-9a-f]{32}$/;

function metadataOf(...objects: unknown[]): Obj {
  return Object.assign({}, ...objects.map((o) => obj(obj(o).metadata)).reverse());
}

function idOf(v: unknown): string | undefined {
  return str(v) ?? str(obj(v).id);
}

function couponFrom(metadata: Obj, discounts: unknown): string | undefined {
  const fromMeta = str(metadata.couponCode) ?? str(metadata.tdm_coupon);
  if (fromMeta) return fromMeta;
  // A promotion code's text is only in the event when it was expanded.
  for (const d of Array.isArray(discounts) ? discounts : []) {
    const code = str(obj(obj(d).promotion_code).code);
    if (code) return code;
  }
  return undefined;
}

const iso = (unixSeconds: unknown, fallback: number | undefined): string =>
  new Date(((typeof unixSeconds === 'number' ? unixSeconds : undefined) ?? fallback ?? Date.now() / 1000) * 1000).toISOString();

/** The event name (`stripe_checkout:<session id>`) of the lead a checkout records for its customer's attribution (see the top of this file). */
const STRIPE_CHECKOUT_LEAD = 'stripe_checkout';

export function mapStripeEvent(event: StripeEvent): StripeIntent {
  const o = obj(event.data?.object);
  switch (event.type) {
    case 'checkout.session.completed':
    case 'checkout.session.async_payment_succeeded': {
      if (o.payment_status !== 'paid' && o.payment_status !== 'no_payment_required') return { kind: 'ignored', why: 'unpaid' };
      const amount = typeof o.amount_total === 'number' ? o.amount_total : 0;
      const sessionId = str(o.id);
      const metadata = metadataOf(o);
      const details = obj(o.customer_details);
      const ref = str(o.client_reference_id);
      const attribution: StripeAttribution = {
        occurredAt: iso(o.created, event.created),
        clickId: [ref, str(metadata.tdm_click)].find((v) => v && CLICK.test(v)),
        couponCode: couponFrom(metadata, o.discounts),
        customer: {
          externalId: str(metadata.tdm_customer) ?? idOf(o.customer) ?? `stripe:${sessionId}`,
          email: str(details.email),
          name: str(details.name),
          country: str(obj(details.address).country),
        },
      };
      const checkoutLead = sessionId ? `${STRIPE_CHECKOUT_LEAD}:${sessionId}` : undefined;
      if (amount <= 0) return checkoutLead ? { kind: 'lead', eventName: checkoutLead, ...attribution } : { kind: 'ignored', why: 'incomplete' };
      const invoiceId = idOf(o.invoice) ?? idOf(o.payment_intent) ?? sessionId;
      if (!invoiceId || !str(o.currency)) return { kind: 'ignored', why: 'incomplete' };
      return { kind: 'sale', checkoutLead, invoiceId, paymentRef: idOf(o.payment_intent) ?? null, amount, currency: String(o.currency).toUpperCase(), ...attribution };
    }
    case 'invoice.paid': {
      const amount = typeof o.amount_paid === 'number' ? o.amount_paid : 0;
      if (amount <= 0) return { kind: 'ignored', why: 'zero_amount' };
      const invoiceId = str(o.id);
      if (!invoiceId || !str(o.currency)) return { kind: 'ignored', why: 'incomplete' };
      const metadata = metadataOf(o, o.subscription_details, obj(o.parent).subscription_details);
      const paidAt = obj(o.status_transitions).paid_at;
      return {
        kind: 'sale',
        invoiceId,
        paymentRef: idOf(o.payment_intent) ?? null,
        amount,
        currency: String(o.currency).toUpperCase(),
        occurredAt: iso(paidAt ?? o.created, event.created),
        clickId: [str(metadata.tdm_click)].find((v) => v && CLICK.test(v)),
        couponCode: couponFrom(metadata, o.discounts),
        customer: {
          externalId: str(metadata.tdm_customer) ?? idOf(o.customer) ?? `stripe:${invoiceId}`,
          email: str(o.customer_email),
          name: str(o.customer_name),
          country: str(obj(o.customer_address).country),
        },
      };
    }
    case 'charge.refunded': {
      const chargeId = str(o.id);
      const refs = [idOf(o.invoice), idOf(o.payment_intent), str(obj(o.metadata).invoiceId)].filter((r): r is string => Boolean(r));
      if (!chargeId || refs.length === 0) return { kind: 'ignored', why: 'no_reference' };
      return {
        kind: 'refund',
        refs,
        amountRefunded: typeof o.amount_refunded === 'number' ? o.amount_refunded : 0,
        currency: str(o.currency)?.toUpperCase() ?? null,
        occurredAt: iso(event.created, undefined),
        chargeId,
      };
    }
    default:
      return { kind: 'ignored', why: 'event_type' };
  }
}

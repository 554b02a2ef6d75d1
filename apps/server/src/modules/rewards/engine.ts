import type pg from 'pg';
import { accrue, bucketOf, capWindow, chainEntry, commissionKeys, GENESIS_HASH, disqualifiesReferral, evaluateLead, evaluateSale, newId, newReferral, periodStart, refundReduction, reverse, type PartnerContext } from '@tandem/core';
import type { Services } from '../../http/context.js';
import { readAlongColumns, type CommissionSummary, type CouponRead, type CustomerRewardSummary, type DeferredWrite, type HookWrites, type LeadRecorded, type RefundRecorded, type SaleRecorded } from '../tracking/hooks.js';
import { emitEvent, outboxEventInsert, type DomainEvent } from '../events/emit.js';
import { COMMISSION_COLUMNS, commissionEventData, insertCommission, postForCommission, SETTLED_OFFSET_SQL, type CommissionRow } from './commissions.js';
import { lockPartner } from '../../db/locks.js';
import { loadEnrollment, loadProgramAndEnrollment, loadProgramContext, logRewardEvent, programAndEnrollmentFrom, programAndEnrollmentSql, type ProgramAndEnrollmentRow, type ProgramContext } from './context.js';
import { chainOf } from '../ledger/post.js';

/*
 * The imperative shell around the rule engine: each conversion hook loads the partner's state as
 * of the event, calls the pure step function from @tandem/core, and writes the commission, its
 * journal entry, the reward event (for replay) and the outbox event in the tracking transaction.
 */

/** P's state for the engine: qualified referrals in the tier period and earnings in the cap period. */
export async function partnerContext(client: pg.PoolClient | pg.Pool, workspaceId: string, program: ProgramContext, partnerId: string, t: Date, earns: boolean, tags: string[]): Promise<PartnerContext> {
  const { rules } = program;
  let qualifiedAts: Date[] = [];
  if (rules.tiers) {
    const { rows } = await client.query<{ qualified_at: Date }>(
      `select qualified_at from referrals where workspace_id = $1 and program_id = $2 and partner_id = $3 and qualified and qualified_at >= $4 and qualified_at <= $5`,
      [workspaceId, program.programId, partnerId, periodStart(rules.tiers.period, t), t],
    );
    qualifiedAts = rows.map((r) => r.qualified_at);
  }
  let capPeriodEarnings = 0;
  const window = capWindow(rules, t);
  if (window) {
    const { rows } = await client.query<{ earned: string }>(`select ${capEarnedSql(1, 2, 3, 4, 5)} as earned`, [workspaceId, program.programId, partnerId, window.from, window.to]);
    capPeriodEarnings = Number(rows[0]!.earned);
  }
  return { enrollmentApproved: earns, partnerTags: tags, qualifiedAts, capPeriodEarnings };
}

/**
 * What P earned in a cap period, as a scalar subquery over the given parameter numbers: the sum of
 * `partner_monthly_earnings` (kept by a trigger on commissions) over the period's UTC months —
 * every cap period (month, quarter, year) starts and ends on a month. Constant work per sale, where
 * summing P's commissions in the period grew with P's volume.
 */
function capEarnedSql(ws: number, program: number, partner: number, from: number, to: number): string {
  return `(select coalesce(sum(earned), 0) from partner_monthly_earnings
            where workspace_id = $${ws} and program_id = $${program} and partner_id = $${partner}
              and month >= ($${from}::timestamptz at time zone 'UTC')::date and month < ($${to}::timestamptz at time zone 'UTC')::date)`;
}

const summary = (id: string, amount: number, status: CommissionSummary['status']): CommissionSummary => ({ id, amount, status });

export async function onLead(client: pg.PoolClient, services: Services, event: LeadRecorded): Promise<{ commission?: CommissionSummary; customerReward?: CustomerRewardSummary }> {
  const attribution = event.attribution;
  if (!attribution) return {};
  const program = await loadProgramContext(client, event.workspaceId, attribution.programId);
  if (!program) return {};
  const { workspaceId } = event;
  const enrollment = await loadEnrollment(client, workspaceId, program, attribution.enrollmentId, services.now());
  if (!enrollment) return {};
  const result: { commission?: CommissionSummary; customerReward?: CustomerRewardSummary } = {};
  const reward = program.rules.customerReward;
  if (reward) result.customerReward = { type: reward.type, amount: reward.amount, ...(reward.durationMonths ? { durationMonths: reward.durationMonths } : {}), code: enrollment.couponCode };
  if (!program.rules.lead) return result;

  await lockPartner(client, workspaceId, program.programId, attribution.partnerId);
  const key = commissionKeys.lead(attribution.partnerId, event.customerId);
  const existing = await client.query<{ id: string; amount: number; status: CommissionSummary['status'] }>('select id, amount, status from commissions where workspace_id = $1 and program_id = $2 and key = $3', [workspaceId, program.programId, key]);
  if (existing.rows[0]) {
    const c = existing.rows[0];
    return { ...result, commission: summary(c.id, Number(c.amount), c.status) };
  }
  const context = await partnerContext(client, workspaceId, program, attribution.partnerId, event.occurredAt, enrollment.earns, enrollment.tags);
  await logRewardEvent(client, workspaceId, program.programId, 'lead', event.leadId, {
    leadId: event.leadId, partnerId: attribution.partnerId, customerId: event.customerId, occurredAt: event.occurredAt.toISOString(), customerCountry: event.customerCountry,
    rulesVersion: program.rulesVersion, approved: enrollment.earns, partnerTags: enrollment.tags,
  });
  const evaluation = evaluateLead(program.rules, context, { occurredAt: event.occurredAt, customerCountry: event.customerCountry });
  if (!evaluation.earns) return result;
  const created = await insertCommission(client, workspaceId, program, {
    key, kind: 'lead', partnerId: attribution.partnerId, customerId: event.customerId, saleId: null, leadId: event.leadId, amount: evaluation.amount, status: 'pending',
    rulesVersion: program.rulesVersion, termsVersion: enrollment.termsVersion, occurredAt: event.occurredAt, payableAt: evaluation.payableAt, reason: evaluation.reason, explanation: evaluation.explanation,
  }, services.now());
  if (created) result.commission = summary(created.id, evaluation.amount, 'pending');
  return result;
}

const PROGRAM_AND_ENROLLMENT_READ = 'rewards.programAndEnrollment';

/** The program and enrollment `onSale` loads, read along a coupon sale's first statement instead. */
export function offerCouponReads(): CouponRead[] {
  return [
    {
      owner: PROGRAM_AND_ENROLLMENT_READ,
      sql: (ids) => {
        const { columns, from, where } = programAndEnrollmentSql(ids.workspaceId, ids.programId, ids.enrollmentId);
        return `select row_to_json(r) from (select ${columns} from ${from} where ${where}) r`;
      },
    },
  ];
}

export async function onSale(client: pg.PoolClient, services: Services, event: SaleRecorded): Promise<{ commission?: CommissionSummary } & HookWrites> {
  const attribution = event.attribution;
  if (!attribution) return {};
  const { workspaceId } = event;
  const partnerId = attribution.partnerId;
  // The program and enrollment under P's locks: read along the sale's first statement when it
  // took them (a coupon's sale), else with the locks in one round trip (the hot path of ingest).
  // Undefined when not read early; null when read and there was nothing (no such program).
  const answered = event.preLocked?.answers.get(PROGRAM_AND_ENROLLMENT_READ) as ProgramAndEnrollmentRow | null | undefined;
  const loaded =
    answered === undefined
      ? await loadProgramAndEnrollment(client, workspaceId, attribution.programId, attribution.enrollmentId, services.now(), partnerId)
      : answered && (await programAndEnrollmentFrom(client, workspaceId, attribution.programId, answered, services.now()));
  if (!loaded) return {};
  const { program, enrollment } = loaded;
  const { rules, programId } = program;

  // Everything the engine needs about P, read in one round trip under P's lock — with the reads
  // later hooks offered (fraud's partner facts), which ride on it as extra columns.
  const key = commissionKeys.sale(event.saleId);
  const tierFrom = rules.tiers ? periodStart(rules.tiers.period, event.occurredAt) : null;
  const cap = capWindow(rules, event.occurredAt);
  // An enrollment that cannot earn makes no commission, so nothing would use what others read along.
  const reads = readAlongColumns(enrollment.earns ? event.readsAlong : undefined, 11);
  const { rows } = await client.query<{ existing: { id: string; amount: number; status: CommissionSummary['status'] } | null; first_sale_at: Date | null; qualified_ats: Date[] | null; cap_earned: number | null; head: { seq: number; hash: string } | null }>(
    `select
       (select json_build_object('id', id, 'amount', amount, 'status', status) from commissions where workspace_id = $1 and program_id = $2 and key = $4) as existing,
       (select first_sale_at from referrals where workspace_id = $1 and program_id = $2 and partner_id = $3 and customer_id = $5) as first_sale_at,
       case when $6::timestamptz is null then null else
         (select array_agg(qualified_at) from referrals where workspace_id = $1 and program_id = $2 and partner_id = $3 and qualified and qualified_at >= $6 and qualified_at <= $7) end as qualified_ats,
       case when $8::timestamptz is null then null else
         ${capEarnedSql(1, 2, 3, 8, 9)} end as cap_earned,
       (select json_build_object('seq', seq, 'hash', hash) from ledger_heads where workspace_id = $1 and chain = $10) as head${reads.columns}`,
    [workspaceId, programId, partnerId, key, event.customerId, tierFrom, event.occurredAt, cap?.from ?? null, cap?.to ?? null, chainOf(programId, partnerId), ...reads.params],
  );
  const state = rows[0]!;
  if (state.existing) return { commission: summary(state.existing.id, Number(state.existing.amount), state.existing.status) };
  // Answered only when this sale makes the commission: the facts assume it was never scored.
  reads.answer(state as unknown as Record<string, unknown>);

  const firstSaleAt = state.first_sale_at;
  const evaluation = evaluateSale(
    rules,
    { enrollmentApproved: enrollment.earns, partnerTags: enrollment.tags, qualifiedAts: state.qualified_ats ?? [], capPeriodEarnings: Number(state.cap_earned ?? 0) },
    { amount: event.amount, currency: event.currency, productId: event.productId, occurredAt: event.occurredAt, customerCountry: event.customerCountry, firstSaleAt },
  );
  // The referral starts with the customer's first attributed sale with P.
  const referral = firstSaleAt ? null : newReferral(rules, { partnerId, customerId: event.customerId, saleId: event.saleId, occurredAt: event.occurredAt, amount: event.amount });
  const logged = {
    saleId: event.saleId, partnerId, customerId: event.customerId, amount: event.amount, currency: event.currency, productId: event.productId, occurredAt: event.occurredAt.toISOString(),
    customerCountry: event.customerCountry, rulesVersion: program.rulesVersion, approved: enrollment.earns, partnerTags: enrollment.tags,
  };
  const commissionId = newId('com');
  const now = services.now();
  // The journal entry, chained on the head read under the lock (none when nothing is earned or it is 0).
  const entry =
    evaluation.earns && evaluation.amount !== 0
      ? chainEntry(state.head?.hash ?? GENESIS_HASH, {
          chain: chainOf(programId, partnerId), seq: (state.head?.seq ?? 0) + 1, id: newId('jen'), at: now.toISOString(), kind: 'commission.sale', ref: key, currency: program.currency,
          postings: accrue(programId, partnerId, 'pending', evaluation.amount),
        })
      : null;

  // The writes ride on the conversion's final statement (one round trip fewer on every attributed
  // sale), which inserts the sale itself and commits: the reward event (for replay), the referral
  // when new, the commission when earned with its outbox event, and its hash-chained journal entry
  // with postings and the new chain head. Nothing before that statement reads them; a later hook
  // that must change the commission first (fraud's hold) has them written at once (writeDeferred).
  const writes: DeferredWrite[] = [];
  const write = (sql: (p: (i: number) => string) => string, params: unknown[]) =>
    writes.push((first) => ({ sql: sql((i) => `$${first + i}`), params }));
  write((p) => `insert into reward_events (workspace_id, program_id, type, subject, payload) values (${p(0)}, ${p(1)}, 'sale', ${p(2)}, ${p(3)})`, [
    workspaceId, programId, event.saleId, JSON.stringify(logged),
  ]);
  if (referral) {
    write(
      (p) => `insert into referrals (workspace_id, program_id, partner_id, customer_id, first_sale_id, first_sale_at, first_sale_amount, qualified_at)
              values (${p(0)}, ${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}, ${p(7)})`,
      [workspaceId, programId, partnerId, event.customerId, event.saleId, event.occurredAt, event.amount, referral.qualifiedAt],
    );
  }
  if (evaluation.earns) {
    write(
      (p) => `insert into commissions (workspace_id, id, program_id, partner_id, key, kind, customer_id, sale_id, amount, currency, status, rules_version, terms_version, occurred_at, payable_at, reason, explanation)
              values (${p(0)}, ${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, 'sale', ${p(5)}, ${p(6)}, ${p(7)}, ${p(8)}, 'pending', ${p(9)}, ${p(10)}, ${p(11)}, ${p(12)}, ${p(13)}, ${p(14)})`,
      [
        workspaceId, commissionId, programId, partnerId, key, event.customerId, event.saleId, evaluation.amount, program.currency, program.rulesVersion, enrollment.termsVersion,
        event.occurredAt, evaluation.payableAt, evaluation.reason, JSON.stringify(evaluation.explanation),
      ],
    );
    const created: DomainEvent = {
      workspaceId,
      type: 'commission.created',
      data: commissionEventData({ id: commissionId, program_id: programId, partner_id: partnerId, customer_id: event.customerId, sale_id: event.saleId, kind: 'sale', amount: evaluation.amount, currency: program.currency, status: 'pending' }),
    };
    // Woken with the sale's own event (same workspace): see outboxEventInsert.
    writes.push((first) => outboxEventInsert(created, first));
  }
  if (entry) {
    write(
      (p) => `insert into ledger_entries (workspace_id, chain, seq, id, program_id, partner_id, at, kind, ref, currency, postings, prev_hash, hash)
              values (${p(0)}, ${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}, 'commission.sale', ${p(7)}, ${p(8)}, ${p(9)}, ${p(10)}, ${p(11)})`,
      [workspaceId, entry.chain, entry.seq, entry.id, programId, partnerId, now, key, program.currency, JSON.stringify(entry.postings), entry.prevHash, entry.hash],
    );
    write(
      (p) => `insert into ledger_heads (workspace_id, chain, seq, hash) values (${p(0)}, ${p(1)}, ${p(2)}, ${p(3)})
              on conflict (workspace_id, chain) do update set seq = excluded.seq, hash = excluded.hash, updated_at = now()`,
      [workspaceId, entry.chain, entry.seq, entry.hash],
    );
    write(
      (p) => `insert into ledger_postings (workspace_id, entry_id, line, program_id, partner_id, account, amount)
              select ${p(0)}, ${p(1)}, line - 1, ${p(2)}, ${p(3)}, account, amount from unnest(${p(4)}::text[], ${p(5)}::bigint[]) with ordinality as l(account, amount, line)`,
      [workspaceId, entry.id, programId, partnerId, entry.postings.map((x) => x.account), entry.postings.map((x) => x.amount)],
    );
  }
  if (!evaluation.earns) return { deferred: writes };
  return { commission: summary(commissionId, evaluation.amount, 'pending'), deferred: writes };
}

/**
 * Reduces a commission by `reduction`: a reversal while unpaid, a negative `clawback` commission
 * once paid (or in a payout). Mirrors `applyReduction` of the pure replay.
 */
export async function reduceCommission(
  client: pg.PoolClient,
  workspaceId: string,
  c: CommissionRow,
  reduction: number,
  mode: 'reversal' | 'clawback',
  ref: string,
  at: Date,
  why: string,
  now: Date,
): Promise<{ commissionId: string; amount: number } | null> {
  if (reduction <= 0) return null;
  if (mode === 'reversal') {
    const { rows } = await client.query<CommissionRow>(
      `update commissions set reversed_amount = reversed_amount + $3, status = case when reversed_amount + $3 >= amount then 'reversed' else status end, updated_at = now()
        where workspace_id = $1 and id = $2 returning ${COMMISSION_COLUMNS}`,
      [workspaceId, c.id, reduction],
    );
    await postForCommission(client, workspaceId, c, 'commission.reversed', reverse(c.program_id, c.partner_id, bucketOf(c.status as 'pending'), reduction), now);
    const after = rows[0]!;
    await emitEvent(client, { workspaceId, type: 'commission.reversed', data: { ...commissionEventData({ ...after, amount: Number(after.amount) }), reversedAmount: Number(after.reversed_amount) } });
    return { commissionId: c.id, amount: -reduction };
  }
  await client.query('update commissions set clawed_back = clawed_back + $3, updated_at = now() where workspace_id = $1 and id = $2', [workspaceId, c.id, reduction]);
  const created = await insertCommission(client, workspaceId, { programId: c.program_id, currency: c.currency }, {
    key: commissionKeys.clawback(ref, c.key), kind: 'clawback', partnerId: c.partner_id, customerId: c.customer_id, saleId: c.sale_id, leadId: null, amount: -reduction, status: 'payable',
    rulesVersion: c.rules_version, termsVersion: c.terms_version, occurredAt: at, payableAt: at, reason: why,
    explanation: [{ step: 'amount', text: `clawback of ${reduction} from ${c.key} (${why})`, amount: -reduction }],
  }, now);
  return created ? { commissionId: created.id, amount: -reduction } : null;
}

export async function onRefund(client: pg.PoolClient, services: Services, event: RefundRecorded): Promise<{ adjustments: { commissionId: string; amount: number }[] }> {
  const { workspaceId, attribution } = event;
  if (!attribution) return { adjustments: [] };
  const { programId, partnerId, customerId } = attribution;
  // Only sales the engine saw have a place in the replayed stream: the sale itself, or a credit a
  // dispute's re-attribution gave the partner for it (the newest of that partner's, as replay finds it).
  const { rows: seen } = await client.query<{ type: string; payload: { adjustmentId: string; saleBase: number | null; amount: number; partnerId: string } }>(
    `(select type, payload from reward_events where workspace_id = $1 and program_id = $2 and subject = $3 and type = 'adjustment'
        and payload->>'partnerId' = $4 and coalesce((payload->>'saleBase')::bigint, 0) > 0 and (payload->>'amount')::bigint > 0 order by seq desc limit 1)
     union all
     (select type, payload from reward_events where workspace_id = $1 and program_id = $2 and subject = $3 and type = 'sale' limit 1)`,
    [workspaceId, programId, event.saleId, partnerId],
  );
  if (seen.length === 0) return { adjustments: [] };
  await logRewardEvent(client, workspaceId, programId, 'refund', event.saleId, { refundId: event.refundId, saleId: event.saleId, amount: event.amount, occurredAt: event.occurredAt.toISOString(), partnerId });
  const credit = seen.find((s) => s.type === 'adjustment')?.payload;
  // The re-attributed sale's credit is reduced as its own commission would be, in proportion to
  // the part of the sale it was earned on.
  if (credit) return reduceForRefund(client, services, event, programId, commissionKeys.adjustment(credit.adjustmentId), Number(credit.saleBase));

  const refundedTotal = event.refundedBefore + event.amount;
  const { rows: referralRows } = await client.query<{ first_sale_id: string; first_sale_at: Date; first_sale_amount: number; qualified_at: Date | null; qualified: boolean; disqualified: boolean }>(
    'select first_sale_id, first_sale_at, first_sale_amount, qualified_at, qualified, disqualified from referrals where workspace_id = $1 and program_id = $2 and partner_id = $3 and customer_id = $4',
    [workspaceId, programId, partnerId, customerId],
  );
  const referral = referralRows[0];
  if (referral && referral.first_sale_id === event.saleId) {
    const r = { partnerId, customerId, firstSaleId: referral.first_sale_id, firstSaleAt: referral.first_sale_at, firstSaleAmount: Number(referral.first_sale_amount), qualifiedAt: referral.qualified_at, qualified: referral.qualified, disqualified: referral.disqualified };
    if (disqualifiesReferral(r, refundedTotal, event.occurredAt)) {
      await client.query('update referrals set disqualified = true where workspace_id = $1 and program_id = $2 and partner_id = $3 and customer_id = $4', [workspaceId, programId, partnerId, customerId]);
    }
  }
  return reduceForRefund(client, services, event, programId, commissionKeys.sale(event.saleId), event.saleAmount);
}

/** Reduces the commission `key` for a refund, in proportion to `base` (the sale amount it was earned on). */
async function reduceForRefund(
  client: pg.PoolClient,
  services: Services,
  event: RefundRecorded,
  programId: string,
  key: string,
  base: number,
): Promise<{ adjustments: { commissionId: string; amount: number }[] }> {
  const { rows } = await client.query<CommissionRow & { settled_offset: number }>(
    `select ${COMMISSION_COLUMNS}, ${SETTLED_OFFSET_SQL} as settled_offset from commissions c where workspace_id = $1 and program_id = $2 and key = $3 for update`,
    [event.workspaceId, programId, key],
  );
  const c = rows[0];
  if (!c || c.status === 'reversed' || event.amount <= 0) return { adjustments: [] };
  const decision = refundReduction(
    { amount: Number(c.amount), alreadyReduced: Number(c.reversed_amount) + Number(c.clawed_back), status: c.status, inPayout: c.payout_id !== null || Number(c.settled_offset) > 0 },
    base,
    event.amount,
  );
  const adjustment = await reduceCommission(client, event.workspaceId, c, decision.reduction, decision.mode, event.refundId, event.occurredAt, `refund of ${event.amount} of ${base}`, services.now());
  return { adjustments: adjustment ? [adjustment] : [] };
}

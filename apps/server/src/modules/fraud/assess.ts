import type pg from 'pg';
import { newId, scoreConversion, type FraudSettings, type PartnerFacts, type RiskAssessment } from '@tandem/core';
import type { Services } from '../../http/context.js';
import { assembleConversionFacts, type ConversionToAssess } from './facts.js';
import type { DeferredWrite } from '../tracking/hooks.js';

/**
 * Scores the conversion behind a new commission and stores the assessment and every signal that
 * fired (with its evidence), in the caller's transaction. When `hold` is true the assessment
 * enters the review queue; the caller holds the commission.
 */
export async function assessCommission(
  client: pg.PoolClient,
  services: Services,
  conversion: ConversionToAssess,
  /** The program's effective settings (read with the partner's facts: see loadPartnerFacts). */
  settings: FraudSettings,
  /** The partner's facts. */
  partner: PartnerFacts,
  /**
   * Lets a quiet assessment (no signal) ride on the conversion's final statement instead of its own
   * round trip; assessments with signals, which are rare, are written at once.
   */
  defer?: (write: DeferredWrite) => void,
): Promise<RiskAssessment> {
  const facts = await assembleConversionFacts(client, conversion, settings, partner);
  const risk = scoreConversion(facts, settings);
  const now = services.now();
  const values = [conversion.workspaceId, conversion.commissionId, conversion.programId, conversion.partnerId, risk.score, risk.hold ? 'score' : null, risk.hold ? 'pending' : 'none', now];
  const insert = (p: (i: number) => string) =>
    `insert into fraud_assessments (workspace_id, commission_id, program_id, partner_id, score, held_by, review, created_at)
     values (${values.map((_, i) => p(i)).join(', ')}) on conflict (workspace_id, commission_id) do nothing`;
  if (defer && risk.signals.length === 0) defer((first) => ({ sql: insert((i) => `$${first + i}`), params: values }));
  else await client.query(insert((i) => `$${i + 1}`), values);
  for (const signal of risk.signals) {
    await client.query(
      `insert into fraud_signals (workspace_id, id, commission_id, rule_type, weight, strong, summary, evidence, created_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [conversion.workspaceId, newId('sig'), conversion.commissionId, signal.type, signal.weight, signal.strong, signal.summary, JSON.stringify(signal.evidence), now],
    );
  }
  return risk;
}

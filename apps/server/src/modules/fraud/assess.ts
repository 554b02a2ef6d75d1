import type pg from 'pg';
import { newId, scoreConversion, type FraudSettings, type RiskAssessment } from '@tandem/core';
import type { Services } from '../../http/context.js';
import { assembleConversionFacts, type ConversionToAssess } from './facts.js';
import { loadFraudSettings } from './settings.js';

/**
 * Scores the conversion behind a new commission and stores the assessment and every signal that
 * fired (with its evidence), in the caller's transaction. When `hold` is true the assessment
 * enters the review queue; the caller holds the commission.
 */
export async function assessCommission(
  client: pg.PoolClient,
  services: Services,
  conversion: ConversionToAssess,
  /** The program's effective settings when the caller already read them (saves a round trip). */
  knownSettings?: FraudSettings,
): Promise<RiskAssessment> {
  const settings = knownSettings ?? (await loadFraudSettings(client, conversion.workspaceId, conversion.programId));
  const facts = await assembleConversionFacts(client, services, conversion, settings);
  const risk = facts ? scoreConversion(facts, settings) : { score: 0, hold: false, signals: [] };
  const now = services.now();
  await client.query(
    `insert into fraud_assessments (workspace_id, commission_id, program_id, partner_id, score, held_by, review, created_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict (workspace_id, commission_id) do nothing`,
    [conversion.workspaceId, conversion.commissionId, conversion.programId, conversion.partnerId, risk.score, risk.hold ? 'score' : null, risk.hold ? 'pending' : 'none', now],
  );
  for (const signal of risk.signals) {
    await client.query(
      `insert into fraud_signals (workspace_id, id, commission_id, rule_type, weight, strong, summary, evidence, created_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [conversion.workspaceId, newId('sig'), conversion.commissionId, signal.type, signal.weight, signal.strong, signal.summary, JSON.stringify(signal.evidence), now],
    );
  }
  return risk;
}

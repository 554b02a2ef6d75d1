import type { z } from 'zod';
import { ApiError, type partnerRisk } from '@tandem/contracts';
import { resolveFraudSettings, scorePartner } from '@tandem/core';
import type { Services } from '../../http/context.js';
import { loadPartnerFacts } from './facts.js';
import { loadFraudSettings } from './settings.js';

/**
 * A partner's standing risk: the partner-scope rules (refund rate, shared payout details or login)
 * under the program's settings — or the defaults when no program is named — next to how its
 * conversions have scored and how many of its commissions are in the review queue.
 */
export async function partnerRiskOf(services: Services, workspaceId: string, partnerId: string, programId: string | undefined): Promise<z.input<typeof partnerRisk>> {
  if (programId) {
    const { rowCount } = await services.pool.query('select 1 from programs where workspace_id = $1 and id = $2', [workspaceId, programId]);
    if (!rowCount) throw new ApiError('not_found', 'Program not found');
  }
  const facts = (await loadPartnerFacts(services.pool, services, workspaceId, partnerId, programId ?? null))?.facts;
  if (!facts) throw new ApiError('not_found', 'Partner not found');
  const settings = programId ? await loadFraudSettings(services.pool, workspaceId, programId) : resolveFraudSettings();
  const risk = scorePartner({ partner: facts }, settings);
  const { rows } = await services.pool.query<{ assessed: string; held: string; average: string | null }>(
    `select count(*) as assessed, count(*) filter (where review = 'pending') as held, round(avg(score)) as average
       from fraud_assessments where workspace_id = $1 and partner_id = $2 and ($3::text is null or program_id = $3)`,
    [workspaceId, partnerId, programId ?? null],
  );
  return {
    partnerId,
    programId: programId ?? null,
    score: risk.score,
    signals: risk.signals,
    heldCommissions: Number(rows[0]?.held ?? 0),
    conversionsAssessed: Number(rows[0]?.assessed ?? 0),
    averageConversionScore: Number(rows[0]?.average ?? 0),
  };
}

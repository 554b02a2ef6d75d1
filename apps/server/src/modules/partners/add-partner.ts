import type pg from 'pg';
import { ApiError } from '@tandem/contracts';
import type { ProgramRow } from '../programs/programs.js';
import { completeApproval, getEnrollmentRow, insertEnrollment, upsertPartner, type EnrollmentActor, type EnrollmentRow } from './enrollments.js';

export interface AddPartnerInput {
  email: string;
  name: string;
  tags?: string[];
  status: 'approved' | 'invited';
  website?: string;
  destinationUrl?: string;
  /** Set when the partner is another brand (reciprocal partnerships). */
  partnerWorkspaceId?: string;
  reason?: string;
}

/**
 * The brand adds a partner directly, in the caller's transaction. An approved enrollment counts as
 * having accepted the terms in force: the brand vouches for an agreement made elsewhere.
 */
export async function addPartnerToProgram(client: pg.PoolClient, program: ProgramRow, input: AddPartnerInput, actor: EnrollmentActor, now: Date): Promise<EnrollmentRow> {
  if (program.status === 'closed') throw new ApiError('unprocessable', 'A closed program takes no new partners', [{ path: 'programId', message: 'is closed' }]);
  const partner = await upsertPartner(client, program.workspace_id, { email: input.email, name: input.name, website: input.website ?? null, partnerWorkspaceId: input.partnerWorkspaceId ?? null });
  const enrollmentId = await insertEnrollment(client, {
    workspaceId: program.workspace_id,
    programId: program.id,
    partnerId: partner.id,
    status: input.status,
    tags: [...new Set(input.tags ?? [])],
    reason: input.reason ?? (input.status === 'approved' ? 'added by the brand' : 'invited by the brand'),
    actor,
    now,
  });
  if (input.status !== 'approved') return getEnrollmentRow(client, program.workspace_id, enrollmentId);
  return completeApproval(client, program, program.workspace_id, enrollmentId, now, {
    acceptTerms: { version: program.terms_version, ipHash: null },
    ...(input.destinationUrl ? { destinationUrl: input.destinationUrl } : {}),
  });
}

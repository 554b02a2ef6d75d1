import { endpoints } from '@tandem/contracts';
import { withTransaction } from '../../db/tx.js';
import { decodeCursor, pageOf } from '../../http/pagination.js';
import type { Router } from '../../http/router.js';
import { actorOf, recordAudit } from '../audit/record.js';
import { closeApplicationsOfClosedProgram, retallyOpenApplications } from '../partners/applications.js';
import { requestActor } from '../partners/enrollments.js';
import { createProgram, getProgramRow, getProgramRowBySlug, listProgramRows, toProgram, updateProgram } from './programs.js';

/** The id recorded as the author of a version: the user, or the API key acting for the workspace. */
const authorOf = (auth: { kind: 'session'; userId: string } | { kind: 'api_key'; keyId: string }) => (auth.kind === 'session' ? auth.userId : auth.keyId);

export function programRoutes(r: Router): void {
  r.handle(endpoints.createProgram, async ({ body, auth, services }) => {
    const row = await withTransaction(services.pool, async (client) => {
      const created = await createProgram(client, auth.workspaceId, authorOf(auth), body, services.now());
      await recordAudit(client, { workspaceId: auth.workspaceId, actor: actorOf(auth), action: 'program.created', target: { type: 'program', id: created.id }, after: toProgram(created) });
      return created;
    });
    return toProgram(row);
  });

  r.handle(endpoints.listPrograms, async ({ query, auth, services }) => {
    const rows = await listProgramRows(services.pool, auth.workspaceId, { after: decodeCursor(query.cursor), limit: query.limit, status: query.status });
    return pageOf(rows.map(toProgram), query.limit, (p) => p.id);
  });

  r.handle(endpoints.getProgram, async ({ params, auth, services }) => toProgram(await getProgramRow(services.pool, auth.workspaceId, params.id)));

  r.handle(endpoints.updateProgram, async ({ params, body, auth, services, req }) => {
    const after = await withTransaction(services.pool, async (client) => {
      const change = await updateProgram(client, auth.workspaceId, params.id, authorOf(auth), body, services.now());
      const actor = actorOf(auth);
      const target = { type: 'program', id: params.id };
      if (change.after.rules_version !== change.before.rules_version) {
        await recordAudit(client, { workspaceId: auth.workspaceId, actor, action: 'program.rules_changed', target, before: { version: change.before.rules_version, rules: change.before.rules }, after: { version: change.after.rules_version, rules: change.after.rules } });
      }
      if (change.after.terms_version !== change.before.terms_version) {
        await recordAudit(client, { workspaceId: auth.workspaceId, actor, action: 'program.terms_changed', target, before: { version: change.before.terms_version }, after: { version: change.after.terms_version } });
      }
      await recordAudit(client, { workspaceId: auth.workspaceId, actor, action: 'program.updated', target, before: toProgram(change.before), after: toProgram(change.after) });
      // A smaller council or a lower quorum may already settle applications whose votes are all in.
      if (JSON.stringify(change.after.approval) !== JSON.stringify(change.before.approval)) {
        await retallyOpenApplications(client, auth.workspaceId, params.id, services.now(), req.log);
      }
      if (change.after.status === 'closed' && change.before.status !== 'closed') {
        await closeApplicationsOfClosedProgram(client, change.after, requestActor(auth), services.now());
      }
      return change.after;
    });
    return toProgram(after);
  });

  r.handle(endpoints.listRulesVersions, async ({ params, auth, services }) => {
    await getProgramRow(services.pool, auth.workspaceId, params.id);
    const { rows } = await services.pool.query<{ version: number; rules: never; created_by: string | null; created_at: Date }>(
      'select version, rules, created_by, created_at from program_rules_versions where workspace_id = $1 and program_id = $2 order by version desc',
      [auth.workspaceId, params.id],
    );
    return { data: rows.map((v) => ({ version: v.version, rules: v.rules, createdBy: v.created_by, createdAt: v.created_at.toISOString() })) };
  });

  r.handle(endpoints.listTermsVersions, async ({ params, auth, services }) => {
    await getProgramRow(services.pool, auth.workspaceId, params.id);
    const { rows } = await services.pool.query<{ version: number; text: string; created_by: string | null; created_at: Date }>(
      'select version, text, created_by, created_at from program_terms_versions where workspace_id = $1 and program_id = $2 order by version desc',
      [auth.workspaceId, params.id],
    );
    return { data: rows.map((v) => ({ version: v.version, text: v.text, createdBy: v.created_by, createdAt: v.created_at.toISOString() })) };
  });

  r.handle(endpoints.getPublicProgram, async ({ params, services }) => {
    const row = await getProgramRowBySlug(services.pool, params.slug);
    const brand = await services.pool.query<{ name: string }>('select name from workspaces where workspace_id = $1', [row.workspace_id]);
    return {
      name: row.name,
      slug: row.slug,
      brand: brand.rows[0]?.name ?? '',
      currency: row.currency,
      status: row.status,
      acceptingApplications: row.status === 'active',
      approvalMode: row.approval.mode,
      rules: row.rules,
      terms: row.terms_text === null ? null : { text: row.terms_text, version: row.terms_version },
    };
  });
}

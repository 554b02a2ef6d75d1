/**
 * Prepares the redirect benchmark's database (embedded PostgreSQL under the given data directory):
 * a workspace, an active program, an approved partner and the link `/r/bench`.
 * Usage: node --import tsx bench/redirect/seed.ts <data-dir>
 */
import { newId } from '@tandem/core';
import { startRuntime } from '../../apps/server/src/server.js';
import { createWorkspace } from '../../apps/server/src/modules/accounts/accounts.js';
import { withTransaction } from '../../apps/server/src/db/tx.js';
import { createLink } from '../../apps/server/src/modules/links/create-link.js';

export const BENCH_LINK_KEY = 'bench';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: seed.ts <data-dir>');
const runtime = await startRuntime({ 'data-dir': dataDir }, { ...process.env, DATABASE_URL: '', LOG_LEVEL: 'warn' });
try {
  await withTransaction(runtime.services.pool, async (client) => {
    // A bare owner and workspace: the benchmark needs one link, not the demo's content.
    const userId = newId('usr');
    await client.query(`insert into users (id, email, name, password_hash) values ($1, $2, 'Bench Owner', 'unusable')`, [userId, `bench-${userId}@example.com`]);
    const workspaceId = (await createWorkspace(client, 'Redirect bench', userId)).id;
    const programId = newId('prg');
    const partnerId = newId('ptn');
    const destinationUrl = 'https://example.com/';
    await client.query(
      `insert into programs (workspace_id, id, name, slug, currency, destination_url, status) values ($1, $2, 'Bench', $3, 'USD', $4, 'active')`,
      [workspaceId, programId, `bench-${programId.slice(-8)}`, destinationUrl],
    );
    await client.query(
      `insert into partners (workspace_id, id, email, name) values ($1, $2, 'bench-partner@example.com', 'Bench Partner')`,
      [workspaceId, partnerId],
    );
    await client.query(`insert into enrollments (workspace_id, id, program_id, partner_id, status) values ($1, $2, $3, $4, 'approved')`, [
      workspaceId,
      newId('enr'),
      programId,
      partnerId,
    ]);
    await client.query('delete from links where key = $1', [BENCH_LINK_KEY]);
    await createLink(client, {
      workspaceId,
      program: { id: programId, destinationUrl, allowedDomains: [] },
      partnerId,
      key: BENCH_LINK_KEY,
    });
  });
  console.log(`seeded /r/${BENCH_LINK_KEY}`);
} finally {
  await runtime.database.close();
}

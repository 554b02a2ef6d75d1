/**
 * Prints the number of clicks and the rollup total in the benchmark's embedded database.
 * Usage: node --import tsx bench/redirect/count-clicks.ts <data-dir>
 */
import path from 'node:path';
import { openDatabase } from '../../apps/server/src/db/database.js';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: count-clicks.ts <data-dir>');
// No migration: only read what the benchmark wrote, whatever the schema in the tree is by now.
const database = await openDatabase({ databaseUrl: undefined, dataDir: path.resolve(dataDir), poolSize: 2, migrate: false });
try {
  const { rows } = await database.pool.query<{ clicks: number; rolled_up: number }>(
    'select (select count(*) from clicks)::int as clicks, (select coalesce(sum(clicks), 0) from click_rollups)::int as rolled_up',
  );
  console.log(JSON.stringify(rows[0]));
} finally {
  await database.close();
}

import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestContext, uniqueEmail, type TestContext } from '../../test/harness.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(async () => ctx?.close());

it('a crash half-way through signup leaves no user, workspace, membership or key behind', async () => {
  // Make the last insert of the signup transaction fail, after user/workspace/membership rows.
  await ctx.pool.query(`create function fail_insert() returns trigger language plpgsql as $$ begin raise exception 'injected crash'; end $$`);
  await ctx.pool.query(`create trigger api_keys_crash before insert on api_keys for each row execute function fail_insert()`);
  const email = uniqueEmail('crash');
  try {
    const res = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/signup', payload: { email, password: 'long enough pw', name: 'C', workspaceName: 'Crash Co' } });
    expect(res.statusCode).toBe(500);
    expect(res.json().error.code).toBe('internal');
    expect(res.body).not.toContain('injected crash'); // internals are logged, not returned
  } finally {
    await ctx.pool.query('drop trigger api_keys_crash on api_keys');
  }
  const counts = await ctx.pool.query<{ users: number; workspaces: number; memberships: number }>(
    `select (select count(*) from users where email = $1)::int as users,
            (select count(*) from workspaces where name = 'Crash Co')::int as workspaces,
            (select count(*) from memberships m join users u on u.id = m.user_id where u.email = $1)::int as memberships`,
    [email],
  );
  expect(counts.rows[0]).toEqual({ users: 0, workspaces: 0, memberships: 0 });
  // And the same signup succeeds once the fault is gone.
  const retry = await ctx.app.inject({ method: 'POST', url: '/api/v1/auth/signup', payload: { email, password: 'long enough pw', name: 'C', workspaceName: 'Crash Co' } });
  expect(retry.statusCode).toBe(201);
});

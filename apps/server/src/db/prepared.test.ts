import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../test/harness.js';
import { statementNameFor } from './prepared.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(async () => ctx.close());

/** The statements prepared on this connection, by their text. */
async function preparedTexts(client: { query: (text: string) => Promise<{ rows: { statement: string }[] }> }): Promise<string[]> {
  const { rows } = await client.query('select statement from pg_prepared_statements');
  return rows.map((r) => r.statement);
}

describe('prepared statements', () => {
  it('names a text only after it was seen three times, with a stable digest of the text', () => {
    const text = `select ${Math.random()} where $1::int > 0`;
    expect(statementNameFor(text)).toBeUndefined();
    expect(statementNameFor(text)).toBeUndefined();
    const name = statementNameFor(text);
    expect(name).toMatch(/^tdm_[\w-]{20}$/);
    expect(statementNameFor(text)).toBe(name);
    expect(statementNameFor(`${text} `)).toBeUndefined();
  });

  it('prepares a repeated parameterised statement on the connection and keeps answering it', async () => {
    const client = await ctx.pool.connect();
    try {
      const text = 'select $1::int + 1 as n /* prepared.test */';
      const answers: number[] = [];
      for (let i = 0; i < 5; i++) answers.push((await client.query<{ n: number }>(text, [i])).rows[0]!.n);
      expect(answers).toEqual([1, 2, 3, 4, 5]);
      expect(await preparedTexts(client)).toContain(text);
      // The config form (drizzle's) and a caller's own name are honoured too.
      const config = { text: 'select $1::text as s /* prepared.test config */', values: ['x'] };
      for (let i = 0; i < 4; i++) expect((await client.query<{ s: string }>({ ...config })).rows[0]!.s).toBe('x');
      expect(await preparedTexts(client)).toContain(config.text);
    } finally {
      client.release();
    }
  });

  it('leaves statements without parameters alone (begin, set, DDL, migrations)', async () => {
    const client = await ctx.pool.connect();
    try {
      const text = 'select 41 + 1 as n /* prepared.test plain */';
      for (let i = 0; i < 5; i++) expect((await client.query<{ n: number }>(text)).rows[0]!.n).toBe(42);
      expect(await preparedTexts(client)).not.toContain(text);
    } finally {
      client.release();
    }
  });

  it('reports a statement error and stays usable', async () => {
    const client = await ctx.pool.connect();
    try {
      const bad = 'select 1 / $1::int as n /* prepared.test error */';
      for (let i = 0; i < 4; i++) await expect(client.query(bad, [0])).rejects.toThrow(/division by zero/);
      expect((await client.query<{ n: number }>(bad, [1])).rows[0]!.n).toBe(1);
    } finally {
      client.release();
    }
  });
});

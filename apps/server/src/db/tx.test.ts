import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../test/harness.js';
import { listenOnChannel } from './listen.js';
import { WAKE_COALESCE_MS, wakeAfterCommit, withTransaction } from './tx.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(async () => ctx.close());

const quiet = { warn: () => undefined };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Listens on a fresh channel; `heard` counts its notifications. */
async function listener(): Promise<{ channel: string; heard: () => number; stop: () => Promise<void> }> {
  const channel = `tx_test_${Math.random().toString(36).slice(2)}`;
  let count = 0;
  const stop = await listenOnChannel(ctx.pool.options, channel, { log: quiet, onNotice: () => (count += 1) });
  return { channel, heard: () => count, stop };
}

describe('wake-ups after commit', () => {
  it('are sent only once the transaction has committed, and not for a rollback', async () => {
    const l = await listener();
    try {
      let heardInside = -1;
      await withTransaction(ctx.pool, async (client) => {
        wakeAfterCommit(client, l.channel);
        await client.query('select 1');
        await sleep(100);
        heardInside = l.heard();
      });
      await sleep(WAKE_COALESCE_MS + 100);
      expect(heardInside).toBe(0);
      expect(l.heard()).toBe(1);

      await sleep(WAKE_COALESCE_MS);
      await expect(
        withTransaction(ctx.pool, async (client) => {
          wakeAfterCommit(client, l.channel);
          throw new Error('rolled back');
        }),
      ).rejects.toThrow('rolled back');
      await sleep(100);
      expect(l.heard()).toBe(1);
    } finally {
      await l.stop();
    }
  });

  it('folds commits within the coalescing window into one wake-up, and wakes again after it', async () => {
    const l = await listener();
    try {
      const commitWaking = () =>
        withTransaction(ctx.pool, async (client) => {
          wakeAfterCommit(client, l.channel);
          wakeAfterCommit(client, l.channel); // twice in one transaction is still one
        });
      const started = Date.now();
      await commitWaking();
      await commitWaking();
      const bothWithinWindow = Date.now() - started < WAKE_COALESCE_MS;
      await sleep(WAKE_COALESCE_MS + 100);
      // On a machine too slow to commit twice within the window, the second may send its own.
      if (bothWithinWindow) expect(l.heard()).toBe(1);
      else expect([1, 2]).toContain(l.heard());
      const before = l.heard();
      await commitWaking();
      await sleep(100);
      expect(l.heard()).toBe(before + 1);
    } finally {
      await l.stop();
    }
  });
});

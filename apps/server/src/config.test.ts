import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('has defaults that need no configuration', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ port: 3000, host: '0.0.0.0', databaseUrl: undefined, demo: 'auto', logLevel: 'info', workers: true });
    expect(loadConfig({ TANDEM_WORKERS: '0' }).workers).toBe(false);
    expect(c.dataDir).toBe(path.resolve('.tandem'));
  });

  it('lets flags override the environment', () => {
    const c = loadConfig({ PORT: '5000', TANDEM_DATA_DIR: '/a' }, { port: '4000', 'data-dir': '/b' });
    expect(c.port).toBe(4000);
    expect(c.dataDir).toBe('/b');
  });

  it('names every bad variable', () => {
    try {
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', TANDEM_SECRET: 'short' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const message = (error as Error).message;
      for (const name of ['PORT', 'DATABASE_URL', 'TANDEM_SECRET']) expect(message).toContain(name);
    }
  });

  it('bounds idle transactions at 60 s unless told otherwise (0: the server decides)', () => {
    expect(loadConfig({}).idleInTransactionTimeoutSeconds).toBe(60);
    expect(loadConfig({ DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS: '0' }).idleInTransactionTimeoutSeconds).toBe(0);
    expect(() => loadConfig({ DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS: '-1' })).toThrow(/DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS/);
  });

  it('treats empty values as unset and trims a trailing slash from the public URL', () => {
    const c = loadConfig({ DATABASE_URL: '', TANDEM_PUBLIC_URL: 'https://go.example.com/', TANDEM_TRUST_PROXY: '1' });
    expect(c.databaseUrl).toBeUndefined();
    expect(c.publicUrl).toBe('https://go.example.com');
    expect(c.trustProxy).toBe(true);
  });
});

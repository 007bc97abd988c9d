import { describe, expect, it } from 'vitest';
import { ConfigError, DEV_TOKENS, loadConfig } from '../src/process/config.js';

describe('config (CONTRACT §5 environment)', () => {
  it('uses the documented defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/enrollments',
      redisUrl: 'redis://127.0.0.1:6379',
      port: 3000,
      maxUploadBytes: 1024 ** 3,
      logLevel: 'info',
      adminToken: DEV_TOKENS.admin,
      readToken: DEV_TOKENS.read,
      devTokens: true,
    });
  });

  it('parses given values', () => {
    const c = loadConfig({
      DATABASE_URL: 'postgresql://u:p@db:5432/x',
      REDIS_URL: 'redis://cache:6380/2',
      PORT: '8080',
      MAX_UPLOAD_BYTES: '1048576',
      LOG_LEVEL: 'debug',
      ADMIN_TOKEN: 'a'.repeat(32),
      READ_TOKEN: 'r'.repeat(32),
    });
    expect(c).toMatchObject({ port: 8080, maxUploadBytes: 1048576, logLevel: 'debug', devTokens: false });
    expect(c.redisUrl).toBe('redis://cache:6380/2');
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ PORT: '', ADMIN_TOKEN: '' }).port).toBe(3000);
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['DATABASE_URL', 'mysql://x/y'],
    ['REDIS_URL', 'not a url'],
    ['MAX_UPLOAD_BYTES', '-1'],
    ['LOG_LEVEL', 'loud'],
    ['ADMIN_TOKEN', 'short'],
  ])('rejects %s=%s with one line naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    try {
      loadConfig({ [name]: value });
    } catch (err) {
      expect((err as Error).message).toContain(name);
      expect((err as Error).message).not.toContain('\n');
    }
  });

  it('refuses to run in production without both tokens', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', ADMIN_TOKEN: 'a'.repeat(20) })).toThrow(/READ_TOKEN/);
    expect(() =>
      loadConfig({ NODE_ENV: 'production', ADMIN_TOKEN: 'a'.repeat(20), READ_TOKEN: 'b'.repeat(20) }),
    ).not.toThrow();
  });

  it('refuses the same token for admin and read', () => {
    expect(() => loadConfig({ ADMIN_TOKEN: 'x'.repeat(20), READ_TOKEN: 'x'.repeat(20) })).toThrow(/differ/);
  });
});

import { describe, expect, it } from 'vitest';
import { canChangeProgramStatus } from './program-status.js';

describe('canChangeProgramStatus', () => {
  it('follows draft → active ⇄ paused → closed', () => {
    expect(canChangeProgramStatus('draft', 'active')).toBe(true);
    expect(canChangeProgramStatus('active', 'paused')).toBe(true);
    expect(canChangeProgramStatus('paused', 'active')).toBe(true);
    expect(canChangeProgramStatus('paused', 'closed')).toBe(true);
  });
  it('never leaves closed and never goes back to draft', () => {
    expect(canChangeProgramStatus('closed', 'active')).toBe(false);
    expect(canChangeProgramStatus('active', 'draft')).toBe(false);
    expect(canChangeProgramStatus('draft', 'paused')).toBe(false);
  });
  it('treats keeping the same status as no change', () => {
    expect(canChangeProgramStatus('closed', 'closed')).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { canChangeEnrollmentStatus } from './enrollment-status.js';

describe('canChangeEnrollmentStatus', () => {
  it('allows approving applications and invitations, suspending and reinstating', () => {
    expect(canChangeEnrollmentStatus('applied', 'approved')).toBe(true);
    expect(canChangeEnrollmentStatus('invited', 'approved')).toBe(true);
    expect(canChangeEnrollmentStatus('approved', 'suspended')).toBe(true);
    expect(canChangeEnrollmentStatus('suspended', 'approved')).toBe(true);
  });
  it('keeps a ban final and refuses no-op or backwards moves', () => {
    expect(canChangeEnrollmentStatus('banned', 'approved')).toBe(false);
    expect(canChangeEnrollmentStatus('approved', 'approved')).toBe(false);
    expect(canChangeEnrollmentStatus('approved', 'applied')).toBe(false);
    expect(canChangeEnrollmentStatus('approved', 'rejected')).toBe(false);
  });
});

export type EnrollmentStatus = 'invited' | 'applied' | 'approved' | 'rejected' | 'suspended' | 'banned';

/**
 * Which status changes an enrollment allows. Banned is final (a ban is the decision not to work
 * with someone again); suspended can be reinstated; a rejection can be reconsidered.
 */
const NEXT: Record<EnrollmentStatus, readonly EnrollmentStatus[]> = {
  // An invitee may apply; a rejected partner may apply again (after the program's cool-down).
  invited: ['applied', 'approved', 'rejected', 'banned'],
  applied: ['approved', 'rejected', 'banned'],
  approved: ['suspended', 'banned'],
  rejected: ['applied', 'approved', 'banned'],
  suspended: ['approved', 'banned'],
  banned: [],
};

export function canChangeEnrollmentStatus(from: EnrollmentStatus, to: EnrollmentStatus): boolean {
  return NEXT[from].includes(to);
}

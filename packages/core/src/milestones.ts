/*
 * The onboarding milestone calendar of an enrollment, generated from the program: pure, with the
 * approval time passed in, so the same enrollment always yields the same calendar.
 */

export type MilestoneKind = 'first_link_shared' | 'first_referral' | 'first_payout_threshold' | 'quarterly_review';

export interface Milestone {
  id: string;
  kind: MilestoneKind;
  title: string;
  description: string;
  /** Target day, `YYYY-MM-DD` (UTC). */
  date: string;
}

export interface MilestoneInput {
  programName: string;
  currency: string;
  /** Minor units. */
  payoutThreshold: number;
  /** Days a commission is held before it becomes payable (rules `qualification.holdDays`). */
  holdDays: number;
  /** When the enrollment was approved (the calendar starts here). */
  startsAt: Date;
}

const DAY = 86_400_000;
const QUARTERLY_REVIEWS = 4;

const isoDay = (d: Date) => d.toISOString().slice(0, 10);

/** Integer minor units as a human amount (`5000 USD` → `50.00 USD`); currencies without minor units are rare enough to ignore here. */
export function formatMinorUnits(amount: number, currency: string): string {
  const sign = amount < 0 ? '-' : '';
  const abs = Math.abs(amount);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')} ${currency}`;
}

/** The first day of each of the next `count` calendar quarters after `from` (UTC). */
export function nextQuarterStarts(from: Date, count: number): Date[] {
  const starts: Date[] = [];
  let year = from.getUTCFullYear();
  let quarter = Math.floor(from.getUTCMonth() / 3);
  for (let i = 0; i < count; i++) {
    quarter += 1;
    if (quarter === 4) {
      quarter = 0;
      year += 1;
    }
    starts.push(new Date(Date.UTC(year, quarter * 3, 1)));
  }
  return starts;
}

export function buildMilestones(input: MilestoneInput): Milestone[] {
  const start = input.startsAt.getTime();
  // A payout needs referrals, then the hold period; aim for two months plus the hold.
  const payoutTarget = new Date(start + (60 + input.holdDays) * DAY);
  const milestones: Milestone[] = [
    {
      id: 'first-link-shared',
      kind: 'first_link_shared',
      title: `Share your ${input.programName} link`,
      description: 'Post your link or coupon code where your audience will see it; the first click marks this done.',
      date: isoDay(new Date(start + 7 * DAY)),
    },
    {
      id: 'first-referral',
      kind: 'first_referral',
      title: `First referral for ${input.programName}`,
      description: 'Your first referred customer signs up or buys.',
      date: isoDay(new Date(start + 30 * DAY)),
    },
    {
      id: 'first-payout-threshold',
      kind: 'first_payout_threshold',
      title: `Reach the payout threshold (${formatMinorUnits(input.payoutThreshold, input.currency)})`,
      description: `Once your payable balance reaches ${formatMinorUnits(input.payoutThreshold, input.currency)} you are included in the next payout.`,
      date: isoDay(payoutTarget),
    },
  ];
  for (const quarterStart of nextQuarterStarts(input.startsAt, QUARTERLY_REVIEWS)) {
    const previous = new Date(Date.UTC(quarterStart.getUTCFullYear(), quarterStart.getUTCMonth() - 3, 1));
    const label = `${previous.getUTCFullYear()}-q${Math.floor(previous.getUTCMonth() / 3) + 1}`;
    milestones.push({
      id: `quarterly-review-${label}`,
      kind: 'quarterly_review',
      title: `Quarterly review of ${input.programName} (${label.toUpperCase()})`,
      description: 'Look back at clicks, referrals and earnings with the brand and agree on the next quarter.',
      date: isoDay(quarterStart),
    });
  }
  return milestones;
}

/*
 * Where money actually leaves. The only provider is `manual`: Tandem prepares the batch, the brand
 * exports the CSV, pays through its own bank, then marks each payout paid with the bank reference.
 * A provider that pretended to send money would make the ledger lie, so there is none.
 */
export interface PayoutForProvider {
  id: string;
  partnerId: string;
  amount: number;
  currency: string;
}

export interface PayoutProvider {
  readonly name: string;
  /** Hands a new batch to the provider; returns the status each payout starts in. */
  submit(batch: { id: string; payouts: PayoutForProvider[] }): Promise<'pending' | 'processing'>;
}

export const manualProvider: PayoutProvider = {
  name: 'manual',
  // Nothing is sent: the payouts wait, pending, for the brand to pay and mark them.
  submit: async () => 'pending',
};

import { useQuery } from '@tanstack/react-query';
import { endpoints } from '@tandem/contracts';
import { call } from '../api';

/**
 * Partner names by id, for tables that carry only `partnerId` (commissions, payouts, disputes).
 * Reads the first 100 enrollments; an unknown id is shown as is.
 */
export function usePartnerNames(): (partnerId: string) => string {
  const enrollments = useQuery({
    queryKey: ['enrollments', 'names'],
    queryFn: () => call(endpoints.listEnrollments, { query: { limit: 100 } }),
    staleTime: 60_000,
  });
  const names = new Map(enrollments.data?.data.map((e) => [e.partner.id, e.partner.name]));
  return (id) => names.get(id) ?? id;
}

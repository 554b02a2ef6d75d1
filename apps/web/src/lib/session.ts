import { useQuery } from '@tanstack/react-query';
import { endpoints } from '@tandem/contracts';
import { ApiFailure, call, type ResponseOf } from '../api';

export type Me = ResponseOf<typeof endpoints.me>;

/**
 * The signed-in brand user, or null when nobody is signed in (a 401 is an answer, not an error).
 * A partner's account has no workspace: /me answers 403 and the query fails with it.
 */
export function useMe() {
  return useQuery({
    queryKey: ['me'],
    queryFn: async (): Promise<Me | null> => {
      try {
        return await call(endpoints.me);
      } catch (error) {
        if (error instanceof ApiFailure && error.status === 401) return null;
        throw error;
      }
    },
    staleTime: 60_000,
  });
}

export const isPartnerOnly = (error: unknown) => error instanceof ApiFailure && error.status === 403;

/** The signed-in partner's enrollments across brands, or null when nobody is signed in. */
export function usePortalEnrollments() {
  return useQuery({
    queryKey: ['portal-enrollments'],
    queryFn: async () => {
      try {
        return await call(endpoints.listPortalEnrollments);
      } catch (error) {
        if (error instanceof ApiFailure && error.status === 401) return null;
        throw error;
      }
    },
  });
}

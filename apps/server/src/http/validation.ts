import { type z } from 'zod';
import { ApiError, type ErrorDetail } from '@tandem/contracts';

/** Zod issues → the API's `details`, one per bad field, named by dotted path. */
export function issuesToDetails(issues: readonly z.core.$ZodIssue[], prefix: string[] = []): ErrorDetail[] {
  const details: ErrorDetail[] = [];
  for (const issue of issues) {
    const base = [...prefix, ...issue.path.map(String)];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) details.push({ path: [...base, key].join('.'), message: 'is not a known field', code: 'unrecognized_keys' });
    } else if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      // Report the branch that got furthest rather than a bare "invalid input".
      const best = [...issue.errors].sort((a, b) => maxDepth(b) - maxDepth(a))[0]!;
      details.push(...issuesToDetails(best, base));
    } else {
      details.push({ path: base.join('.') || '(body)', message: issue.message, code: issue.code });
    }
  }
  return details;
}

const maxDepth = (issues: readonly z.core.$ZodIssue[]) => Math.max(0, ...issues.map((i) => i.path.length));

export function parseInput<T extends z.ZodType>(schema: T, value: unknown, what: 'body' | 'query' | 'params'): z.output<T> {
  const result = schema.safeParse(value ?? (what === 'body' ? undefined : {}));
  if (result.success) return result.data;
  if (what === 'params') throw new ApiError('not_found', 'Resource not found');
  const details = issuesToDetails(result.error.issues);
  const first = details[0];
  const message = first ? `Invalid ${what}: ${first.path} ${first.message}` : `Invalid ${what}`;
  throw new ApiError('unprocessable', message, details);
}

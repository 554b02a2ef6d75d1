import { z } from 'zod';

/** A prefixed, time-sortable id such as `ws_01jd…`. */
export const prefixedId = (prefix: string) =>
  z
    .string()
    .regex(new RegExp(`^${prefix}_[0-9a-z]{26}$`), `must be a ${prefix}_ id`)
    .describe(`Identifier with the \`${prefix}_\` prefix`);

export const email = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.email({ message: 'must be a valid email address' }).max(254));

export const isoDateTime = z.iso.datetime({ offset: true }).describe('ISO-8601 timestamp');

/** Money is always an integer amount of minor units plus an ISO-4217 currency. */
export const minorUnits = z.number().int().describe('Integer amount in minor units (cents)');
export const currency = z
  .string()
  .regex(/^[A-Z]{3}$/, 'must be an ISO-4217 code such as USD')
  .describe('ISO-4217 currency code');

export const listQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(25).describe('Page size, at most 100'),
  cursor: z.string().min(1).max(200).optional().describe('Cursor from the previous page'),
});
export type ListQuery = z.infer<typeof listQuery>;

export const page = <T extends z.ZodType>(item: T) =>
  z.object({ data: z.array(item), nextCursor: z.string().nullable() });

export const idParams = z.strictObject({ id: z.string().min(1).max(64) });

export const errorBody = z
  .object({
    error: z.object({
      code: z.enum([
        'bad_request',
        'unauthorized',
        'forbidden',
        'not_found',
        'conflict',
        'unprocessable',
        'rate_limited',
        'internal',
      ]),
      message: z.string(),
      details: z
        .array(z.object({ path: z.string(), message: z.string(), code: z.string().optional() }))
        .optional(),
    }),
  })
  .meta({ id: 'Error' });

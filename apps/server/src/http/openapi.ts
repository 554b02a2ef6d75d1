import { z } from 'zod';
import { errorBody, errorStatus, webhookPayloads, type Endpoint } from '@tandem/contracts';

type JsonSchema = Record<string, unknown>;

const toSchema = (schema: z.ZodType, io: 'input' | 'output'): JsonSchema => {
  const json = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as JsonSchema;
  delete json.$schema;
  return json;
};

const errorResponses = (endpoint: Endpoint): Record<string, unknown> => {
  const codes: (keyof typeof errorStatus)[] = ['internal'];
  if (endpoint.auth.kind !== 'none') codes.push('unauthorized', 'forbidden');
  if (endpoint.body || endpoint.query) codes.push('unprocessable', 'bad_request');
  if (endpoint.params) codes.push('not_found');
  if (endpoint.method !== 'GET') codes.push('conflict');
  const out: Record<string, unknown> = {};
  for (const code of codes) {
    out[String(errorStatus[code])] = { description: code, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
  }
  return out;
};

/** The OpenAPI 3.1 document, generated from the same Zod schemas that validate requests. */
export function buildOpenApi(endpoints: Endpoint[], version: string): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const e of endpoints) {
    const path = e.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const parameters: unknown[] = [];
    for (const [where, schema] of [['path', e.params], ['query', e.query]] as const) {
      if (!schema) continue;
      const json = toSchema(schema, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
      for (const [name, prop] of Object.entries(json.properties ?? {})) {
        parameters.push({ name, in: where, required: where === 'path' || (json.required ?? []).includes(name), schema: prop, ...(prop.description ? { description: prop.description } : {}) });
      }
    }
    const success: Record<string, unknown> = { description: e.summary };
    if (e.produces) success.content = { [e.produces]: { schema: { type: 'string' } } };
    else if (e.response) success.content = { 'application/json': { schema: toSchema(e.response, 'output') } };
    paths[path] ??= {};
    paths[path][e.method.toLowerCase()] = {
      operationId: e.operationId,
      summary: e.summary,
      ...(e.description ? { description: e.description } : {}),
      tags: [e.tag],
      ...(e.auth.kind === 'none' ? { security: [] } : {}),
      ...(e.auth.kind === 'scope' ? { 'x-required-scope': e.auth.scope } : {}),
      ...(parameters.length ? { parameters } : {}),
      ...(e.body ? { requestBody: { required: true, content: { 'application/json': { schema: toSchema(e.body, 'input') } } } } : {}),
      responses: { [String(e.status)]: success, ...errorResponses(e) },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Tandem API',
      version,
      description: 'Cross-promotion partnerships and referral programs: tracking, rewards, ledger, payouts.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: '/' }],
    components: {
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'A workspace secret key, `tdm_sk_…`' },
        session: { type: 'apiKey', in: 'cookie', name: 'tandem_session' },
      },
      schemas: { Error: toSchema(errorBody, 'output') },
    },
    security: [{ apiKey: [] }, { session: [] }],
    paths,
    // Outbound webhook bodies, signed per Standard Webhooks (see createWebhook).
    webhooks: Object.fromEntries(
      Object.entries(webhookPayloads).map(([type, schema]) => [
        type,
        { post: { summary: type, requestBody: { content: { 'application/json': { schema: toSchema(schema, 'output') } } }, responses: { '200': { description: 'Any 2xx acknowledges the delivery' } } } },
      ]),
    ),
  };
}

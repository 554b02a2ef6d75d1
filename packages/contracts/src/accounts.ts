import { z } from 'zod';
import { defineEndpoint } from './endpoint.js';
import { email, isoDateTime, listQuery, page, idParams } from './common.js';

export const password = z
  .string()
  .min(10, 'must be at least 10 characters')
  .max(200, 'must be at most 200 characters');

export const role = z.enum(['owner', 'admin', 'member']);
export type Role = z.infer<typeof role>;
export const scope = z.enum(['read', 'write', 'admin']);
export type Scope = z.infer<typeof scope>;

export const user = z.object({ id: z.string(), email: z.string(), name: z.string() }).meta({ id: 'User' });
export const workspace = z
  .object({ id: z.string(), name: z.string(), slug: z.string() })
  .meta({ id: 'Workspace' });
export const workspaceMembership = workspace.extend({ role }).meta({ id: 'WorkspaceMembership' });

export const signupBody = z.strictObject({
  email,
  password,
  name: z.string().trim().min(1, 'is required').max(120),
  workspaceName: z.string().trim().min(1, 'is required').max(120),
});
export const signupResponse = z.object({
  user,
  workspace,
  apiKey: z.string().describe('Secret API key with every scope; shown once'),
  csrfToken: z.string().describe('Send as `x-csrf-token` on cookie-authenticated writes'),
});

export const loginBody = z.strictObject({ email, password: z.string().min(1).max(200) });
export const loginResponse = z.object({
  user,
  workspaces: z.array(workspaceMembership),
  csrfToken: z.string(),
});

export const passwordResetRequestBody = z.strictObject({ email });
export const passwordResetRequestResponse = z.object({
  email: z.string().describe('The address as understood; the answer is the same whether or not an account uses it'),
});
export const passwordResetConfirmBody = z.strictObject({
  token: z.string().min(1, 'is required').max(200),
  password,
  revokeApiKeys: z
    .boolean()
    .default(false)
    .describe("Also revoke every API key of the workspaces the account owns (or is the only admin of): for someone who did not make this account, or fears that someone else used it"),
});
export const passwordResetConfirmResponse = z.object({
  email: z.string().describe('The account whose password was set: sign in with it'),
  revokedApiKeys: z.number().int().min(0).describe('API keys revoked by this reset (asked for with `revokeApiKeys`)'),
  apiKeysToReview: z
    .number()
    .int()
    .min(0)
    .describe(
      'When the address was not verified before this reset, the API keys still valid in the workspaces the account owns (or is the only admin of): whoever held the account until now could have made them, so they are worth a look in Settings; 0 for an address that was already verified',
    ),
});

export const meResponse = z.object({
  user: user.nullable(),
  workspace: workspaceMembership.nullable(),
  workspaces: z.array(workspaceMembership),
  auth: z.object({ kind: z.enum(['session', 'api_key']), scopes: z.array(scope) }),
});

export const apiKey = z
  .object({
    id: z.string(),
    name: z.string(),
    scopes: z.array(scope),
    prefix: z.string().describe('First characters of the key, to recognise it'),
    createdAt: isoDateTime,
    lastUsedAt: isoDateTime.nullable(),
    revokedAt: isoDateTime.nullable(),
  })
  .meta({ id: 'ApiKey' });
export const createApiKeyBody = z.strictObject({
  name: z.string().trim().min(1, 'is required').max(80),
  scopes: z.array(scope).min(1, 'needs at least one scope').max(3),
});
export const createdApiKey = z.object({
  id: z.string(),
  name: z.string(),
  scopes: z.array(scope),
  key: z.string().describe('The secret key (`tdm_sk_…`); shown only in this response'),
});

export const member = z
  .object({ userId: z.string(), email: z.string(), name: z.string(), role, joinedAt: isoDateTime })
  .meta({ id: 'Member' });
export const invitation = z
  .object({
    id: z.string(),
    email: z.string(),
    role,
    status: z.enum(['pending', 'accepted', 'revoked', 'expired']),
    expiresAt: isoDateTime,
    createdAt: isoDateTime,
  })
  .meta({ id: 'Invitation' });
export const createInvitationBody = z.strictObject({
  email,
  role: z.enum(['admin', 'member']).default('member'),
});
export const createdInvitation = invitation.extend({
  acceptUrl: z.string().describe('Link the invitee opens; also written to the server log'),
});
export const acceptInvitationBody = z.strictObject({
  token: z.string().min(10).max(200),
  name: z.string().trim().min(1).max(120).optional(),
  password: password.optional(),
});
export const createWorkspaceBody = z.strictObject({ name: z.string().trim().min(1).max(120) });
export const switchWorkspaceBody = z.strictObject({ workspaceId: z.string().min(1).max(64) });

const tag = 'Accounts';
export const accountEndpoints = {
  signup: defineEndpoint({
    method: 'POST', path: '/api/v1/auth/signup', operationId: 'signup', tag, auth: { kind: 'none' },
    summary: 'Create a user, a workspace owned by it, a session and an all-scope API key',
    body: signupBody, status: 201, response: signupResponse,
  }),
  login: defineEndpoint({
    method: 'POST', path: '/api/v1/auth/login', operationId: 'login', tag, auth: { kind: 'none' },
    summary: 'Start a session (sets an HttpOnly cookie)', body: loginBody, status: 200, response: loginResponse,
  }),
  requestPasswordReset: defineEndpoint({
    method: 'POST', path: '/api/v1/auth/password-reset', operationId: 'requestPasswordReset', tag, auth: { kind: 'none' },
    summary: 'Mail a one-time password reset link (valid for an hour) to the address, if an account uses it',
    description: 'Always answers 202, whether or not an account uses the address. At most one link a minute and five a day are mailed per account; further requests are accepted and send nothing.',
    body: passwordResetRequestBody, status: 202, response: passwordResetRequestResponse,
  }),
  confirmPasswordReset: defineEndpoint({
    method: 'POST', path: '/api/v1/auth/password-reset/confirm', operationId: 'confirmPasswordReset', tag, auth: { kind: 'none' },
    summary: "Set a new password with a mailed reset token: confirms the email and ends all of the account's sessions",
    description:
      "With `revokeApiKeys`, the API keys of the workspaces the account owns or is the only admin of are revoked too (each audited as `api_key.revoked`). Otherwise they keep working, and when the address was not verified before the reset (the account may have been signed up by someone else with this address) their number comes back as `apiKeysToReview`.",
    body: passwordResetConfirmBody, status: 200, response: passwordResetConfirmResponse,
  }),
  logout: defineEndpoint({
    method: 'POST', path: '/api/v1/auth/logout', operationId: 'logout', tag, auth: { kind: 'none' },
    summary: 'End the current session', status: 204,
  }),
  me: defineEndpoint({
    method: 'GET', path: '/api/v1/me', operationId: 'me', tag, auth: { kind: 'scope', scope: 'read' },
    summary: 'Who is calling: user, current workspace and scopes', status: 200, response: meResponse,
  }),
  createWorkspace: defineEndpoint({
    method: 'POST', path: '/api/v1/workspaces', operationId: 'createWorkspace', tag, auth: { kind: 'user' },
    summary: 'Create another workspace owned by the signed-in user', body: createWorkspaceBody, status: 201,
    response: workspaceMembership,
  }),
  switchWorkspace: defineEndpoint({
    method: 'POST', path: '/api/v1/auth/switch-workspace', operationId: 'switchWorkspace', tag,
    auth: { kind: 'user' }, summary: 'Make another of your workspaces the current one',
    body: switchWorkspaceBody, status: 200, response: workspaceMembership,
  }),
  createApiKey: defineEndpoint({
    method: 'POST', path: '/api/v1/api-keys', operationId: 'createApiKey', tag, auth: { kind: 'scope', scope: 'admin' },
    summary: 'Create an API key (the secret is shown once)', body: createApiKeyBody, status: 201,
    response: createdApiKey,
  }),
  listApiKeys: defineEndpoint({
    method: 'GET', path: '/api/v1/api-keys', operationId: 'listApiKeys', tag, auth: { kind: 'scope', scope: 'admin' },
    summary: 'List API keys (never their secrets)', query: listQuery, status: 200, response: page(apiKey),
  }),
  revokeApiKey: defineEndpoint({
    method: 'DELETE', path: '/api/v1/api-keys/:id', operationId: 'revokeApiKey', tag,
    auth: { kind: 'scope', scope: 'admin' }, summary: 'Revoke an API key; it stops working at once',
    params: idParams, status: 204,
  }),
  listMembers: defineEndpoint({
    method: 'GET', path: '/api/v1/members', operationId: 'listMembers', tag, auth: { kind: 'scope', scope: 'read' },
    summary: 'Members of the current workspace', query: listQuery, status: 200, response: page(member),
  }),
  createInvitation: defineEndpoint({
    method: 'POST', path: '/api/v1/invitations', operationId: 'createInvitation', tag,
    auth: { kind: 'scope', scope: 'admin' }, summary: 'Invite a teammate by email',
    body: createInvitationBody, status: 201, response: createdInvitation,
  }),
  listInvitations: defineEndpoint({
    method: 'GET', path: '/api/v1/invitations', operationId: 'listInvitations', tag,
    auth: { kind: 'scope', scope: 'admin' }, summary: 'Invitations of the current workspace',
    query: listQuery, status: 200, response: page(invitation),
  }),
  revokeInvitation: defineEndpoint({
    method: 'DELETE', path: '/api/v1/invitations/:id', operationId: 'revokeInvitation', tag,
    auth: { kind: 'scope', scope: 'admin' }, summary: 'Revoke a pending invitation', params: idParams, status: 204,
  }),
  acceptInvitation: defineEndpoint({
    method: 'POST', path: '/api/v1/invitations/accept', operationId: 'acceptInvitation', tag, auth: { kind: 'none' },
    summary: 'Accept an invitation: signed in, or creating the account with name and password',
    body: acceptInvitationBody, status: 200, response: loginResponse,
  }),
  removeMember: defineEndpoint({
    method: 'DELETE', path: '/api/v1/members/:id', operationId: 'removeMember', tag,
    auth: { kind: 'scope', scope: 'admin' }, summary: 'Remove a member (not the last owner)', params: idParams,
    status: 204,
  }),
} as const;

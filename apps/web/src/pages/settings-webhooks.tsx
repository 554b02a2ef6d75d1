import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { endpoints, EVENT_TYPES } from '@tandem/contracts';
import { ApiFailure, call, urlOf, type BodyOf, type ResponseOf } from '../api';
import { formatDateTime } from '../lib/format';
import {
  Badge,
  Button,
  Card,
  CopyButton,
  EmptyState,
  ErrorNote,
  Field,
  Modal,
  Pager,
  Skeleton,
  Table,
  usePager,
  useToast,
} from '../ui/kit';

type CreatedWebhook = ResponseOf<typeof endpoints.createWebhook>;

function Deliveries({ webhookId }: { webhookId: string }) {
  const queryClient = useQueryClient();
  const deliveries = useQuery({
    queryKey: ['webhook-deliveries', webhookId],
    queryFn: () => call(endpoints.listWebhookDeliveries, { params: { id: webhookId }, query: { limit: 10 } }),
  });
  const redeliver = useMutation({
    mutationFn: (deliveryId: string) => call(endpoints.redeliverWebhook, { params: { id: webhookId, deliveryId } }),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['webhook-deliveries', webhookId] }),
  });
  if (deliveries.isPending) return <Skeleton rows={2} />;
  if (deliveries.error) return <ErrorNote error={deliveries.error} />;
  if (deliveries.data.data.length === 0)
    return <p className="text-sm text-slate-500">No deliveries yet. Send a test event to check your endpoint.</p>;
  return (
    <ul className="space-y-2 text-sm" aria-label="Deliveries">
      {deliveries.data.data.map((d) => (
        <li key={d.id} className="flex flex-wrap items-center justify-between gap-2">
          <span>
            <Badge tone={d.status === 'delivered' ? 'green' : d.status === 'failed' ? 'rose' : 'amber'}>{d.status}</Badge> {d.eventType}{' '}
            <span className="text-xs text-slate-500">
              {d.attempts.length} attempt{d.attempts.length === 1 ? '' : 's'}
              {d.attempts.at(-1)?.statusCode
                ? ` · last HTTP ${d.attempts.at(-1)?.statusCode}`
                : d.attempts.at(-1)?.error
                  ? ` · ${d.attempts.at(-1)?.error}`
                  : ''}
            </span>
          </span>
          <Button variant="ghost" className="px-2 py-1 text-xs" onClick={() => redeliver.mutate(d.id)}>
            Redeliver
          </Button>
        </li>
      ))}
    </ul>
  );
}

export function WebhooksCard() {
  const queryClient = useQueryClient();
  const toast = useToast();
  const pager = usePager();
  const webhooks = useQuery({
    queryKey: ['webhooks', pager.cursor],
    queryFn: () => call(endpoints.listWebhooks, { query: { cursor: pager.cursor } }),
  });
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<CreatedWebhook>();
  const [open, setOpen] = useState<string>();
  const create = useMutation({
    mutationFn: (body: BodyOf<typeof endpoints.createWebhook>) => call(endpoints.createWebhook, { body }),
    onSuccess: (w) => {
      setCreating(false);
      setCreated(w);
      void queryClient.invalidateQueries({ queryKey: ['webhooks'] });
    },
  });
  const test = useMutation({
    mutationFn: (id: string) => call(endpoints.testWebhook, { params: { id } }),
    onSuccess: (_r, id) => (toast('Test event queued'), void queryClient.invalidateQueries({ queryKey: ['webhook-deliveries', id] })),
  });
  const toggle = useMutation({
    mutationFn: ({ id, enabled }: { id: string; enabled: boolean }) => call(endpoints.updateWebhook, { params: { id }, body: { enabled } }),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['webhooks'] }),
  });
  const remove = useMutation({
    mutationFn: (id: string) => call(endpoints.deleteWebhook, { params: { id } }),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['webhooks'] }),
  });
  const err = (f: string) => (create.error instanceof ApiFailure ? create.error.fieldError(f) : undefined);
  return (
    <Card title="Webhooks" actions={<Button onClick={() => setCreating(true)}>Add endpoint</Button>}>
      {webhooks.isPending ? (
        <Skeleton rows={2} />
      ) : webhooks.error ? (
        <ErrorNote error={webhooks.error} />
      ) : webhooks.data.data.length === 0 ? (
        <EmptyState title="No webhook endpoints">
          Add an endpoint to receive sales, commissions and payouts as signed HTTP requests.
        </EmptyState>
      ) : (
        <>
          <Table
            label="Webhook endpoints"
            rows={webhooks.data.data}
            rowKey={(w) => w.id}
            columns={[
              {
                header: 'URL',
                cell: (w) => (
                  <button
                    className="break-all text-left font-medium text-indigo-700 hover:underline dark:text-indigo-300"
                    onClick={() => setOpen(open === w.id ? undefined : w.id)}
                  >
                    {w.url}
                  </button>
                ),
              },
              { header: 'Events', cell: (w) => <span className="text-xs">{w.events.join(', ')}</span> },
              {
                header: 'Status',
                cell: (w) =>
                  w.enabled ? (
                    <Badge tone="green">enabled</Badge>
                  ) : (
                    <Badge tone="rose">{w.disabledReason ? 'disabled by Tandem' : 'disabled'}</Badge>
                  ),
              },
              {
                header: '',
                cell: (w) => (
                  <span className="flex gap-1">
                    <Button variant="secondary" className="px-2 py-1 text-xs" onClick={() => test.mutate(w.id)}>
                      Send test
                    </Button>
                    <Button variant="ghost" className="px-2 py-1 text-xs" onClick={() => toggle.mutate({ id: w.id, enabled: !w.enabled })}>
                      {w.enabled ? 'Disable' : 'Enable'}
                    </Button>
                    <Button
                      variant="ghost"
                      className="px-2 py-1 text-xs"
                      onClick={() => remove.mutate(w.id)}
                      aria-label={`Delete ${w.url}`}
                    >
                      Delete
                    </Button>
                  </span>
                ),
              },
            ]}
          />
          <Pager pager={pager} nextCursor={webhooks.data.nextCursor} />
          {open && (
            <div className="mt-4 rounded-lg bg-slate-50 p-4 dark:bg-slate-800">
              <h3 className="mb-2 text-sm font-semibold">Recent deliveries</h3>
              <Deliveries webhookId={open} />
            </div>
          )}
        </>
      )}
      <Modal open={creating} title="Add a webhook endpoint" onClose={() => setCreating(false)}>
        <form
          className="space-y-4"
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            const f = new FormData(e.currentTarget);
            const events = f.getAll('events').map(String) as BodyOf<typeof endpoints.createWebhook>['events'];
            create.mutate({
              url: String(f.get('url')),
              events,
              ...(f.get('description') ? { description: String(f.get('description')) } : {}),
            });
          }}
        >
          <Field label="Endpoint URL" name="url" type="url" placeholder="https://example.com/hooks/tandem" required error={err('url')} />
          <fieldset>
            <legend className="mb-1 text-sm font-medium">Events</legend>
            <div className="grid grid-cols-2 gap-1 text-sm">
              <label className="flex items-center gap-2">
                <input type="checkbox" name="events" value="*" defaultChecked /> all events
              </label>
              {EVENT_TYPES.map((t) => (
                <label key={t} className="flex items-center gap-2">
                  <input type="checkbox" name="events" value={t} /> {t}
                </label>
              ))}
            </div>
            {err('events') && (
              <p role="alert" className="mt-1 text-xs text-rose-600">
                {err('events')}
              </p>
            )}
          </fieldset>
          <Field label="Description" name="description" />
          {create.error && !err('url') && !err('events') ? <ErrorNote error={create.error} /> : null}
          <Button type="submit" busy={create.isPending}>
            Add endpoint
          </Button>
        </form>
      </Modal>
      <Modal open={Boolean(created)} title="Copy your signing secret now" onClose={() => setCreated(undefined)}>
        <p className="mb-3 text-sm text-slate-600 dark:text-slate-400">
          Verify each delivery's signature with this secret. It is shown only once.
        </p>
        <div className="flex items-center gap-2 rounded-lg bg-slate-100 p-3 dark:bg-slate-800">
          <code className="flex-1 break-all text-xs">{created?.secret}</code>
          {created && <CopyButton value={created.secret} />}
        </div>
      </Modal>
    </Card>
  );
}

export function AuditCard() {
  const pager = usePager();
  const audit = useQuery({
    queryKey: ['audit', pager.cursor],
    queryFn: () => call(endpoints.listAudit, { query: { cursor: pager.cursor, limit: 15 } }),
  });
  return (
    <Card
      title="Audit log"
      actions={
        <a className="text-sm font-medium text-indigo-600 hover:underline" href={urlOf(endpoints.exportAuditCsv)} download>
          Export CSV
        </a>
      }
    >
      {audit.isPending ? (
        <Skeleton rows={3} />
      ) : audit.error ? (
        <ErrorNote error={audit.error} />
      ) : audit.data.data.length === 0 ? (
        <p className="text-sm text-slate-500">Changes to programs, partners, keys and payouts are recorded here.</p>
      ) : (
        <>
          <Table
            label="Audit log"
            rows={audit.data.data}
            rowKey={(a) => a.id}
            columns={[
              { header: 'When', cell: (a) => formatDateTime(a.createdAt) },
              { header: 'Action', cell: (a) => <code className="text-xs">{a.action}</code> },
              { header: 'Target', cell: (a) => (a.target ? <code className="text-xs">{a.target.id}</code> : '—') },
              { header: 'By', cell: (a) => `${a.actor.kind}${a.actor.id ? ` ${a.actor.id}` : ''}` },
            ]}
          />
          <Pager pager={pager} nextCursor={audit.data.nextCursor} />
        </>
      )}
    </Card>
  );
}

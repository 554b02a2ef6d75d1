import { useState } from 'react';
import { Link, useNavigate } from '@tanstack/react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { endpoints, type CreateProgramBody, type ProgramStatus } from '@tandem/contracts';
import { ApiFailure, call } from '../api';
import { formatDate, formatMoney } from '../lib/format';
import {
  Badge,
  Button,
  Card,
  EmptyState,
  ErrorNote,
  Field,
  Modal,
  PageHeader,
  Pager,
  SelectField,
  Skeleton,
  Table,
  usePager,
  useToast,
} from '../ui/kit';

export const statusTone: Record<ProgramStatus, 'green' | 'amber' | 'slate' | 'rose'> = {
  active: 'green',
  draft: 'slate',
  paused: 'amber',
  closed: 'rose',
};

/** A one-line human summary of what a partner earns under a rules document. */
export function describeRules(rules: CreateProgramBody['rules'], currency: string): string {
  const parts: string[] = [];
  if (rules?.sale)
    parts.push(
      rules.sale.type === 'percentage' ? `${rules.sale.amount}% of each sale` : `${formatMoney(rules.sale.amount, currency)} per sale`,
    );
  if (rules?.lead) parts.push(`${formatMoney(rules.lead.amount, currency)} per lead`);
  if (rules?.tiers) parts.push(`${rules.tiers.levels.length} tiers`);
  if (rules?.bonuses?.length) parts.push(`${rules.bonuses.length} bonus${rules.bonuses.length > 1 ? 'es' : ''}`);
  return parts.join(' · ') || 'No rewards yet';
}

export function CreateProgramModal({ open, onClose }: { open: boolean; onClose: () => void }) {
  const navigate = useNavigate();
  const toast = useToast();
  const queryClient = useQueryClient();
  const create = useMutation({
    mutationFn: (body: CreateProgramBody) => call(endpoints.createProgram, { body }),
    onSuccess: async (program) => {
      toast(`Program “${program.name}” created`);
      await queryClient.invalidateQueries({ queryKey: ['programs'] });
      onClose();
      await navigate({ to: '/programs/$programId', params: { programId: program.id } });
    },
  });
  const err = (f: string) => (create.error instanceof ApiFailure ? create.error.fieldError(f) : undefined);
  const named = ['name', 'currency', 'destinationUrl', 'rules.sale.amount'].some((f) => err(f));
  return (
    <Modal open={open} title="New program" onClose={onClose}>
      <form
        className="space-y-4"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          const form = new FormData(e.currentTarget);
          const percent = Number(form.get('percent'));
          create.mutate({
            name: String(form.get('name')),
            currency: String(form.get('currency')),
            destinationUrl: String(form.get('destinationUrl')),
            status: 'active',
            rules: { sale: { type: 'percentage', amount: percent } },
          });
        }}
      >
        <Field label="Program name" name="name" placeholder="Creator program" required error={err('name')} />
        <Field
          label="Where partner links send visitors"
          name="destinationUrl"
          type="url"
          placeholder="https://shop.example.com"
          required
          error={err('destinationUrl')}
        />
        <div className="grid grid-cols-2 gap-3">
          <SelectField label="Currency" name="currency" defaultValue="USD" error={err('currency')}>
            {['USD', 'EUR', 'GBP', 'CAD', 'AUD', 'JPY'].map((c) => (
              <option key={c}>{c}</option>
            ))}
          </SelectField>
          <Field
            label="Commission per sale (%)"
            name="percent"
            type="number"
            min={0}
            max={100}
            step="0.01"
            defaultValue={20}
            error={err('rules.sale.amount')}
          />
        </div>
        <p className="text-xs text-slate-500">Tiers, bonuses, lead rewards and holds are set in the rules editor next.</p>
        {create.error && !named ? <ErrorNote error={create.error} /> : null}
        <Button type="submit" busy={create.isPending}>
          Create program
        </Button>
      </form>
    </Modal>
  );
}

export function ProgramsPage() {
  const pager = usePager();
  const [creating, setCreating] = useState(false);
  const programs = useQuery({
    queryKey: ['programs', pager.cursor],
    queryFn: () => call(endpoints.listPrograms, { query: { cursor: pager.cursor } }),
  });
  return (
    <>
      <PageHeader
        title="Programs"
        description="What partners promote and what they earn for it."
        actions={<Button onClick={() => setCreating(true)}>New program</Button>}
      />
      <Card>
        {programs.isPending ? (
          <Skeleton rows={4} />
        ) : programs.error ? (
          <ErrorNote error={programs.error} />
        ) : programs.data.data.length === 0 ? (
          <EmptyState title="No programs yet" action={<Button onClick={() => setCreating(true)}>Create your first program</Button>}>
            A program sets the reward rules, the terms and where partner links go. Create one, then invite partners to it.
          </EmptyState>
        ) : (
          <>
            <Table
              label="Programs"
              rows={programs.data.data}
              rowKey={(p) => p.id}
              columns={[
                {
                  header: 'Program',
                  cell: (p) => (
                    <Link
                      to="/programs/$programId"
                      params={{ programId: p.id }}
                      className="font-medium text-indigo-700 hover:underline dark:text-indigo-300"
                    >
                      {p.name}
                    </Link>
                  ),
                },
                { header: 'Status', cell: (p) => <Badge tone={statusTone[p.status]}>{p.status}</Badge> },
                { header: 'Rewards', cell: (p) => describeRules(p.rules, p.currency) },
                { header: 'Approval', cell: (p) => p.approval.mode },
                { header: 'Created', cell: (p) => formatDate(p.createdAt) },
              ]}
            />
            <Pager pager={pager} nextCursor={programs.data.nextCursor} />
          </>
        )}
      </Card>
      <CreateProgramModal open={creating} onClose={() => setCreating(false)} />
    </>
  );
}

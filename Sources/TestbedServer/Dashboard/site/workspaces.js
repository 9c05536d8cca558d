// For hub staff signed in with the admin key: pilot workspaces (tenants) and their keys.
import { api } from './api.js';
import { attempt } from './feedback.js';
import { fill, h, table, section, formatDate } from './dom.js';

export async function workspacesPage(main, { signIn }) {
  const tenants = await api.get('/api/v1/tenants');
  const id = h('input', { id: 'tenant-id', type: 'text', required: true, maxlength: 64, placeholder: 'sawmill-north' });
  const displayName = h('input', { id: 'tenant-name', type: 'text', placeholder: 'Sawmill North Ltd' });
  const issued = h('div', { id: 'issued-key', 'aria-live': 'polite' });
  const form = h('form', { class: 'card' }, h('h2', {}, 'New pilot workspace'),
    h('p', { class: 'hint' }, 'One workspace per company: its tables, jobs and models are seen by its keys only.'),
    h('div', { class: 'fields' },
      h('div', {}, h('label', { for: 'tenant-id' }, 'Short name ', h('span', { class: 'hint' }, '(letters, digits, - _ .)')), id),
      h('div', {}, h('label', { for: 'tenant-name' }, 'Company'), displayName)),
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'tenant-create' }, 'Create workspace')), issued);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    attempt(async () => {
      const body = { id: id.value.trim() };
      if (displayName.value.trim()) body.display_name = displayName.value.trim();
      const key = await api.post('/api/v1/tenants', body);
      fill(issued, h('div', { class: 'success' },
        h('p', {}, `Workspace '${key.tenant}' created. Its API key, shown this once (only a digest is kept):`),
        h('code', { class: 'key', id: 'issued-api-key' }, key.api_key),
        h('div', { class: 'actions' }, h('button', { type: 'button', id: 'sign-in-as', onclick: () => attempt(() => signIn(key.api_key)) }, `Sign in to '${key.tenant}'`))));
    });
  });
  fill(main, h('h1', {}, 'Pilot workspaces'), form,
    section('Workspaces', tenants.length ? h('div', { class: 'scroll' }, table(['Short name', 'Company', 'Created', 'Active keys'], tenants.map((tenant) => [
      tenant.id, tenant.display_name, formatDate(tenant.created_at), String(tenant.keys.filter((key) => !key.revoked_at).length),
    ]))) : h('p', { class: 'muted' }, 'No workspace yet.')));
}

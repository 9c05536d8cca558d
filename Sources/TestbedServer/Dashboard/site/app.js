// The dashboard's shell: sign-in, navigation, the page router and the error banner.
import { api, session } from './api.js';
import { showError, clearError, attempt } from './feedback.js';
import { fill, h } from './dom.js';
import { datasetsPage, datasetPage } from './datasets.js';
import { jobPage } from './jobs.js';
import { modelsPage, galleryPage, modelPage } from './models.js';
import { versionsPage } from './versions.js';
import { monitoringPage } from './monitoring.js';
import { loadCatalog, forgetCatalog } from './catalog.js';
import { tryPage } from './try.js';
import { workspacesPage } from './workspaces.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');

/// Who the key belongs to: `{role: "admin"}` or `{role: "tenant", tenant, display_name}`.
let identity = null;
/// Aborted when the person leaves a page, so that its polling stops.
let pageLife = new AbortController();

const tenantRoutes = [
  [/^#\/datasets$/, datasetsPage],
  [/^#\/datasets\/([^/]+)$/, datasetPage],
  [/^#\/jobs\/([^/]+)$/, jobPage],
  [/^#\/models$/, modelsPage],
  [/^#\/models\/([^/]+)(?:\/versions\/(\d+))?$/, modelPage],
  [/^#\/models\/([^/]+)\/versions$/, versionsPage],
  [/^#\/models\/([^/]+)\/monitoring(?:\/(\d+))?$/, monitoringPage],
  [/^#\/models\/([^/]+)\/try$/, tryPage],
  [/^#\/gallery$/, galleryPage],
];
const adminRoutes = [[/^#\/workspaces$/, workspacesPage]];

function drawNav() {
  const links = !identity ? []
    : identity.role === 'admin' ? [['#/workspaces', 'Workspaces']]
      : [['#/datasets', 'Data'], ['#/models', 'Models'], ['#/gallery', 'Demonstrations']];
  const here = location.hash;
  fill(nav,
    ...links.map(([href, title]) => h('a', { href, 'aria-current': here.startsWith(href) ? 'page' : null }, title)),
    identity ? h('span', { class: 'who' }, identity.role === 'admin' ? 'hub administrator' : `workspace ${identity.display_name || identity.tenant}`) : null,
    identity ? h('button', { type: 'button', onclick: signOut }, 'Sign out') : null);
}

function signInPage() {
  const field = h('input', { id: 'api-key', type: 'password', autocomplete: 'off', required: true, spellcheck: 'false', placeholder: 'tb_…' });
  const form = h('form', { class: 'card signin' },
    h('h1', {}, 'Sign in'),
    h('p', {}, 'Enter the API key of your pilot workspace. The hub gave it to you when the workspace was made; hub staff can sign in with the administrator key to make workspaces.'),
    h('label', { for: 'api-key' }, 'API key'), field,
    h('p', { class: 'hint' }, 'The key is kept in this browser tab only and forgotten when you close it or sign out.'),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Sign in')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    await attempt(() => signIn(field.value.trim()));
  });
  fill(main, h('p', { class: 'lead' }, 'Turn a table from your own systems into a model that predicts a number or a category, see how good it is and why it decides as it does.'), form);
  field.focus();
}

async function signIn(key) {
  session.key = key;
  try {
    identity = await api.get('/api/v1/me');
    await loadCatalog();
  } catch (error) {
    session.key = null;
    identity = null;
    throw error;
  }
  const home = identity.role === 'admin' ? '#/workspaces' : '#/datasets';
  if (location.hash === home) await route(); else location.hash = home;
}

function signOut() {
  session.key = null;
  identity = null;
  forgetCatalog();
  clearError();
  location.hash = '#/';
  route();
}

async function route() {
  pageLife.abort();
  pageLife = new AbortController();
  clearError();
  if (session.key && !identity) {
    try {
      identity = await api.get('/api/v1/me');
      await loadCatalog();
    } catch (error) { session.key = null; identity = null; showError(error); }
  }
  drawNav();
  if (!identity) { signInPage(); return; }
  const routes = identity.role === 'admin' ? adminRoutes : tenantRoutes;
  const home = identity.role === 'admin' ? '#/workspaces' : '#/datasets';
  for (const [pattern, page] of routes) {
    const match = location.hash.match(pattern);
    if (!match) continue;
    fill(main, h('p', { class: 'muted' }, 'Loading…'));
    main.setAttribute('aria-busy', 'true');
    try {
      await page(main, ...match.slice(1).map((part) => (part === undefined ? undefined : decodeURIComponent(part))), { signal: pageLife.signal, identity, signIn });
    } catch (error) {
      fill(main, h('p', {}, h('a', { href: home }, 'Back to the start')));
      showError(error);
    } finally {
      main.removeAttribute('aria-busy');
    }
    return;
  }
  location.replace(home);
}

window.addEventListener('hashchange', route);
window.addEventListener('unhandledrejection', (event) => showError(event.reason instanceof Error ? event.reason : new Error(String(event.reason))));
route();

// A model's versions: which one serves, promoting and rolling back, deleting old ones, and
// training a new version on a newer upload of the same table.
import { api } from './api.js';
import { attempt } from './feedback.js';
import { fill, h, table, section, formatNumber, formatDate } from './dom.js';
import { algorithmTitle, metricLabel } from './catalog.js';
import { modelTabs } from './models.js';
import { jobPanel } from './jobs.js';

const activeStates = new Set(['queued', 'running']);

export async function versionsPage(main, name, { signal }) {
  const base = `/api/v1/models/${encodeURIComponent(name)}`;
  const [card, datasets, jobs] = await Promise.all([api.get(base), api.get('/api/v1/datasets'), api.get('/api/v1/jobs')]);
  const datasetNames = new Map(datasets.map((dataset) => [dataset.id, dataset.name]));
  const status = h('div', { id: 'versions-status', 'aria-live': 'polite' });
  const list = h('div', { class: 'scroll', id: 'versions' });
  const lead = h('p', { class: 'lead', id: 'versions-lead' });
  let series = null;

  async function drawVersions() {
    series = await api.get(`${base}/versions`);
    if (signal.aborted) return;
    const metric = series.versions[0]?.primary_metric;
    const rows = [...series.versions].reverse().map((entry) => versionRow(entry));
    const element = table(['Version', '', 'Algorithm', [metricLabel(metric), ' (cross-validated)'], 'Trained on', 'Created', ''], rows, { id: 'versions-table' });
    // Each row says which version it is, for the browser test and for styling the serving one.
    [...element.querySelectorAll('tbody tr')].forEach((row, index) => {
      const entry = [...series.versions].reverse()[index];
      row.dataset.version = String(entry.version);
      if (entry.serving) row.classList.add('serving');
    });
    fill(list, element);
    lead.textContent = series.demonstration
      ? 'Version 1, read-only: demonstration models cannot be retrained, promoted or deleted.'
      : `Version ${series.serving_version} of ${series.versions.length} serves predictions. A new version serves only once it is promoted; promoting an earlier one rolls back to it.`;
  }

  function versionRow(entry) {
    const link = h('a', { href: `#/models/${encodeURIComponent(name)}/versions/${entry.version}` }, `Version ${entry.version}`);
    const mark = entry.serving ? h('span', { class: 'badge serving' }, 'Serving') : '';
    const score = entry.score === null || entry.score === undefined ? '–'
      : `${formatNumber(entry.score)}${entry.score_std !== null && entry.score_std !== undefined ? ` ± ${formatNumber(entry.score_std, 2)}` : ''}`;
    const source = entry.dataset ? h('a', { href: `#/datasets/${encodeURIComponent(entry.dataset)}` }, datasetNames.get(entry.dataset) ?? entry.dataset)
      : series.demonstration ? 'the hub\'s data' : '(deleted table)';
    return [link, mark, algorithmTitle(entry.algorithm), score, source, formatDate(entry.created_at), series.demonstration ? '' : versionActions(entry)];
  }

  function versionActions(entry) {
    if (entry.serving) return h('span', { class: 'hint' }, 'answers predictions');
    const rollback = entry.version < series.serving_version;
    const promote = h('button', { type: 'button', class: rollback ? 'secondary promote' : 'promote', dataset: { version: String(entry.version) },
      onclick: () => attempt(async () => {
        const answer = await api.post(`${base}/versions/${entry.version}/promote`);
        await drawVersions();
        fill(status, h('p', { class: 'success', id: 'promotion-result' },
          `Version ${answer.serving_version} now answers every prediction of '${answer.model}' (until now: version ${answer.previous_version}).`));
      }) }, rollback ? `Roll back to version ${entry.version}` : `Promote version ${entry.version}`);
    const remove = h('button', { type: 'button', class: 'danger delete-version', dataset: { version: String(entry.version) },
      'aria-label': `Delete version ${entry.version}`,
      onclick: () => attempt(async () => {
        if (!confirm(`Delete version ${entry.version} of '${name}' and erase its file? Its monitoring windows and logged predictions go too.`)) return;
        await api.delete(`${base}/versions/${entry.version}`);
        await drawVersions();
        fill(status, h('p', { class: 'success' }, `Version ${entry.version} deleted.`));
      }) }, 'Delete');
    return h('div', { class: 'actions tight' }, promote, remove);
  }

  await drawVersions();
  const running = jobs.find((job) => job.model_name === name && activeStates.has(job.state));
  fill(main,
    h('p', {}, h('a', { href: card.demonstration ? '#/gallery' : '#/models' }, card.demonstration ? '← Demonstrations' : '← Models')),
    h('h1', {}, `${name}: versions`),
    modelTabs(name, 'versions'),
    lead,
    status,
    section('Versions', list),
    series.demonstration ? null : retrainSection(card, datasets, { base, signal, running, onTrained: drawVersions }));
}

/// The uploads a new version can be trained on: the same table uploaded again (same name), or
/// any table with every input the model uses and its target; newest first.
async function compatibleDatasets(card, datasets) {
  const origin = datasets.find((dataset) => dataset.id === card.source.dataset);
  const needed = [...card.features.map((feature) => feature.name), card.target];
  const newestFirst = [...datasets].sort((a, b) => new Date(b.created_at) - new Date(a.created_at));
  const checked = await Promise.all(newestFirst.map(async (dataset) => {
    if (origin && dataset.name === origin.name) return { dataset, reason: 'the same table' };
    if (dataset.columns < needed.length) return null;
    const full = await api.get(`/api/v1/datasets/${encodeURIComponent(dataset.id)}`);
    const columns = new Set(full.profile.columns.map((column) => column.name));
    return needed.every((column) => columns.has(column)) ? { dataset, reason: 'has every column the model uses' } : null;
  }));
  return { origin, choices: checked.filter(Boolean) };
}

function retrainSection(card, datasets, { base, signal, running, onTrained }) {
  const holder = section('Train a new version', h('p', { class: 'muted' }, 'Looking for tables to train on…'));
  const follow = h('div', { id: 'retrain-job' });
  const followJob = (job) => fill(follow, jobPanel(job, { signal, onFinished: async (finished) => { if (finished.state === 'succeeded') await onTrained(); } }));
  compatibleDatasets(card, datasets).then(({ origin, choices }) => {
    if (signal.aborted) return;
    const heading = h('h2', {}, 'Train a new version');
    const explain = h('p', { class: 'hint' }, `Trained as version ${card.version} was: to predict ${card.target} from the same inputs, with the same algorithms, validation and coverage. `
      + `Its card then compares it with version ${card.version} on the same folds.`);
    if (!choices.length) {
      fill(holder, heading, explain, h('p', { class: 'notice' }, `No uploaded table has the columns this model needs (${card.features.map((feature) => feature.name).join(', ')} and ${card.target}). `,
        h('a', { href: '#/datasets' }, 'Upload a newer export'), ' first.'), follow);
      return;
    }
    const select = h('select', { id: 'retrain-dataset' }, choices.map(({ dataset, reason }) => h('option', { value: dataset.id },
      `${dataset.name}: ${dataset.rows} rows, uploaded ${formatDate(dataset.created_at)}${dataset.id === origin?.id ? ` (version ${card.version} was trained on it)` : ` (${reason})`}`)));
    select.value = (choices.find(({ dataset }) => dataset.id !== origin?.id) ?? choices[0]).dataset.id;
    const promote = h('input', { type: 'checkbox', id: 'retrain-promote' });
    const button = h('button', { type: 'submit', id: 'retrain-start' }, 'Train a new version');
    const form = h('form', { id: 'retrain-form' }, explain,
      h('label', { for: 'retrain-dataset' }, 'Table to train on'), select,
      h('label', { class: 'inline', for: 'retrain-promote' }, promote, 'Make it serve as soon as it is trained (promote when done)'),
      h('div', { class: 'actions' }, button));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      button.disabled = true;
      attempt(async () => {
        const job = await api.post(`${base}/retrain`, { dataset: select.value, promote: promote.checked });
        followJob(job);
      }).finally(() => { button.disabled = false; });
    });
    fill(holder, heading, form, follow);
  }).catch((error) => fill(holder, h('h2', {}, 'Train a new version'), h('p', { class: 'error' }, error.message)));
  if (running) followJob(running);
  return holder;
}

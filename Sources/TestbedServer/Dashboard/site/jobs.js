// A training job, live: progress, the leaderboard as candidates finish, cancel.
import { api } from './api.js';
import { attempt, showError } from './feedback.js';
import { fill, h, table, section, formatNumber, formatPercent, formatDate, formatSeconds } from './dom.js';
import { algorithmTitle, metricLabel, higherIsBetter } from './catalog.js';

const stateTitles = {
  queued: 'Waiting for a free training slot', running: 'Training', succeeded: 'Finished', failed: 'Failed',
  cancelled: 'Cancelled', interrupted: 'Interrupted (the server stopped while it ran)',
};
const finalStates = new Set(['succeeded', 'failed', 'cancelled', 'interrupted']);

export function parameterText(parameters) {
  const entries = Object.entries(parameters ?? {});
  return entries.length ? entries.map(([name, value]) => `${name} ${formatNumber(Number(value))}`).join(', ') : 'defaults';
}

/// Candidates best first: metric mean ± spread over the folds, and time per fold.
export function leaderboardTable(entries, metric, { bestFirst = true } = {}) {
  const rows = entries.map((entry, index) => {
    const cells = [String(index + 1), algorithmTitle(entry.algorithm), parameterText(entry.params),
      `${formatNumber(entry.metrics[metric])} ± ${formatNumber(entry.metrics_std?.[metric] ?? NaN, 2)}`, formatSeconds(entry.fit_seconds)];
    return cells;
  });
  const element = table(['#', 'Algorithm', 'Settings', metricLabel(metric), 'Time per fold'], rows, { class: 'leaderboard' });
  if (bestFirst && rows.length) element.querySelector('tbody tr').classList.add('best');
  return element;
}

function ranked(leaderboard, metric) {
  const sign = higherIsBetter(metric) ? -1 : 1;
  return [...leaderboard].sort((a, b) => sign * (a.metrics[metric] - b.metrics[metric]));
}

export async function jobPage(main, id, { signal }) {
  const job = await api.get(`/api/v1/jobs/${encodeURIComponent(id)}`);
  const heading = h('h1', {}, 'Training');
  const panel = jobPanel(job, { signal, onChange: (current) => { heading.textContent = `Training ${current.model_name} to predict ${current.target}`; } });
  fill(main, h('p', {}, h('a', { href: '#/datasets' }, '← Your data')), heading, panel);
}

/// A job followed live: its state, a progress bar, cancel, the outcome and the leaderboard as
/// candidates finish; polled every half second until it ends or `signal` aborts (the person
/// left the page). `onChange(job)` is called at each redraw, `onFinished(job)` once at the end.
export function jobPanel(initial, { signal, onChange = () => {}, onFinished = () => {} }) {
  let job = initial;
  const id = job.id;
  const state = h('p', { class: 'lead', id: 'job-state', 'aria-live': 'polite' });
  const bar = h('progress', { max: 1, value: 0, 'aria-label': 'Training progress', id: 'job-progress' });
  const message = h('p', { class: 'hint', id: 'job-message' });
  const outcome = h('div', { id: 'job-outcome' });
  const cancel = h('button', { type: 'button', class: 'danger', id: 'job-cancel' }, 'Cancel training');
  const board = h('div', { class: 'scroll', id: 'job-leaderboard' });
  cancel.addEventListener('click', () => attempt(async () => {
    job = await api.post(`/api/v1/jobs/${encodeURIComponent(id)}/cancel`);
    draw();
  }));

  function draw() {
    const metric = job.task === 'regression' ? 'rmse' : job.task === 'classification' ? 'accuracy'
      : Object.keys(job.leaderboard?.[0]?.metrics ?? {}).includes('rmse') ? 'rmse' : 'accuracy';
    state.textContent = `${stateTitles[job.state] ?? job.state}${job.state === 'running' ? ` — ${formatPercent(job.progress, 0)}` : ''}`;
    bar.value = job.progress ?? 0;
    message.textContent = job.message ?? '';
    cancel.hidden = finalStates.has(job.state);
    const entries = ranked(job.leaderboard ?? [], metric);
    fill(board, entries.length ? leaderboardTable(entries, metric) : h('p', { class: 'muted' }, 'No candidate has finished yet.'));
    if (job.state === 'succeeded') {
      const model = encodeURIComponent(job.model);
      fill(outcome, h('div', { class: 'success' }, h('strong', {}, job.model_version > 1 ? `Version ${job.model_version} is ready${job.promote ? ' and serves' : ''}. ` : 'The model is ready. '),
        h('a', { class: 'button', id: 'open-model', href: `#/models/${model}` }, 'Open the model'), ' ',
        job.model_version > 1 ? h('a', { class: 'button secondary', href: `#/models/${model}/versions` }, 'Its versions') : null, ' ',
        h('a', { class: 'button secondary', href: `#/models/${model}/try` }, 'Try it')));
    } else if (job.state === 'failed') {
      fill(outcome, h('div', { class: 'error' }, h('strong', {}, 'Training failed: '), job.error ?? 'no reason was given'));
    } else if (finalStates.has(job.state)) {
      fill(outcome, h('p', { class: 'notice' }, `${stateTitles[job.state]}; started ${formatDate(job.created_at)}. Start it again from the dataset page.`),
        h('a', { href: `#/datasets/${encodeURIComponent(job.dataset)}` }, 'Back to the dataset'));
    }
    onChange(job);
  }

  draw();
  // Polled, not awaited: the page is ready while the job runs; leaving the page stops the polling.
  (async () => {
    while (!finalStates.has(job.state) && !signal.aborted) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      if (signal.aborted) return;
      job = await api.get(`/api/v1/jobs/${encodeURIComponent(id)}`);
      if (!signal.aborted) draw();
    }
    if (!signal.aborted) await onFinished(job);
  })().catch(showError);

  return h('div', { class: 'job', dataset: { job: id } }, state, bar, message, h('div', { class: 'actions' }, cancel), outcome, section('Candidates so far', board));
}

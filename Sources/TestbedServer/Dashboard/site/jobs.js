// A training job, live: progress, the leaderboard as candidates finish, cancel.
import { api } from './api.js';
import { attempt, showError } from './feedback.js';
import { fill, h, table, section, formatNumber, formatPercent, formatDate, formatSeconds, algorithmTitles, metricTitles } from './dom.js';

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
    const cells = [String(index + 1), `${algorithmTitles[entry.algorithm] ?? entry.algorithm}`, parameterText(entry.params),
      `${formatNumber(entry.metrics[metric])} ± ${formatNumber(entry.metrics_std?.[metric] ?? NaN, 2)}`, formatSeconds(entry.fit_seconds)];
    return cells;
  });
  const element = table(['#', 'Algorithm', 'Settings', metricTitles[metric] ?? metric, 'Time per fold'], rows, { class: 'leaderboard' });
  if (bestFirst && rows.length) element.querySelector('tbody tr').classList.add('best');
  return element;
}

function ranked(leaderboard, metric) {
  const lowerIsBetter = metric === 'rmse';
  return [...leaderboard].sort((a, b) => (lowerIsBetter ? a.metrics[metric] - b.metrics[metric] : b.metrics[metric] - a.metrics[metric]));
}

export async function jobPage(main, id, { signal }) {
  const heading = h('h1', {}, 'Training');
  const state = h('p', { class: 'lead', id: 'job-state', 'aria-live': 'polite' });
  const bar = h('progress', { max: 1, value: 0, 'aria-label': 'Training progress', id: 'job-progress' });
  const message = h('p', { class: 'hint', id: 'job-message' });
  const outcome = h('div', { id: 'job-outcome' });
  const cancel = h('button', { type: 'button', class: 'danger', id: 'job-cancel' }, 'Cancel training');
  const board = h('div', { class: 'scroll', id: 'job-leaderboard' });
  fill(main, h('p', {}, h('a', { href: '#/datasets' }, '← Your data')), heading, state, bar, message,
    h('div', { class: 'actions' }, cancel), outcome, section('Candidates so far', board));

  let job = await api.get(`/api/v1/jobs/${encodeURIComponent(id)}`);
  cancel.addEventListener('click', () => attempt(async () => {
    job = await api.post(`/api/v1/jobs/${encodeURIComponent(id)}/cancel`);
    draw();
  }));

  function draw() {
    const metric = job.task === 'regression' ? 'rmse' : job.task === 'classification' ? 'accuracy'
      : Object.keys(job.leaderboard?.[0]?.metrics ?? {}).includes('rmse') ? 'rmse' : 'accuracy';
    heading.textContent = `Training ${job.model_name} to predict ${job.target}`;
    state.textContent = `${stateTitles[job.state] ?? job.state}${job.state === 'running' ? ` — ${formatPercent(job.progress, 0)}` : ''}`;
    bar.value = job.progress ?? 0;
    message.textContent = job.message ?? '';
    cancel.hidden = finalStates.has(job.state);
    const entries = ranked(job.leaderboard ?? [], metric);
    fill(board, entries.length ? leaderboardTable(entries, metric) : h('p', { class: 'muted' }, 'No candidate has finished yet.'));
    if (job.state === 'succeeded') {
      fill(outcome, h('div', { class: 'success' }, h('strong', {}, 'The model is ready. '),
        h('a', { class: 'button', id: 'open-model', href: `#/models/${encodeURIComponent(job.model)}` }, 'Open the model'), ' ',
        h('a', { class: 'button secondary', href: `#/models/${encodeURIComponent(job.model)}/try` }, 'Try it')));
    } else if (job.state === 'failed') {
      fill(outcome, h('div', { class: 'error' }, h('strong', {}, 'Training failed: '), job.error ?? 'no reason was given'));
    } else if (finalStates.has(job.state)) {
      fill(outcome, h('p', { class: 'notice' }, `${stateTitles[job.state]}; started ${formatDate(job.created_at)}. Start it again from the dataset page.`),
        h('a', { href: `#/datasets/${encodeURIComponent(job.dataset)}` }, 'Back to the dataset'));
    }
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
  })().catch(showError);
}

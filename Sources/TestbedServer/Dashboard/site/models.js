// Models: the list, the gallery of demonstrations and the model page with its card and charts.
import { api } from './api.js';
import { attempt } from './feedback.js';
import { fill, h, table, facts, section, formatNumber, formatPercent, formatDate } from './dom.js';
import { algorithmTitle, algorithmDescription, metricInfo, metricLabel, metricRank, metricTitle } from './catalog.js';
import { horizontalBars, scatter, lineChart, confusionMatrix } from './charts.js';
import { leaderboardTable, parameterText } from './jobs.js';

const stateTitles = { queued: 'waiting', running: 'training', succeeded: 'finished', failed: 'failed', cancelled: 'cancelled', interrupted: 'interrupted' };

function scoreText(model) {
  if (model.score === null || model.score === undefined) return '–';
  return model.primary_metric === 'accuracy' ? `${formatPercent(model.score)} right` : `±${formatNumber(model.score)} typical error`;
}

export async function modelsPage(main) {
  const [models, jobs] = await Promise.all([api.get('/api/v1/models'), api.get('/api/v1/jobs')]);
  const own = models.filter((model) => !model.demonstration);
  const modelRows = (list) => list.map((model) => [
    h('a', { href: `#/models/${encodeURIComponent(model.name)}` }, model.name), model.target,
    model.task === 'regression' ? 'a number' : 'a category', algorithmTitle(model.algorithm), `version ${model.version}`, scoreText(model),
    h('a', { href: `#/models/${encodeURIComponent(model.name)}/try` }, 'Try it'),
  ]);
  const titles = ['Model', 'Predicts', 'Kind', 'Algorithm', 'Serving', 'How good (cross-validated)', ''];
  fill(main, h('h1', {}, 'Models'),
    section('Your models', own.length ? h('div', { class: 'scroll' }, table(titles, modelRows(own), { id: 'own-models' }))
      : h('p', { class: 'muted' }, 'None yet: upload a table under ', h('a', { href: '#/datasets' }, 'Data'), ' and train one.')),
    section('Training jobs', jobs.length ? h('div', { class: 'scroll' }, table(['Model', 'Predicts', 'State', 'Progress', 'Started'], jobs.map((job) => [
      h('a', { href: `#/jobs/${encodeURIComponent(job.id)}` }, job.model_name), job.target, stateTitles[job.state] ?? job.state,
      formatPercent(job.progress, 0), formatDate(job.created_at),
    ]))) : h('p', { class: 'muted' }, 'No training yet.')),
    section('Demonstration models', h('div', { class: 'scroll' }, table(titles, modelRows(models.filter((model) => model.demonstration))))));
}

/// The first paragraph of a story written in Markdown, without its heading.
function firstParagraph(story) {
  const paragraphs = (story ?? '').split(/\n\s*\n/).map((part) => part.trim()).filter((part) => part && !part.startsWith('#'));
  return (paragraphs[0] ?? '').replace(/\s+/g, ' ').replace(/`/g, '');
}

export async function galleryPage(main) {
  const models = (await api.get('/api/v1/models')).filter((model) => model.demonstration);
  const cards = await Promise.all(models.map((model) => api.get(`/api/v1/models/${encodeURIComponent(model.name)}`)));
  fill(main, h('h1', {}, 'Demonstrations'),
    h('p', { class: 'lead' }, 'Models the hub trained on real data from companies like yours. Open one to see how good it is and why it decides as it does, or try it with your own values.'),
    h('div', { class: 'gallery' }, cards.map((card) => h('article', { class: 'card' },
      h('h2', {}, card.name), h('p', {}, firstParagraph(card.story)),
      h('p', { class: 'hint' }, plainSummary(card)),
      h('div', { class: 'actions' },
        h('a', { class: 'button', href: `#/models/${encodeURIComponent(card.name)}` }, 'Open'),
        h('a', { class: 'button secondary', href: `#/models/${encodeURIComponent(card.name)}/try` }, 'Try it'))))));
}

function listText(names, limit = 6) {
  return names.length <= limit ? names.join(', ') : `${names.slice(0, limit).join(', ')} and ${names.length - limit} more`;
}

/// The model card in one or two sentences a non-specialist can read.
export function plainSummary(card) {
  const inputs = card.features.map((feature) => feature.name);
  const order = card.validation?.scheme === 'time' ? `, on later rows than it learned from (${card.folds} folds in time order)`
    : card.validation?.scheme === 'group' ? `, on ${card.validation.group_column} groups it did not learn from (${card.folds}-fold group cross-validation)` : null;
  const folds = order ?? (card.folds ? `, on rows it did not learn from (${card.folds}-fold cross-validation)` : '');
  if (card.task === 'regression') {
    const rmse = card.metrics.rmse?.mean, r2 = card.metrics.r2?.mean;
    return `Predicts ${card.target}, a number, from ${inputs.length} inputs: ${listText(inputs)}. Typical error ±${formatNumber(rmse)}${folds}`
      + `${r2 !== undefined ? `; it explains ${formatPercent(r2, 0)} of the variation in ${card.target}` : ''}.`;
  }
  const accuracy = card.metrics.accuracy?.mean;
  return `Predicts ${card.target}, one of ${card.classes.length} categories (${listText(card.classes)}), from ${inputs.length} inputs: ${listText(inputs)}. `
    + `Right in ${formatPercent(accuracy, 0)} of cases${folds}.`;
}

function metricsTable(card) {
  // The primary metric first, then the core's order.
  const names = Object.keys(card.metrics).sort((a, b) => (a === card.primary_metric ? -1 : b === card.primary_metric ? 1 : metricRank(a) - metricRank(b) || a.localeCompare(b)));
  return table(['Measure', 'Mean over the folds', 'Spread (std)'], names.map((name) => [
    [h('strong', {}, metricLabel(name)), metricInfo(name) ? h('div', { class: 'hint' }, metricInfo(name).description) : null],
    formatNumber(card.metrics[name].mean), formatNumber(card.metrics[name].std ?? NaN, 2),
  ]), { id: 'metrics-table' });
}

function charts(card) {
  const parts = [];
  if (card.predicted_vs_actual?.length) {
    parts.push(section('Predicted against actual', h('p', { class: 'hint' }, `Each dot is a row of the table, predicted by a model that had not seen it. On the dashed line the prediction is exact.`),
      scatter(card.predicted_vs_actual.map((point) => ({ x: point.actual, y: point.predicted })),
        { label: `Predicted against actual ${card.target}`, xLabel: `actual ${card.target}`, yLabel: `predicted ${card.target}` })));
  }
  if (card.confusion_matrix) {
    parts.push(section('Which categories it confuses', h('div', { class: 'scroll' }, confusionMatrix(card.confusion_matrix, card.classes))));
  }
  if (card.reliability?.length) {
    const bins = card.reliability.filter((bin) => bin.count > 0);
    parts.push(section('Can its probabilities be taken at their word?',
      h('p', { class: 'hint' }, 'When the model says 70%, does it happen 70% of the time? Points on the dashed line mean yes; the dot size is how many predictions fell in the bin.'),
      lineChart(bins.map((bin) => ({ x: bin.mean_predicted, y: bin.observed_frequency })),
        { label: 'Reliability: predicted probability against observed frequency', xLabel: 'predicted probability', yLabel: 'observed frequency',
          xDomain: [0, 1], yDomain: [0, 1], diagonal: true, sizes: bins.map((bin) => bin.count) })));
  }
  if (card.importance?.length) {
    const items = card.importance.slice(0, 15).map((item) => ({ label: item.feature, value: item.permutation }));
    parts.push(section('What it relies on', h('p', { class: 'hint' }, `How much worse the model gets on unseen rows when an input's values are shuffled: the larger, the more it relies on that input.`),
      horizontalBars(items, { label: 'Feature importance', valueLabel: `increase of the ${card.task === 'regression' ? 'RMSE' : 'log loss'} when shuffled` })));
  }
  return parts;
}

const schemeTitles = { random: 'Random folds', time: 'In time order', group: 'Whole groups held out' };

/// How the figures were measured, what random folds would have said, and the warnings.
function validationSection(card) {
  if (!card.validation) return null;
  const { validation } = card;
  const metric = card.primary_metric;
  const rows = [['How the rows were split', `${schemeTitles[validation.scheme] ?? validation.scheme}: ${validation.reason}`]];
  if (card.random_folds) {
    rows.push(['The same model on random folds', `${metricTitle(metric)} ${formatNumber(card.random_folds.metrics[metric])} (in time order: ${formatNumber(card.metrics[metric]?.mean)})`]);
  }
  if (card.conformal?.half_width !== undefined) {
    rows.push(['Prediction ranges', `the prediction ± ${formatNumber(card.conformal.half_width)} holds the actual value in ${formatPercent(card.conformal.coverage, 0)} of new cases`]);
  } else if (card.conformal?.minimum_probability !== undefined) {
    rows.push(['Prediction sets', `the categories with a probability of at least ${formatPercent(card.conformal.minimum_probability, 0)} hold the actual one in ${formatPercent(card.conformal.coverage, 0)} of new cases`]);
  }
  return section('How it was checked', h('div', { id: 'model-validation' }, facts(rows)),
    card.warnings?.length ? h('div', { class: 'notice' }, h('strong', {}, 'Before you trust these figures:'),
      h('ul', { class: 'warnings', id: 'model-warnings' }, card.warnings.map((warning) => h('li', {}, warning)))) : null);
}

/// The tabs of a model: its card, its versions, its monitoring, trying it.
export function modelTabs(name, active) {
  const base = `#/models/${encodeURIComponent(name)}`;
  const tabs = [['card', base, 'Model card'], ['versions', `${base}/versions`, 'Versions'], ['monitoring', `${base}/monitoring`, 'Monitoring'], ['try', `${base}/try`, 'Try it']];
  return h('nav', { class: 'tabs', 'aria-label': `Pages of ${name}` },
    tabs.map(([key, href, title]) => h('a', { href, id: `tab-${key}`, 'aria-current': key === active ? 'page' : null }, title)));
}

/// Which version a card is, and which one serves.
function versionLine(card) {
  if (card.demonstration) return h('p', { class: 'hint', id: 'model-version' }, 'Version 1, read-only (a demonstration model).');
  const serving = card.version === card.serving_version;
  return h('p', { class: serving ? 'hint' : 'notice', id: 'model-version' },
    serving ? `Version ${card.version} of ${card.versions}, the one that serves predictions. ` : `Version ${card.version} of ${card.versions}; version ${card.serving_version} serves predictions. `,
    card.versions > 1 || !serving ? h('a', { href: `#/models/${encodeURIComponent(card.name)}/versions` }, 'All versions') : null);
}

/// On the card of a version that does not serve: make it serve (a rollback when it is earlier).
function promoteButton(card) {
  if (card.demonstration) return null;
  const rollback = card.version < card.serving_version;
  return h('button', { type: 'button', id: 'promote-this', onclick: () => attempt(async () => {
    await api.post(`/api/v1/models/${encodeURIComponent(card.name)}/versions/${card.version}/promote`);
    location.hash = `#/models/${encodeURIComponent(card.name)}/versions`;
  }) }, rollback ? `Roll back to version ${card.version}` : `Promote version ${card.version}`);
}

/// An ensemble's members, heaviest first: each family's title, its settings and its weight.
function ensembleMembers(members) {
  return h('ul', { id: 'ensemble-members' }, members.map((member) => h('li', {},
    `${member.title} (${member.algorithm}${Object.keys(member.parameters).length ? `, ${parameterText(member.parameters)}` : ''}): weight ${member.weight.toFixed(2)}`)));
}

/// Saves the model as ONNX: fetched with the session's key (a plain link could not send it), then handed to the browser as a file.
function downloadONNXButton(card) {
  if (!card.exports?.onnx) return null;
  return h('button', { type: 'button', class: 'secondary', id: 'download-onnx', title: 'The model with its preprocessing, for ONNX Runtime and other runtimes',
    onclick: () => attempt(async () => {
      const { blob, filename } = await api.download(card.exports.onnx);
      const url = URL.createObjectURL(blob);
      const link = h('a', { href: url, download: filename });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    }) }, 'Download ONNX');
}

export async function modelPage(main, name, version) {
  const path = `/api/v1/models/${encodeURIComponent(name)}${version ? `/versions/${encodeURIComponent(version)}` : ''}`;
  const card = await api.get(path);
  const serving = card.version === card.serving_version;
  const remove = card.demonstration || version ? null : h('button', { type: 'button', class: 'danger', onclick: () => attempt(async () => {
    if (!confirm(`Delete the model '${card.name}', every version of it, and erase its files?`)) return;
    await api.delete(`/api/v1/models/${encodeURIComponent(card.name)}`);
    location.hash = '#/models';
  }) }, 'Delete model');
  fill(main,
    h('p', {}, h('a', { href: card.demonstration ? '#/gallery' : '#/models' }, card.demonstration ? '← Demonstrations' : '← Models')),
    h('h1', {}, version ? `${card.name}, version ${card.version}` : card.name),
    modelTabs(card.name, version ? 'versions' : 'card'),
    versionLine(card),
    card.comparison ? h('p', { class: 'comparison', id: 'model-comparison' }, h('strong', {}, 'Against the version it was meant to replace: '), card.comparison.summary) : null,
    h('p', { class: 'lead', id: 'model-summary' }, plainSummary(card)),
    card.story ? h('p', {}, firstParagraph(card.story)) : null,
    h('div', { class: 'actions' }, serving ? h('a', { class: 'button', id: 'try-link', href: `#/models/${encodeURIComponent(card.name)}/try` }, 'Try it') : promoteButton(card),
      downloadONNXButton(card), remove),
    h('div', { class: 'grid' },
      section('How good it is', h('p', { class: 'hint' }, `${algorithmTitle(card.algorithm)}; every figure measured on rows the model did not learn from.`), metricsTable(card)),
      section('Where it comes from', facts([
        ['Trained on', `${card.source.rows} rows${card.source.file ? ` of ${card.source.file}` : ''}`],
        ['Algorithm', [`${algorithmTitle(card.algorithm)} (${card.algorithm})`, algorithmDescription(card.algorithm) ? h('div', { class: 'hint' }, algorithmDescription(card.algorithm)) : null]],
        ...(card.ensemble ? [['Members', ensembleMembers(card.ensemble)]] : []),
        ['Created', formatDate(card.created_at)],
        ['Testbed version', card.library_version],
      ]), card.notes.length ? h('ul', { class: 'warnings' }, card.notes.map((note) => h('li', {}, note))) : null)),
    validationSection(card),
    h('div', { class: 'grid' }, charts(card)),
    card.leaderboard?.length ? section('The candidates it was chosen from', h('div', { class: 'scroll' }, leaderboardTable(card.leaderboard, card.primary_metric))) : null);
}

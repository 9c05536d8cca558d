// Data: upload a CSV with a progress bar, see its profile, and start training on it.
import { api } from './api.js';
import { attempt } from './feedback.js';
import { fill, h, table, section, formatNumber, formatPercent, formatBytes, formatDate, resourceName } from './dom.js';
import { algorithmList } from './catalog.js';
import { sparkHistogram, sparkCategories } from './charts.js';

export async function datasetsPage(main) {
  const datasets = await api.get('/api/v1/datasets');
  fill(main,
    h('h1', {}, 'Your data'),
    h('p', { class: 'lead' }, 'Start with a table exported from your own systems: a CSV file with one row per case (a batch, a shift, a measurement) and one column per property. One of the columns is what you want to predict.'),
    uploadCard(),
    section('Uploaded tables', datasets.length === 0
      ? h('p', { class: 'muted' }, 'Nothing uploaded yet.')
      : h('div', { class: 'scroll' }, table(['Name', 'Rows', 'Columns', 'Size', 'Uploaded', ''], datasets.map((dataset) => [
        h('a', { href: `#/datasets/${encodeURIComponent(dataset.id)}` }, dataset.name),
        String(dataset.rows), String(dataset.columns), formatBytes(dataset.bytes), formatDate(dataset.created_at),
        h('button', { type: 'button', class: 'danger', 'aria-label': `Delete ${dataset.name}`, onclick: () => remove(dataset, main) }, 'Delete'),
      ])))));
}

async function remove(dataset, main) {
  if (!confirm(`Delete the table '${dataset.name}' and erase its file? Models trained on it stay.`)) return;
  await attempt(async () => {
    await api.delete(`/api/v1/datasets/${encodeURIComponent(dataset.id)}`);
    await datasetsPage(main);
  });
}

function uploadCard() {
  const input = h('input', { id: 'upload-file', type: 'file', accept: '.csv,.txt,text/csv' });
  const name = h('input', { id: 'upload-name', type: 'text', maxlength: 64, pattern: '[A-Za-z0-9_\\-][A-Za-z0-9._\\-]*' });
  const bar = h('progress', { max: 1, value: 0, hidden: true, 'aria-label': 'Upload progress' });
  const status = h('p', { class: 'hint', 'aria-live': 'polite' });
  const button = h('button', { type: 'submit', disabled: true }, 'Upload');
  const drop = h('div', { class: 'drop' },
    h('p', {}, 'Drop a CSV file here, or choose one:'),
    h('label', { for: 'upload-file', class: 'inline' }, 'CSV file'), input);
  const choose = (file) => {
    if (!file) return;
    const transfer = new DataTransfer();
    transfer.items.add(file);
    input.files = transfer.files;
    name.value = resourceName(file.name);
    status.textContent = `${file.name}, ${formatBytes(file.size)}`;
    button.disabled = false;
  };
  input.addEventListener('change', () => choose(input.files[0]));
  drop.addEventListener('dragover', (event) => { event.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (event) => {
    event.preventDefault();
    drop.classList.remove('over');
    choose(event.dataTransfer.files[0]);
  });
  const form = h('form', { class: 'card', id: 'upload-form' }, h('h2', {}, 'Upload a table'), drop,
    h('label', { for: 'upload-name' }, 'Name ', h('span', { class: 'hint' }, '(letters, digits, - _ .)')), name,
    h('div', { class: 'actions' }, button), bar, status);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const file = input.files[0];
    if (!file) return;
    button.disabled = true;
    bar.hidden = false;
    bar.value = 0;
    await attempt(async () => {
      const dataset = await api.upload(`/api/v1/datasets?name=${encodeURIComponent(name.value)}`, file, (share) => {
        bar.value = share;
        status.textContent = share < 1 ? `Sending… ${formatPercent(share, 0)}` : 'Sent; the testbed is reading and profiling the table…';
      });
      location.hash = `#/datasets/${encodeURIComponent(dataset.id)}`;
    });
    button.disabled = false;
    status.textContent = '';
    bar.hidden = true;
  });
  return form;
}

const kindTitles = { numeric: 'number', boolean: 'yes/no', categorical: 'category', timestamp: 'date and time', identifier: 'identifier (not used)', empty: 'empty (not used)' };

/// A step in seconds in the largest unit that keeps it readable.
function durationText(seconds) {
  for (const [name, size] of [['day', 86400], ['hour', 3600], ['minute', 60]]) {
    if (seconds >= size) { const count = seconds / size; return `${formatNumber(count)} ${name}${count === 1 ? '' : 's'}`; }
  }
  return `${formatNumber(seconds)} s`;
}

function distribution(column, rows) {
  if (column.histogram) {
    return sparkHistogram(column.histogram, `Distribution of ${column.name} from ${formatNumber(column.histogram.lower)} to ${formatNumber(column.histogram.upper)}`);
  }
  if (column.top_categories?.length) return sparkCategories(column.top_categories, rows, `Most frequent values of ${column.name}`);
  return '';
}

function rangeOrCategories(column) {
  if (column.time) {
    const { time } = column;
    return `${time.first.replace('T00:00:00Z', '')} to ${time.last.replace('T00:00:00Z', '')}${time.typical_step_seconds ? `, every ${durationText(time.typical_step_seconds)}` : ''}`
      + `${time.gap_count ? `, ${time.gap_count} gaps` : ''}; ${time.in_order ? 'in time order' : 'not in time order'}`;
  }
  if (column.summary) return `${formatNumber(column.summary.min)} to ${formatNumber(column.summary.max)} (median ${formatNumber(column.summary.median)})`;
  if (column.top_categories?.length) {
    const shown = column.top_categories.slice(0, 4).map((entry) => `${entry.value} (${entry.count})`).join(', ');
    return column.distinct_count > 4 ? `${shown}, … ${column.distinct_count} in all` : shown;
  }
  return '';
}

export async function datasetPage(main, id) {
  const dataset = await api.get(`/api/v1/datasets/${encodeURIComponent(id)}`);
  const { profile } = dataset;
  fill(main,
    h('p', {}, h('a', { href: '#/datasets' }, '← Your data')),
    h('h1', {}, dataset.name),
    h('p', { class: 'lead' }, `${dataset.rows} rows and ${dataset.columns} columns, ${formatBytes(dataset.bytes)}; separated by '${profile.delimiter}', decimal mark '${profile.decimal_mark}'.`),
    profile.warnings.length ? h('div', { class: 'notice' }, h('strong', {}, 'Worth knowing before you train:'),
      h('ul', { class: 'warnings' }, profile.warnings.map((warning) => h('li', {}, warning)))) : null,
    trainingForm(dataset, algorithmList()),
    section('What is in the table',
      h('div', { class: 'scroll' }, table(['Column', 'Type', 'Missing', 'Range or most frequent values', 'Distribution'], profile.columns.map((column) => [
        h('strong', {}, column.name),
        kindTitles[column.kind] ?? column.kind,
        formatPercent(column.missing_share),
        rangeOrCategories(column),
        distribution(column, profile.rows),
      ]), { id: 'profile-table' }))));
}

const taskTitles = { regression: 'predict a number (regression)', classification: 'predict a category (classification)' };

function trainingForm(dataset, algorithms) {
  const candidates = dataset.profile.columns.filter((column) => column.target_task);
  const target = h('select', { id: 'train-target' }, candidates.map((column) => h('option', { value: column.name }, column.name)));
  target.value = candidates.at(-1)?.name ?? '';
  const task = h('select', { id: 'train-task' }, Object.entries(taskTitles).map(([value, title]) => h('option', { value }, title)));
  const inferred = h('span', { class: 'hint', id: 'task-inferred' });
  const automatic = h('input', { type: 'radio', name: 'algorithm-choice', id: 'algorithms-auto', value: 'auto', checked: true });
  const chosen = h('input', { type: 'radio', name: 'algorithm-choice', id: 'algorithms-chosen', value: 'chosen' });
  const boxes = h('div', { id: 'algorithm-boxes' });
  const budget = h('input', { id: 'train-budget', type: 'number', min: 1, max: 86400, step: 1, value: 60 });
  const modelName = h('input', { id: 'train-model-name', type: 'text', maxlength: 64, placeholder: `${dataset.name}-<target>` });
  const button = h('button', { type: 'submit', id: 'train-start' }, 'Train');
  const validation = validationFields(dataset.profile, target);

  const drawAlgorithms = () => {
    const offered = algorithms.filter((algorithm) => algorithm.tasks.includes(task.value));
    fill(boxes, ...offered.map((algorithm) => h('label', { class: 'inline', title: algorithm.description },
      h('input', { type: 'checkbox', value: algorithm.name, disabled: automatic.checked, onchange: () => { chosen.checked = true; } }),
      `${algorithm.title} `, h('code', { class: 'hint' }, algorithm.name))));
  };
  const targetChanged = () => {
    const column = candidates.find((candidate) => candidate.name === target.value);
    if (!column) return;
    task.value = column.target_task;
    inferred.textContent = column.target_task === 'regression'
      ? `inferred: '${column.name}' holds numbers with ${column.distinct_count} distinct values`
      : `inferred: '${column.name}' has ${column.distinct_count} distinct values`;
    drawAlgorithms();
  };
  target.addEventListener('change', () => { targetChanged(); validation.targetChanged(); });
  task.addEventListener('change', drawAlgorithms);
  for (const radio of [automatic, chosen]) {
    radio.addEventListener('change', () => boxes.querySelectorAll('input').forEach((box) => { box.disabled = automatic.checked; }));
  }
  targetChanged();

  const form = h('form', { class: 'card', id: 'train-form' }, h('h2', {}, 'Train a model'),
    candidates.length === 0 ? h('p', { class: 'notice' }, 'No column of this table can be predicted: each is empty, constant or an identifier.') : null,
    h('div', { class: 'fields' },
      h('div', {}, h('label', { for: 'train-target' }, 'What to predict'), target),
      h('div', {}, h('label', { for: 'train-task' }, 'Kind of prediction'), task, h('div', {}, inferred))),
    h('fieldset', {}, h('legend', {}, 'Algorithms'),
      h('label', { class: 'inline', for: 'algorithms-auto' }, automatic, 'Automatic: try them all, keep the best'),
      h('label', { class: 'inline', for: 'algorithms-chosen' }, chosen, 'Only these:'), boxes),
    h('div', { class: 'fields' },
      h('div', {}, h('label', { for: 'train-budget' }, 'Time budget ', h('span', { class: 'hint' }, '(seconds)')), budget),
      h('div', {}, h('label', { for: 'train-model-name' }, 'Model name ', h('span', { class: 'hint' }, '(optional)')), modelName)),
    validation.element,
    h('p', { class: 'hint' }, 'Every candidate is measured by cross-validation: on rows it did not learn from.'),
    h('div', { class: 'actions' }, button));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const picked = [...boxes.querySelectorAll('input:checked')].map((box) => box.value);
    const body = {
      dataset: dataset.id, target: target.value, task: task.value,
      algorithms: automatic.checked ? 'auto' : picked,
      time_budget_seconds: Number(budget.value),
    };
    if (modelName.value.trim()) body.model_name = modelName.value.trim();
    Object.assign(body, validation.body());
    button.disabled = true;
    await attempt(async () => {
      const job = await api.post('/api/v1/jobs', body);
      location.hash = `#/jobs/${encodeURIComponent(job.id)}`;
    });
    button.disabled = false;
  });
  return form;
}

const splitTitles = { '': 'As inferred', random: 'Random folds', time: 'In time order', group: 'Whole groups held out' };

/// How the rows are split for validation: the scheme the server will infer, with its reason,
/// and the controls to change it; and the coverage of the prediction ranges.
function validationFields(profile, target) {
  const split = h('select', { id: 'train-split' }, Object.entries(splitTitles).map(([value, title]) => h('option', { value }, title)));
  const timeColumns = profile.columns.filter((column) => column.kind === 'timestamp' || column.kind === 'numeric');
  const groupColumns = profile.columns.filter((column) => ['categorical', 'identifier', 'numeric', 'boolean'].includes(column.kind));
  const timeColumn = h('select', { id: 'train-time-column' }, h('option', { value: '' }, '(the timestamp column)'),
    timeColumns.map((column) => h('option', { value: column.name }, column.name)));
  const groupColumn = h('select', { id: 'train-group-column' }, h('option', { value: '' }, '(choose)'),
    groupColumns.map((column) => h('option', { value: column.name }, column.name)));
  const gap = h('input', { id: 'train-gap', type: 'number', min: 0, step: 1, value: 0 });
  const coverage = h('input', { id: 'train-coverage', type: 'number', min: 1, max: 99, step: 1, value: 90 });
  const inferred = h('p', { class: 'hint', id: 'split-inferred' });
  const timeField = h('div', {}, h('label', { for: 'train-time-column' }, 'Time column'), timeColumn,
    h('label', { for: 'train-gap' }, 'Gap ', h('span', { class: 'hint' }, '(rows left out between training and test)')), gap);
  const groupField = h('div', {}, h('label', { for: 'train-group-column' }, 'Group column ', h('span', { class: 'hint' }, '(batch, machine, customer)')), groupColumn);

  const describe = () => {
    const timestamps = profile.columns.filter((column) => column.kind === 'timestamp' && column.name !== target.value);
    const scheme = split.value || (groupColumn.value ? 'group' : timeColumn.value || timestamps.length === 1 ? 'time' : 'random');
    timeField.hidden = scheme !== 'time';
    groupField.hidden = scheme !== 'group';
    if (split.value) {
      inferred.textContent = '';
    } else if (scheme === 'group') {
      inferred.textContent = `Inferred: whole groups of '${groupColumn.value}' held out, as a group column is chosen.`;
    } else if (scheme === 'time') {
      const name = timeColumn.value || timestamps[0].name;
      inferred.textContent = `Inferred: in time order by '${name}'. It is the table's timestamp column, so the rows are taken as a log: each model is tested on rows later than those it learned from. Random folds would test it on rows recorded next to rows it learned from, and look better than it will do.`;
    } else {
      inferred.textContent = timestamps.length > 1
        ? `Inferred: random folds. The table has ${timestamps.length} timestamp columns; choose "In time order" and one of them to test on later rows.`
        : 'Inferred: random folds, as the table has no timestamp column. If rows belong to batches, machines or customers, hold out whole groups.';
    }
  };
  for (const control of [split, timeColumn, groupColumn]) control.addEventListener('change', describe);
  describe();

  return {
    element: h('fieldset', { id: 'validation-fields' }, h('legend', {}, 'How to test it'),
      h('div', { class: 'fields' },
        h('div', {}, h('label', { for: 'train-split' }, 'Split'), split),
        timeField, groupField,
        h('div', {}, h('label', { for: 'train-coverage' }, 'Prediction ranges cover ', h('span', { class: 'hint' }, '(% of cases)')), coverage)),
      inferred),
    targetChanged: describe,
    body() {
      const body = { coverage: Number(coverage.value) / 100 };
      if (split.value) body.split = split.value;
      if (!timeField.hidden && timeColumn.value) body.time_column = timeColumn.value;
      if (!timeField.hidden && Number(gap.value) > 0) body.gap = Number(gap.value);
      if (!groupField.hidden && groupColumn.value) body.group_column = groupColumn.value;
      return body;
    },
  };
}

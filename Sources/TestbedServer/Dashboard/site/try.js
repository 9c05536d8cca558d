// Try a model: a form from its feature schema, the answer with its reasons, a what-if curve
// over one input, and scoring of a whole file.
import { api } from './api.js';
import { attempt, showError } from './feedback.js';
import { fill, h, table, section, formatNumber, formatPercent } from './dom.js';
import { contributionBars, lineChart, categoryChart } from './charts.js';
import { modelTabs } from './models.js';

const scaleTitles = { value: 'in units of the prediction', log_odds: 'log-odds', probability: 'probability' };

/// An input for each feature, prefilled with a typical value: the training mean, or the most
/// frequent category.
function featureField(feature) {
  const id = `feature-${feature.name}`;
  let control, hint;
  if (feature.categories?.length) {
    control = h('select', { id, name: feature.name }, feature.categories.map((category) => h('option', { value: category }, category)));
    hint = `${feature.categories.length} categories seen in training`;
  } else if (feature.kind === 'timestamp') {
    // The model reads the hour, day of week, month and day of year from it.
    // Prefilled with the last time the model was trained on (else now): a day like those it knows.
    const typical = (feature.last ?? new Date().toISOString()).slice(0, 16).replace('T', ' ');
    control = h('input', { id, name: feature.name, type: 'text', value: typical, placeholder: '2026-01-05 13:45' });
    hint = feature.first ? `trained on ${feature.first.slice(0, 10)} to ${feature.last.slice(0, 10)}` : 'a date or date-time';
  } else {
    control = h('input', { id, name: feature.name, type: 'number', step: 'any', value: feature.mean !== undefined ? formatNumber(feature.mean) : '' });
    hint = feature.min !== undefined ? `trained on ${formatNumber(feature.min)} to ${formatNumber(feature.max)}` : '';
  }
  control.dataset.kind = feature.categories?.length || feature.kind === 'timestamp' ? 'category' : 'number';
  return { feature, control, element: h('div', {}, h('label', { for: id }, feature.name, ' ', h('span', { class: 'hint' }, hint)), control) };
}

function readRow(fields) {
  const row = {};
  for (const { feature, control } of fields) {
    if (control.value === '') row[feature.name] = null;
    else row[feature.name] = control.dataset.kind === 'number' ? Number(control.value) : control.value;
  }
  return row;
}

/// The number the what-if curve follows: the prediction, or the probability of one class.
function curveValue(point, card, className) {
  return card.task === 'regression' ? point.prediction : point.probabilities[className];
}

export async function tryPage(main, name, { signal }) {
  const card = await api.get(`/api/v1/models/${encodeURIComponent(name)}`);
  const fields = card.features.map(featureField);
  const answer = h('div', { id: 'answer', 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Press Predict to see the answer.'));
  const whatIf = whatIfPanel(card, fields, () => predict());
  const form = h('form', { class: 'card', id: 'try-form' }, h('h2', {}, 'The inputs'),
    h('p', { class: 'hint' }, 'Prefilled with a typical case from the training data; change any value.'),
    h('div', { class: 'fields' }, fields.map((field) => field.element)),
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'predict' }, 'Predict')));

  let latest = null;
  async function predict() {
    const row = readRow(fields);
    const body = { rows: [row] };
    if (card.explainable) Object.assign(body, { explain: true, top: card.features.length });
    const response = await api.post(`/api/v1/models/${encodeURIComponent(card.name)}/predict`, body);
    if (signal.aborted) return;
    latest = response.predictions[0];
    drawAnswer(answer, card, row, latest, response.contribution_scale);
    await whatIf.update(row, latest);
  }
  form.addEventListener('submit', (event) => { event.preventDefault(); attempt(predict); });

  fill(main,
    h('p', {}, h('a', { href: `#/models/${encodeURIComponent(card.name)}` }, `← ${card.name}`)),
    h('h1', {}, `Try ${card.name}`),
    modelTabs(card.name, 'try'),
    h('p', { class: 'lead' }, `Predicts ${card.target} ${card.task === 'regression' ? '(a number)' : `(one of ${card.classes.join(', ')})`}.`),
    h('div', { class: 'grid' }, form, section('The answer', answer)),
    whatIf.element,
    batchPanel(card));
  await predict().catch(showError);
}

/// "9 cases out of 10" for a coverage of 0.9.
export function casesText(coverage) {
  const tenths = coverage * 10;
  return Math.abs(tenths - Math.round(tenths)) < 1e-9 ? `${Math.round(tenths)} cases out of 10` : `${formatPercent(coverage)} of cases`;
}

function valueText(value) {
  return typeof value === 'number' ? formatNumber(value) : value ?? 'missing';
}

function drawAnswer(container, card, row, result, scale) {
  const parts = [];
  if (card.task === 'regression') {
    parts.push(h('p', { class: 'prediction' }, h('span', {}, `${card.target}:`),
      h('span', { class: 'big', id: 'prediction-value', dataset: { value: String(result.prediction) } }, formatNumber(result.prediction))));
    if (result.interval) {
      parts.push(h('p', { id: 'prediction-interval', dataset: { low: String(result.interval[0]), high: String(result.interval[1]) } },
        `Between ${formatNumber(result.interval[0])} and ${formatNumber(result.interval[1])} in ${casesText(card.conformal.coverage)}.`));
    }
  } else {
    parts.push(h('p', { class: 'prediction' }, h('span', {}, `${card.target}:`),
      h('span', { class: 'big', id: 'prediction-value', dataset: { value: String(result.prediction) } }, String(result.prediction))));
    if (result.decision !== undefined && result.decision !== result.prediction) parts.push(h('p', {}, `Decision: ${result.decision}`));
    if (result.prediction_set) {
      parts.push(h('p', { id: 'prediction-set' }, result.prediction_set.length
        ? `Cannot be ruled out in ${casesText(card.conformal.coverage)}: ${result.prediction_set.join(', ')}.`
        : `No category is likely enough to be named in ${casesText(card.conformal.coverage)}: this case is unlike the training rows, or the model is unsure.`));
    }
    const ordered = Object.entries(result.probabilities ?? {}).sort((a, b) => b[1] - a[1]);
    parts.push(h('div', { class: 'probabilities', id: 'probabilities' }, ordered.map(([className, probability]) => {
      const fill = h('span');
      fill.style.width = formatPercent(probability, 2);
      return h('div', { class: 'row', dataset: { class: className, value: String(probability) } },
        h('span', {}, className), h('div', { class: 'meter', role: 'img', 'aria-label': `${className}: ${formatPercent(probability)}` }, fill),
        h('span', { class: 'number' }, formatPercent(probability)));
    })));
  }
  if (result.contributions?.length) {
    const total = result.contributions.reduce((sum, reason) => sum + reason.contribution, 0);
    const towards = card.task === 'classification' && card.classes.length > 2 ? ` towards ${result.prediction}` : '';
    parts.push(h('h3', {}, 'Why'),
      h('p', { class: 'hint', id: 'contribution-note' }, `Starting from ${formatNumber(result.base_value)}, the average over the training rows (${scaleTitles[scale] ?? scale}${towards}), the inputs below move it to ${formatNumber(result.base_value + total)}.`),
      contributionBars(result.contributions.map((reason) => ({ ...reason, label: `${reason.feature} = ${valueText(row[reason.feature])}` })),
        { label: 'What pushed the prediction up or down', unit: scaleTitles[scale] ?? scale }));
  } else if (!card.explainable) {
    parts.push(h('p', { class: 'hint' }, 'This kind of model does not give reasons for single predictions; the model page shows what it relies on overall.'));
  }
  if (result.warnings?.length) {
    parts.push(h('div', { class: 'notice' }, h('strong', {}, 'Take care:'), h('ul', { class: 'warnings' }, result.warnings.map((warning) => h('li', {}, warning)))));
  }
  fill(container, ...parts);
}

function whatIfPanel(card, fields, repredict) {
  const ranked = (card.importance ?? []).map((item) => item.feature);
  const ordered = [...fields].sort((a, b) => {
    const rank = (field) => { const index = ranked.indexOf(field.feature.name); return index < 0 ? ranked.length : index; };
    return rank(a) - rank(b);
  });
  const chooser = h('select', { id: 'whatif-feature' }, ordered.map((field) => h('option', { value: field.feature.name }, field.feature.name)));
  const slider = h('input', { id: 'whatif-slider', type: 'range' });
  const sliderLabel = h('label', { for: 'whatif-slider' });
  const plot = h('div', { id: 'whatif-chart' });
  const classChooser = card.task === 'classification'
    ? h('select', { id: 'whatif-class' }, card.classes.map((name) => h('option', { value: name }, name))) : null;
  let row = null, result = null, points = [], timer = null;

  const field = () => fields.find((candidate) => candidate.feature.name === chooser.value);
  const yLabel = () => (card.task === 'regression' ? `predicted ${card.target}` : `probability of ${classChooser.value}`);

  function draw() {
    const current = field();
    const y = card.task === 'regression' ? result.prediction : result.probabilities[classChooser.value];
    const value = row[current.feature.name];
    // A date's curve is the days around it: the point of the row's own day is the current one.
    const currentX = current.feature.kind === 'timestamp' ? points.find((point) => String(point.value).slice(0, 10) === String(value).slice(0, 10))?.value : value;
    const series = points.map((point) => ({ x: point.value, y: curveValue(point, card, classChooser?.value) }));
    const domain = card.task === 'classification' ? [0, 1] : undefined;
    const band = points.every((point) => point.interval) ? points.map((point) => ({ x: point.value, low: point.interval[0], high: point.interval[1] })) : null;
    fill(plot, current.control.dataset.kind === 'number'
      ? lineChart(series, { label: `What-if: ${yLabel()} against ${current.feature.name}`, xLabel: current.feature.name, yLabel: yLabel(), yDomain: domain,
        marker: typeof value === 'number' ? { x: value, y } : null, band })
      : categoryChart(series, { label: `What-if: ${yLabel()} for each ${current.feature.name}`, yLabel: yLabel(), current: currentX, yDomain: domain, band }));
  }

  async function curve() {
    const response = await api.post(`/api/v1/models/${encodeURIComponent(card.name)}/whatif`, { row, feature: chooser.value });
    points = response.points;
  }

  function configureSlider() {
    const current = field();
    const numeric = current.control.dataset.kind === 'number' && current.feature.min !== undefined;
    slider.hidden = !numeric;
    sliderLabel.hidden = !numeric;
    if (!numeric) return;
    const { min, max } = current.feature;
    Object.assign(slider, { min, max, step: (max - min) / 200 || 1 });
    slider.value = Math.min(Math.max(Number(current.control.value), min), max);
    sliderLabel.textContent = `Move ${current.feature.name} (${formatNumber(min)} to ${formatNumber(max)}):`;
  }

  chooser.addEventListener('change', () => attempt(async () => { configureSlider(); await curve(); draw(); }));
  classChooser?.addEventListener('change', () => { classChooser.dataset.touched = 'yes'; draw(); });
  slider.addEventListener('input', () => {
    field().control.value = formatNumber(Number(slider.value));
    clearTimeout(timer);
    timer = setTimeout(() => attempt(repredict), 120);
  });

  return {
    element: section('What if?',
      h('p', { class: 'hint' }, 'How the answer changes with one input while the others stay as in the form.'),
      h('div', { class: 'fields' },
        h('div', {}, h('label', { for: 'whatif-feature' }, 'Input to vary'), chooser),
        classChooser ? h('div', {}, h('label', { for: 'whatif-class' }, 'Probability of'), classChooser) : null),
      sliderLabel, slider, plot),
    async update(newRow, newResult) {
      // The curve does not depend on the varied input's own value, except a date's (its days around it).
      const ignored = field().feature.kind === 'timestamp' ? {} : { [chooser.value]: null };
      const featureChanged = !row || JSON.stringify({ ...row, ...ignored }) !== JSON.stringify({ ...newRow, ...ignored });
      row = newRow;
      result = newResult;
      if (classChooser && !classChooser.dataset.touched) classChooser.value = String(result.prediction);
      if (featureChanged || points.length === 0) { configureSlider(); await curve(); }
      draw();
    },
  };
}

/// Our own CSV output: comma-separated, fields with commas or quotes quoted.
function parseCSVLine(line) {
  const fields = [];
  let field = '', quoted = false;
  for (let index = 0; index < line.length; index += 1) {
    const char = line[index];
    if (quoted) {
      if (char === '"' && line[index + 1] === '"') { field += '"'; index += 1; } else if (char === '"') quoted = false; else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') { fields.push(field); field = ''; } else field += char;
  }
  fields.push(field);
  return fields;
}

function batchPanel(card) {
  const input = h('input', { id: 'batch-file', type: 'file', accept: '.csv,.txt,text/csv' });
  const button = h('button', { type: 'submit', id: 'batch-score' }, 'Score the file');
  const output = h('div', { id: 'batch-result', 'aria-live': 'polite' });
  const form = h('form', {}, h('label', { for: 'batch-file' }, 'A CSV file with the same columns ', h('span', { class: 'hint' }, `(${card.features.map((feature) => feature.name).join(', ')})`)),
    input, h('div', { class: 'actions' }, button), output);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const file = input.files[0];
    if (!file) { showError(new Error('choose a CSV file to score first')); return; }
    attempt(async () => {
      button.disabled = true;
      try {
        const blob = await api.postCSV(`/api/v1/models/${encodeURIComponent(card.name)}/predict`, file);
        const lines = (await blob.text()).trimEnd().split('\n');
        const fileName = `${card.name}-predictions.csv`;
        fill(output,
          h('p', { class: 'success' }, `${lines.length - 1} rows scored. `,
            h('a', { class: 'button', id: 'batch-download', href: URL.createObjectURL(blob), download: fileName }, `Download ${fileName}`)),
          h('div', { class: 'scroll' }, table(parseCSVLine(lines[0]), lines.slice(1, 11).map(parseCSVLine))),
          lines.length > 11 ? h('p', { class: 'hint' }, `The first 10 of ${lines.length - 1} rows; the file has all of them, in the order of yours.`) : null);
      } finally {
        button.disabled = false;
      }
    });
  });
  return section('Score a whole file', form);
}

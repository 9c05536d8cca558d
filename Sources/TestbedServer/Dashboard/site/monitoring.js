// Monitoring a model in use: how far its inputs and predictions have drifted from the training
// data, window by window (PSI), and how good its predictions turned out where outcomes came back.
import { api } from './api.js';
import { attempt } from './feedback.js';
import { fill, h, table, facts, section, formatNumber, formatPercent, formatDate } from './dom.js';
import { metricLabel, metricTitle, higherIsBetter } from './catalog.js';
import { psiChart, pairedBars } from './charts.js';
import { modelTabs } from './models.js';

const bandTitles = { stable: 'stable', moderate: 'moderate shift', major: 'major shift' };
const shownFeatures = 5;

function band(name) {
  return h('span', { class: `badge band-${name}` }, bandTitles[name] ?? name);
}

/// A duration in the largest unit that keeps it whole enough to read.
function durationText(seconds) {
  for (const [unit, size] of [['day', 86400], ['hour', 3600], ['minute', 60]]) {
    if (seconds >= size) { const count = seconds / size; return `${formatNumber(count, 3)} ${unit}${count === 1 ? '' : 's'}`; }
  }
  return `${formatNumber(seconds, 3)} second${seconds === 1 ? '' : 's'}`;
}

/// Short local labels for the windows' starts: the time, with seconds when they are close
/// together, with the day when they span more than one.
function windowLabels(windows) {
  const starts = windows.map((window) => new Date(window.start));
  const span = starts.length ? starts.at(-1) - starts[0] : 0;
  const days = new Set(starts.map((start) => start.toDateString())).size > 1;
  return starts.map((start) => (days
    ? start.toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' })
    : start.toLocaleTimeString([], span < 3600 * 1000 ? { hour: '2-digit', minute: '2-digit', second: '2-digit' } : { hour: '2-digit', minute: '2-digit' })));
}

/// A window's time span as local text, the end's date left out when it is the start's.
function spanText(window) {
  const start = new Date(window.start), end = new Date(window.end);
  const sameDay = start.toDateString() === end.toDateString();
  return `${formatDate(window.start)} – ${sameDay ? end.toLocaleTimeString() : formatDate(window.end)}`;
}

/// Whether a window's figures count: closed, or open with enough rows.
function counted(window, settings) {
  return window.rows >= settings.min_rows;
}

export async function monitoringPage(main, name, version, { signal }) {
  const query = version ? `?version=${encodeURIComponent(version)}` : '';
  const base = `/api/v1/models/${encodeURIComponent(name)}`;
  const [report, series] = await Promise.all([api.get(`${base}/monitoring${query}`), api.get(`${base}/versions`)]);
  if (signal.aborted) return;
  const chooser = series.versions.length > 1 ? h('select', { id: 'monitoring-version', onchange: (event) => {
    location.hash = `#/models/${encodeURIComponent(name)}/monitoring/${event.target.value}`;
  } }, [...series.versions].reverse().map((entry) => h('option', { value: String(entry.version), selected: entry.version === report.version },
    `version ${entry.version}${entry.serving ? ' (serving)' : ''}`))) : null;
  const refresh = h('button', { type: 'button', class: 'secondary', id: 'monitoring-refresh',
    onclick: () => attempt(() => monitoringPage(main, name, version, { signal })) }, 'Refresh');

  fill(main,
    h('p', {}, h('a', { href: series.demonstration ? '#/gallery' : '#/models' }, series.demonstration ? '← Demonstrations' : '← Models')),
    h('h1', {}, `${name}: monitoring`),
    modelTabs(name, 'monitoring'),
    h('div', { class: 'actions' },
      chooser ? h('label', { for: 'monitoring-version', class: 'inline' }, 'Version', chooser) : h('span', { class: 'hint' }, `Version ${report.version}`),
      refresh),
    h('p', { class: 'lead', id: 'monitoring-summary' }, summaryText(report)),
    report.note ? h('p', { class: 'notice', id: 'monitoring-note' }, report.note) : null,
    liveSection(report),
    driftSections(report),
    psiExplanation(report.settings));
}

function summaryText(report) {
  const { settings } = report;
  const which = report.version === report.serving_version ? `Version ${report.version}, the one serving predictions` : `Version ${report.version} (version ${report.serving_version} serves)`;
  const closed = report.windows.filter((window) => !window.open).length;
  const open = report.windows.find((window) => window.open);
  if (!report.windows.length) {
    return `${which}: no predictions counted yet. Every prediction (through the API, the Try page or the V2 protocol) is counted in a window that closes after ${settings.window_rows} rows or ${durationText(settings.window_seconds)}.`;
  }
  return `${which}: ${report.rows_seen} predictions in ${closed} closed window${closed === 1 ? '' : 's'}${open ? ` and one still counting (${open.rows} rows)` : ''}. `
    + `A window closes after ${settings.window_rows} rows or ${durationText(settings.window_seconds)}; closed windows are kept ${settings.retention_days} days.`;
}

/// How good the predictions turned out, against what cross-validation promised.
function liveSection(report) {
  const { live } = report;
  const metric = live.primary_metric;
  const rows = [];
  if (live.outcomes) {
    rows.push(['Outcomes measured', `the latest ${live.outcomes}`]);
    rows.push([metricLabel(metric), `${formatNumber(live.metrics[metric])} live; ${live.promised ? `${formatNumber(live.promised.mean)}${live.promised.std !== undefined && live.promised.std !== null ? ` ± ${formatNumber(live.promised.std, 2)}` : ''} promised by cross-validation` : 'nothing promised'}`]);
    if (live.coverage !== undefined && live.coverage !== null) {
      rows.push(['Actual value within the range or set given', `${formatPercent(live.coverage)} of outcomes${live.promised_coverage ? `; promised ${formatPercent(live.promised_coverage, 0)}` : ''}`]);
    }
  }
  const days = live.days?.length ? h('div', { class: 'scroll' }, table(['Day (UTC)', 'Outcomes', metricTitle(metric), 'Within the range'], [...live.days].reverse().slice(0, 14).map((day) => [
    day.day, String(day.outcomes), formatNumber(day.metrics[metric]), day.coverage === undefined || day.coverage === null ? '–' : formatPercent(day.coverage),
  ]), { id: 'live-days' })) : null;
  // Flagged both ways; better than promised is worth a look (are the outcomes typical?), worse is the alarm.
  const figure = live.metrics?.[metric];
  const better = live.promised && figure !== undefined && (higherIsBetter(metric) ? figure > live.promised.mean : figure < live.promised.mean);
  return section('How good its predictions turned out',
    h('div', { class: !live.flagged ? (live.outcomes ? 'success' : 'hint') : better ? 'notice' : 'alert', id: 'live-message', dataset: { flagged: String(live.flagged) } },
      live.flagged ? h('strong', {}, `Live quality is outside what cross-validation promised (${better ? 'better: check that the outcomes come from typical cases' : 'worse'}): `) : null,
      live.message, '.'),
    rows.length ? facts(rows, { id: 'live-facts' }) : h('p', { class: 'hint' }, 'Report what actually happened for predictions (by their prediction_id) to POST /api/v1/models/{name}/feedback, and the figures appear here beside the promise on the card.'),
    days);
}

function predictionsTitle(report) {
  const name = report.prediction_reference?.name;
  return name && name !== 'prediction' ? `predictions (${name})` : 'predictions';
}

function driftSections(report) {
  if (!report.reference.length) return null;
  const { settings } = report;
  const windows = report.windows;
  const latestCounted = [...windows].reverse().find((window) => counted(window, settings));
  const bandOf = (feature) => latestCounted?.features.find((entry) => entry.name === feature)?.band;
  const flagged = new Set(report.flagged_features);
  const driftTable = table(['Input', 'PSI now', 'Band', 'Highest PSI', 'Windows flagged'], report.drift.map((entry) => [
    h('strong', {}, entry.name),
    entry.psi === null || entry.psi === undefined ? '–' : formatNumber(entry.psi, 3),
    entry.psi === null || entry.psi === undefined ? h('span', { class: 'hint' }, `fewer than ${settings.min_rows} rows yet`) : band(bandOf(entry.name) ?? 'stable'),
    entry.max_psi === null || entry.max_psi === undefined ? '–' : formatNumber(entry.max_psi, 3),
    String(entry.flagged_windows),
  ]), { id: 'drift-table' });
  [...driftTable.querySelectorAll('tbody tr')].forEach((row, index) => {
    row.dataset.feature = report.drift[index].name;
    if (flagged.has(report.drift[index].name)) row.classList.add('flagged');
  });

  const parts = [];
  const flags = [];
  if (report.flagged_features.length) flags.push(`inputs drifted in the latest window: ${report.flagged_features.join(', ')}`);
  if (report.prediction_flagged) flags.push('the predictions themselves have drifted');
  parts.push(section('Which inputs have drifted',
    flags.length ? h('p', { class: 'alert', id: 'drift-flags' }, h('strong', {}, 'Flagged: '), `${flags.join('; ')}. The model is now seeing cases unlike those it learned from; check the figures below, and consider training a new version on recent data.`)
      : h('p', { class: 'hint', id: 'drift-flags' }, latestCounted ? `Nothing flagged in the latest window with at least ${settings.min_rows} rows.` : `Nothing can be flagged until a window has ${settings.min_rows} rows.`),
    h('p', { class: 'hint' }, `Most drifted first. "PSI now" is the latest window with at least ${settings.min_rows} rows; a window is flagged at PSI ${settings.psi_threshold} or more.`),
    h('div', { class: 'scroll' }, driftTable)));

  if (windows.length) {
    const top = report.drift.slice(0, shownFeatures).map((entry) => entry.name);
    const points = (pick) => windows.map((window, index) => ({ index, psi: pick(window)?.psi, counted: !window.open && counted(window, settings) }));
    const lines = top.map((feature) => ({ name: feature, points: points((window) => window.features.find((entry) => entry.name === feature)) }));
    lines.push({ name: predictionsTitle(report), dashed: true, points: points((window) => window.prediction) });
    const labels = windowLabels(windows);
    parts.push(section('Drift over time',
      h('p', { class: 'hint' }, `PSI of the ${top.length === 1 ? 'input' : `${top.length} inputs`} that drifted most and of the predictions, per window. The shaded bands are a moderate (0.1) and a major (0.25) shift; hollow points are windows still open or with fewer than ${settings.min_rows} rows, which are never flagged. A PSI above 1 is drawn at the top, as a triangle.`),
      h('div', { id: 'psi-chart' }, psiChart(lines, { label: 'PSI per monitoring window', windowLabels: labels, threshold: settings.psi_threshold })),
      h('ul', { class: 'legend' }, lines.map((line, index) => h('li', {}, h('span', { class: `swatch series-${index}${line.dashed ? ' dashed' : ''}` }), line.name)))));
  }

  const latest = [...windows].reverse().find((window) => window.rows > 0);
  if (latest) parts.push(distributionSection(report, latest));
  if (windows.length) {
    parts.push(section('Windows',
      h('div', { class: 'scroll' }, table(['When (your time)', 'Rows', 'Predictions: PSI', 'Flagged inputs', ''], [...windows].reverse().slice(0, 48).map((window) => [
        spanText(window), String(window.rows),
        [formatNumber(window.prediction.psi, 3), ' ', band(window.prediction.band)],
        window.features.filter((entry) => entry.flagged).map((entry) => entry.name).join(', ') || '–',
        window.open ? h('span', { class: 'badge' }, 'still counting') : counted(window, settings) ? '' : h('span', { class: 'hint' }, 'too few rows to flag'),
      ]), { id: 'windows-table' })),
      windows.length > 48 ? h('p', { class: 'hint' }, `The latest 48 of ${windows.length} windows.`) : null));
  }
  return parts;
}

/// The share of rows per bin in the latest window beside the training data: the predictions by
/// default, or any input.
function distributionSection(report, latest) {
  const quantities = [{ key: 'prediction', title: `the ${predictionsTitle(report)}`, reference: report.prediction_reference, current: latest.prediction },
    ...report.reference.map((reference) => ({ key: reference.name, title: reference.name, reference, current: latest.features.find((entry) => entry.name === reference.name) }))];
  const chooser = h('select', { id: 'distribution-choice' }, quantities.map((quantity) => h('option', { value: quantity.key }, quantity.title)));
  const holder = h('div', { id: 'distribution-chart' });
  const when = `${latest.open ? 'the window still counting' : 'the latest window'} (${latest.rows} rows, from ${formatDate(latest.start)})`;
  const draw = () => {
    const quantity = quantities.find((entry) => entry.key === chooser.value);
    const { reference, current } = quantity;
    fill(holder,
      pairedBars(reference.bins, reference.shares, current?.shares ?? [], { label: `Share of rows per bin of ${quantity.title}: training against ${when}`, referenceLabel: 'training', currentLabel: 'latest window' }),
      h('p', { class: 'hint' }, `PSI ${formatNumber(current?.psi, 3)} (`, band(current?.band ?? 'stable'), `)${current?.outside_share ? `; ${formatPercent(current.outside_share)} of the values were outside the training range` : ''}${current?.missing_share ? `; ${formatPercent(current.missing_share)} missing` : ''}.`));
  };
  chooser.addEventListener('change', draw);
  draw();
  return section('Latest window against training',
    h('p', { class: 'hint' }, `How the rows of ${when} fall into the bins of the training data, beside the training rows themselves. Bars of very different length are what makes the PSI high.`),
    h('label', { for: 'distribution-choice' }, 'Distribution of'), chooser, holder);
}

function psiExplanation(settings) {
  return section('Reading the PSI',
    h('p', {}, 'The population stability index (PSI) compares how the rows of a window spread over bins of each input (or of the predictions) with how the training rows spread over the same bins. 0 means the same spread; the larger, the further the cases have moved from those the model learned from.'),
    h('ul', {},
      h('li', {}, band('stable'), ' below 0.1: no real change.'),
      h('li', {}, band('moderate'), ' 0.1 to 0.25: a moderate shift; worth watching, especially for the inputs the model relies on most.'),
      h('li', {}, band('major'), ` 0.25 and above: a major shift; the card's figures may no longer hold. This server flags a window at ${settings.psi_threshold} once it has at least ${settings.min_rows} rows.`)),
    h('p', { class: 'hint' }, 'A drifted input does not prove the model got worse: the outcomes above say that. But it is the early sign, available before any outcome comes back.'));
}

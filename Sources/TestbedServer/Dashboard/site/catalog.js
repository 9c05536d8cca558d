// What the algorithms and metrics are called and mean, as the server's core names them
// (GET /api/v1/algorithms and /api/v1/metrics), loaded once after sign-in. Nothing here is a
// copy: a key the catalog does not know is shown as it is.
import { api } from './api.js';
import { h } from './dom.js';

let algorithms = new Map();
let metrics = new Map();
let loaded = false;

/// Loads both lists, once per sign-in.
export async function loadCatalog() {
  if (loaded) return;
  const [algorithmList, metricList] = await Promise.all([api.get('/api/v1/algorithms'), api.get('/api/v1/metrics')]);
  algorithms = new Map(algorithmList.map((entry) => [entry.name, entry]));
  metrics = new Map(metricList.map((entry) => [entry.name, entry]));
  loaded = true;
}

/// Forgets the lists (on sign-out).
export function forgetCatalog() {
  algorithms = new Map();
  metrics = new Map();
  loaded = false;
}

/// Every algorithm: `{name, title, description, tasks}`.
export function algorithmList() {
  return [...algorithms.values()];
}

export function algorithmTitle(name) {
  return algorithms.get(name)?.title ?? name;
}

export function algorithmDescription(name) {
  return algorithms.get(name)?.description ?? '';
}

/// `{name, title, description, task, higher_is_better}`, or undefined for a key it does not know.
export function metricInfo(name) {
  return metrics.get(name);
}

/// The catalog's order of metrics (the core's), for sorting; unknown keys after the known ones.
export function metricRank(name) {
  const index = [...metrics.keys()].indexOf(name);
  return index < 0 ? metrics.size : index;
}

export function metricTitle(name) {
  return metrics.get(name)?.title ?? name;
}

/// Whether a larger value of the metric is better (true for unknown keys, as for most scores).
export function higherIsBetter(name) {
  return metrics.get(name)?.higher_is_better ?? true;
}

/// A metric's title with its description as a tooltip, for table cells and headings.
export function metricLabel(name) {
  const info = metrics.get(name);
  return h('span', { class: 'metric', title: info?.description, dataset: { metric: name } }, info?.title ?? name);
}

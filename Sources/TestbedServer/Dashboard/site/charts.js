// Hand-written SVG charts: small enough to read at a glance, labelled for screen readers.
import { h, svg, formatNumber } from './dom.js';

/// About `count` round tick values covering low…high.
function ticks(low, high, count = 5) {
  if (!(high > low)) return [low];
  const raw = (high - low) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? raw;
  const values = [];
  for (let value = Math.ceil(low / step) * step; value <= high + step * 1e-9; value += step) values.push(Number(value.toPrecision(12)));
  return values;
}

function extent(values, padShare = 0) {
  let low = Math.min(...values), high = Math.max(...values);
  if (!(high > low)) { low -= 1; high += 1; }
  const pad = (high - low) * padShare;
  return [low - pad, high + pad];
}

function frame(width, height, label) {
  return svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': label, class: 'chart' }, svg('title', {}, label));
}

/// Axes with ticks for a plot area; returns functions from data to pixels.
function axes(chart, { x: [x0, x1], y: [y0, y1] }, box, { xLabel, yLabel, xTicks = true }) {
  const sx = (v) => box.left + ((v - x0) / (x1 - x0)) * (box.right - box.left);
  const sy = (v) => box.bottom - ((v - y0) / (y1 - y0)) * (box.bottom - box.top);
  const group = svg('g', { class: 'axes' });
  group.append(svg('line', { x1: box.left, y1: box.bottom, x2: box.right, y2: box.bottom }));
  group.append(svg('line', { x1: box.left, y1: box.top, x2: box.left, y2: box.bottom }));
  for (const value of ticks(y0, y1)) {
    group.append(svg('line', { class: 'grid', x1: box.left, x2: box.right, y1: sy(value), y2: sy(value) }));
    group.append(svg('text', { x: box.left - 6, y: sy(value) + 4, 'text-anchor': 'end' }, formatNumber(value, 3)));
  }
  if (xTicks) {
    for (const value of ticks(x0, x1)) {
      group.append(svg('text', { x: sx(value), y: box.bottom + 16, 'text-anchor': 'middle' }, formatNumber(value, 3)));
    }
  }
  if (xLabel) group.append(svg('text', { class: 'label', x: (box.left + box.right) / 2, y: box.bottom + 34, 'text-anchor': 'middle' }, xLabel));
  if (yLabel) {
    group.append(svg('text', { class: 'label', transform: `translate(14 ${(box.top + box.bottom) / 2}) rotate(-90)`, 'text-anchor': 'middle' }, yLabel));
  }
  chart.append(group);
  return { sx, sy };
}

const plotBox = { left: 62, right: 470, top: 12, bottom: 250 };

/// A tiny histogram for a table cell.
export function sparkHistogram(histogram, label) {
  const { counts } = histogram;
  const width = 120, height = 32, most = Math.max(...counts, 1), bar = width / counts.length;
  const chart = frame(width, height, label);
  chart.classList.add('spark');
  counts.forEach((count, index) => {
    const barHeight = (count / most) * (height - 2);
    chart.append(svg('rect', { x: index * bar + 0.5, y: height - barHeight, width: Math.max(bar - 1, 1), height: barHeight }));
  });
  return chart;
}

/// Tiny horizontal bars for the most frequent categories of a column.
export function sparkCategories(top, rows, label) {
  const shown = top.slice(0, 4);
  const width = 120, line = 9, height = shown.length * line;
  const chart = frame(width, Math.max(height, line), label);
  chart.classList.add('spark');
  shown.forEach((entry, index) => {
    chart.append(svg('rect', { x: 0, y: index * line + 1, width: Math.max((entry.count / rows) * width, 1), height: line - 2 }));
  });
  return chart;
}

/// Labelled horizontal bars, largest first (feature importance).
export function horizontalBars(items, { label, valueLabel }) {
  const rowHeight = 26, left = 130, right = 330, width = 400;
  const height = items.length * rowHeight + 30;
  const high = Math.max(...items.map((item) => item.value), 0) || 1;
  const chart = frame(width, height, label);
  const sx = (v) => left + (Math.max(v, 0) / high) * (right - left);
  items.forEach((item, index) => {
    const y = index * rowHeight + 4;
    chart.append(svg('text', { x: left - 8, y: y + 15, 'text-anchor': 'end' }, item.label));
    chart.append(svg('rect', { class: 'bar', x: left, y, width: Math.max(sx(item.value) - left, 1), height: rowHeight - 8 }));
    chart.append(svg('text', { x: sx(item.value) + 6, y: y + 15 }, formatNumber(item.value, 3)));
  });
  chart.append(svg('text', { class: 'label', x: (left + right) / 2, y: height - 6, 'text-anchor': 'middle' }, valueLabel));
  return chart;
}

/// Which inputs pushed the prediction up (red, right) or down (blue, left) from the base value;
/// each bar is labelled with the input and its value, the amounts in a column of their own.
export function contributionBars(contributions, { label, unit }) {
  const rowHeight = 26, left = 150, right = 350, width = 420;
  const height = contributions.length * rowHeight + 34;
  const reach = Math.max(...contributions.map((c) => Math.abs(c.contribution)), 1e-12);
  const middle = (left + right) / 2;
  const scale = (right - left) / 2 / reach;
  const chart = frame(width, height, label);
  chart.append(svg('line', { class: 'zero', x1: middle, x2: middle, y1: 0, y2: height - 28 }));
  contributions.forEach((item, index) => {
    const y = index * rowHeight + 4, size = Math.abs(item.contribution) * scale;
    const up = item.contribution >= 0;
    const amount = `${up ? '+' : '−'}${formatNumber(Math.abs(item.contribution), 3)}`;
    chart.append(svg('text', { x: left - 8, y: y + 15, 'text-anchor': 'end' }, item.label ?? item.feature));
    chart.append(svg('rect', { class: up ? 'bar up' : 'bar down', x: up ? middle : middle - size, y, width: Math.max(size, 1), height: rowHeight - 8 },
      svg('title', {}, `${item.feature}: ${amount}`)));
    chart.append(svg('text', { x: width - 4, y: y + 15, 'text-anchor': 'end', class: 'value' }, amount));
  });
  chart.append(svg('text', { class: 'label', x: middle, y: height - 8, 'text-anchor': 'middle' }, `← lowers · raises → (${unit})`));
  return chart;
}

/// Predicted against actual, with the line where they agree.
export function scatter(points, { label, xLabel, yLabel }) {
  const chart = frame(500, 290, label);
  const [low, high] = extent(points.flatMap((p) => [p.x, p.y]), 0.04);
  const { sx, sy } = axes(chart, { x: [low, high], y: [low, high] }, plotBox, { xLabel, yLabel });
  chart.append(svg('line', { class: 'diagonal', x1: sx(low), y1: sy(low), x2: sx(high), y2: sy(high) }));
  for (const point of points) chart.append(svg('circle', { class: 'dot', cx: sx(point.x), cy: sy(point.y), r: 3 }));
  return chart;
}

/// A line through points (x sorted), optionally with the diagonal and one highlighted point.
/// A line through `points`; `band` (points with `low` and `high`) is shaded behind it, such as
/// a prediction interval.
export function lineChart(points, { label, xLabel, yLabel, xDomain, yDomain, diagonal = false, marker = null, sizes = null, band = null }) {
  const chart = frame(500, 290, label);
  const [x0, x1] = xDomain ?? extent(points.map((p) => p.x), 0.02);
  const bandValues = (band ?? []).flatMap((p) => [p.low, p.high]);
  const [y0, y1] = yDomain ?? extent(points.map((p) => p.y).concat(marker ? [marker.y] : [], bandValues), 0.08);
  const { sx, sy } = axes(chart, { x: [x0, x1], y: [y0, y1] }, plotBox, { xLabel, yLabel });
  if (band?.length) {
    const outline = band.map((p) => `${sx(p.x)},${sy(p.high)}`).concat([...band].reverse().map((p) => `${sx(p.x)},${sy(p.low)}`));
    chart.append(svg('polygon', { class: 'band', points: outline.join(' ') }, svg('title', {}, 'the range the actual value falls in, at the model\'s coverage')));
  }
  if (diagonal) chart.append(svg('line', { class: 'diagonal', x1: sx(x0), y1: sy(y0), x2: sx(x1), y2: sy(y1) }));
  chart.append(svg('polyline', { class: 'series', points: points.map((p) => `${sx(p.x)},${sy(p.y)}`).join(' ') }));
  points.forEach((point, index) => {
    const radius = sizes ? 2 + 5 * Math.sqrt(sizes[index] / Math.max(...sizes)) : 3;
    chart.append(svg('circle', { class: 'dot', cx: sx(point.x), cy: sy(point.y), r: radius },
      svg('title', {}, `${formatNumber(point.x)} → ${formatNumber(point.y)}`)));
  });
  if (marker) {
    chart.append(svg('circle', { class: 'marker', cx: sx(marker.x), cy: sy(marker.y), r: 7 },
      svg('title', {}, `now: ${formatNumber(marker.x)} → ${formatNumber(marker.y)}`)));
  }
  return chart;
}

/// Vertical bars for a categorical what-if, the current category highlighted; `band` (points
/// with `low` and `high`, in the same order) draws each bar's range as a whisker.
export function categoryChart(points, { label, yLabel, current, yDomain, band = null }) {
  const chart = frame(500, 290, label);
  const box = { ...plotBox, bottom: 230 };
  const highs = (band ?? []).map((p) => p.high);
  const [y0, y1] = yDomain ?? [Math.min(0, ...points.map((p) => p.y), ...(band ?? []).map((p) => p.low)), Math.max(...points.map((p) => p.y), ...highs) * 1.1 || 1];
  const { sy } = axes(chart, { x: [0, 1], y: [y0, y1] }, box, { yLabel, xTicks: false });
  const slot = (box.right - box.left) / points.length;
  points.forEach((point, index) => {
    const x = box.left + index * slot + slot * 0.15;
    const top = sy(Math.max(point.y, y0));
    chart.append(svg('rect', { class: point.x === current ? 'bar marker' : 'bar', x, y: top, width: slot * 0.7, height: Math.max(box.bottom - top, 1) },
      svg('title', {}, `${point.x} → ${formatNumber(point.y)}`)));
    // Dates as month-day, every few labelled so that they do not overlap; categories all.
    const date = /^\d{4}-\d{2}-\d{2}/.test(String(point.x));
    const text = date ? String(point.x).slice(5, 10) : String(point.x).slice(0, 12);
    if (!date || index % Math.ceil(points.length / 10) === 0) chart.append(svg('text', { x: x + slot * 0.35, y: box.bottom + 16, 'text-anchor': 'middle' }, text));
    const range = band?.[index];
    if (range) {
      chart.append(svg('line', { class: 'whisker', x1: x + slot * 0.35, x2: x + slot * 0.35, y1: sy(Math.max(range.low, y0)), y2: sy(Math.min(range.high, y1)) },
        svg('title', {}, `${point.x}: ${formatNumber(range.low)} to ${formatNumber(range.high)}`)));
    }
  });
  return chart;
}

/// Counts of actual (rows) against predicted (columns) classes, shaded by the share of the row.
export function confusionMatrix(matrix, classes) {
  const header = h('tr', {}, h('th', { scope: 'col' }, 'actual ↓ / predicted →'), classes.map((name) => h('th', { scope: 'col' }, name)));
  const rows = matrix.map((counts, actual) => {
    const total = counts.reduce((a, b) => a + b, 0) || 1;
    return h('tr', {}, h('th', { scope: 'row' }, classes[actual]), counts.map((count, predicted) => {
      const cell = h('td', { class: predicted === actual ? 'hit' : 'miss' }, String(count));
      const share = count / total;
      cell.style.setProperty('--share', share.toFixed(3));
      if (share > 0.55) cell.classList.add('dark');
      return cell;
    }));
  });
  return h('table', { class: 'confusion' }, h('caption', {}, 'Out-of-fold predictions: each row is what the cases of one class were predicted as'),
    h('thead', {}, header), h('tbody', {}, rows));
}

/// PSI per monitoring window for a few quantities, one line each, over the bands of the usual
/// reading: below `moderate` stable, up to `major` a moderate shift, above a major one. Points of
/// windows that cannot be flagged (open, or too few rows) are drawn hollow.
export function psiChart(series, { label, windowLabels, moderate = 0.1, major = 0.25, threshold = major }) {
  const chart = frame(500, 300, label);
  const box = { ...plotBox, bottom: 240 };
  const count = windowLabels.length;
  // Above 1 every shift is major: the scale stops there so that the bands stay readable.
  const values = series.flatMap((line) => line.points.map((p) => p.psi)).filter(Number.isFinite);
  const highest = Math.min(Math.max(major * 1.6, threshold * 1.2, ...values.map((value) => value * 1.1)), 1);
  const { sx, sy } = axes(chart, { x: [-0.5, Math.max(count - 0.5, 0.5)], y: [0, highest] }, box, { yLabel: 'PSI', xTicks: false });
  chart.append(svg('rect', { class: 'psi-moderate', x: box.left, width: box.right - box.left, y: sy(major), height: sy(moderate) - sy(major) },
    svg('title', {}, `${moderate} to ${major}: a moderate shift`)));
  chart.append(svg('rect', { class: 'psi-major', x: box.left, width: box.right - box.left, y: box.top, height: sy(major) - box.top },
    svg('title', {}, `${major} and above: a major shift`)));
  for (const [value, text] of [[moderate, `${moderate} moderate`], [major, `${major} major`]]) {
    chart.append(svg('line', { class: 'threshold', x1: box.left, x2: box.right, y1: sy(value), y2: sy(value) }));
    chart.append(svg('text', { class: 'label', x: box.right - 4, y: sy(value) - 4, 'text-anchor': 'end' }, text));
  }
  if (threshold !== moderate && threshold !== major) {
    chart.append(svg('line', { class: 'threshold flag', x1: box.left, x2: box.right, y1: sy(threshold), y2: sy(threshold) },
      svg('title', {}, `flagged at ${threshold}`)));
  }
  // At most four labels, so that times with seconds do not run into each other.
  const every = Math.ceil(count / 4);
  const lastLabelled = Math.floor((count - 1) / every) * every;
  windowLabels.forEach((text, index) => {
    if (index % every === 0 || (index === count - 1 && index - lastLabelled >= every / 2 + 0.5)) {
      chart.append(svg('text', { x: sx(index), y: box.bottom + 16, 'text-anchor': 'middle', class: 'tick' }, text));
    }
  });
  chart.append(svg('text', { class: 'label', x: (box.left + box.right) / 2, y: box.bottom + 38, 'text-anchor': 'middle' }, 'monitoring windows, oldest first'));
  series.forEach((line, index) => {
    const group = svg('g', { class: `psi-series series-${index}${line.dashed ? ' dashed' : ''}`, dataset: { name: line.name } });
    const drawn = line.points.filter((p) => Number.isFinite(p.psi));
    group.append(svg('polyline', { points: drawn.map((p) => `${sx(p.index)},${sy(Math.min(p.psi, highest))}`).join(' ') }));
    for (const point of drawn) {
      const x = sx(point.index), y = sy(Math.min(point.psi, highest));
      const title = svg('title', {}, `${line.name}, ${windowLabels[point.index]}: PSI ${formatNumber(point.psi, 3)}${point.counted ? '' : ' (not counted: open or too few rows)'}`);
      const shape = point.psi > highest
        ? svg('polygon', { points: `${x},${y - 5} ${x - 5},${y + 4} ${x + 5},${y + 4}` }, title)
        : svg('circle', { cx: x, cy: y, r: 4 }, title);
      shape.setAttribute('class', point.counted ? 'point' : 'point hollow');
      group.append(shape);
    }
    chart.append(group);
  });
  return chart;
}

/// The share of rows in each bin, training beside a window: two bars per bin, the bins down.
export function pairedBars(bins, reference, current, { label, referenceLabel, currentLabel }) {
  const rowHeight = 30, left = 150, right = 400, width = 480;
  const top = 26, height = top + bins.length * rowHeight + 8;
  const highest = Math.max(...reference, ...current, 0.01);
  const chart = frame(width, height, label);
  const sx = (share) => left + (share / highest) * (right - left);
  chart.append(svg('rect', { class: 'bar reference', x: left, y: 4, width: 12, height: 12 }));
  chart.append(svg('text', { x: left + 18, y: 15 }, referenceLabel));
  chart.append(svg('rect', { class: 'bar current', x: left + 150, y: 4, width: 12, height: 12 }));
  chart.append(svg('text', { x: left + 168, y: 15 }, currentLabel));
  bins.forEach((bin, index) => {
    const y = top + index * rowHeight;
    chart.append(svg('text', { x: left - 8, y: y + 17, 'text-anchor': 'end' }, String(bin).slice(0, 22)));
    const pairs = [['reference', reference[index] ?? 0, 2], ['current', current[index] ?? 0, 14]];
    for (const [kind, share, offset] of pairs) {
      chart.append(svg('rect', { class: `bar ${kind}`, x: left, y: y + offset, width: Math.max(sx(share) - left, 1), height: 11 },
        svg('title', {}, `${bin}: ${(share * 100).toFixed(1)}% ${kind === 'reference' ? referenceLabel : currentLabel}`)));
      chart.append(svg('text', { x: sx(share) + 5, y: y + offset + 10, class: 'value small' }, `${(share * 100).toFixed(1)}%`));
    }
  });
  return chart;
}

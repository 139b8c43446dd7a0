// DeepRacer training dashboard: hash-routed pages over the local JSON API.
// Every string from the API reaches the page through textContent (see el()),
// because run names, reports and warnings come from folders we do not control.
'use strict';

const ROLLING = 50;            // episodes in the rolling mean of progress
const RUNS_REFRESH_MS = 5000;  // runs list polling period
const TRAJ_REFRESH_MS = 5000;  // at most one trajectories refetch per period while live
const MARKER_MS = 200;         // the trial player moves its track marker at most 5 times/s
const PRELOAD = 15;            // camera frames fetched ahead of the playhead
const MAX_COMPARE = 8;
const DASH = '—';
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2'];
const PLOT_CONFIG = {responsive: true, displaylogo: false, modeBarButtonsToRemove: ['select2d', 'lasso2d']};

/* ------------------------------------------------------------------ DOM helpers */

// Builds an element. Children that are not Nodes become text nodes, so data is never parsed as HTML.
function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value == null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'testid') node.dataset.testid = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (['checked', 'disabled', 'value', 'hidden'].includes(key)) node[key] = value;
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function errorLine(message) {
  return el('p', {class: 'error', testid: 'error', role: 'alert'}, message);
}

function noteLine(message, testid) {
  return el('p', {class: 'note', testid}, message);
}

function warningBanner(warnings, testid) {
  return el('div', {class: 'banner warning', testid, role: 'status'},
    el('ul', {}, warnings.map((w) => el('li', {}, String(w)))));
}

// Status values are a fixed set, but a class name built from data is still sanitised.
function statusBadge(status) {
  const text = status || 'unknown';
  const cls = String(text).toLowerCase().replace(/[^a-z0-9-]/g, '');
  return el('span', {class: `badge status-${cls}`, testid: 'status'}, text);
}

function setBadge(badge, status) {
  const fresh = statusBadge(status);
  badge.className = fresh.className;
  badge.textContent = fresh.textContent;
}

// Plotly renders a subset of HTML in names and hover text: entities keep data literal.
function plotlyText(value) {
  return String(value).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

// Export links come from the server, but anything that is not http(s) is refused anyway.
function safeHref(url) {
  try {
    const parsed = new URL(String(url), location.href);
    return ['http:', 'https:'].includes(parsed.protocol) ? String(url) : null;
  } catch {
    return null;
  }
}

/* ------------------------------------------------------------------ API */

class ApiError extends Error {}

// GETs a JSON endpoint; a non-2xx answer becomes an ApiError carrying the server's `detail`.
async function api(path, params) {
  const url = params ? `${path}?${new URLSearchParams(params)}` : path;
  let response;
  try {
    response = await fetch(url, {headers: {Accept: 'application/json'}});
  } catch (err) {
    throw new ApiError(`${path}: network error (${err.message})`);
  }
  if (!response.ok) throw new ApiError(await errorDetail(response));
  return response.json();
}

async function errorDetail(response) {
  try {
    const body = await response.json();
    if (typeof body.detail === 'string') return body.detail;
    if (body.detail != null) return JSON.stringify(body.detail); // FastAPI validation errors are lists
  } catch {
    // not JSON: fall through to the status line
  }
  return `${response.status} ${response.statusText}`.trim();
}

function messageOf(err) {
  return err instanceof Error ? err.message : String(err);
}

// Shows unexpected exceptions on the console too: they are bugs, not server answers.
function reportError(container, err) {
  if (!(err instanceof ApiError)) console.error(err);
  container.append(errorLine(messageOf(err)));
}

/* ------------------------------------------------------------------ formatting */

const INT = new Intl.NumberFormat('en-US');
const isNum = (v) => typeof v === 'number' && Number.isFinite(v);
const numOrNull = (v) => (isNum(v) ? v : null);
const pad2 = (n) => String(n).padStart(2, '0');

function fmtInt(v) {
  return isNum(v) ? INT.format(Math.round(v)) : DASH;
}

function fmtFixed(v, digits, unit = '') {
  return isNum(v) ? `${v.toFixed(digits)}${unit}` : DASH;
}

function fmtPct(v) {
  return fmtFixed(v, 1, '%');
}

function fmtSteps(steps, total) {
  if (!isNum(steps)) return DASH;
  return isNum(total) && total > 0 ? `${fmtInt(steps)} / ${fmtInt(total)}` : fmtInt(steps);
}

function fmtAgo(unixSeconds) {
  if (!isNum(unixSeconds)) return DASH;
  const s = Math.max(0, Math.round(Date.now() / 1000 - unixSeconds));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

function fmtDuration(seconds) {
  if (!isNum(seconds)) return DASH;
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h > 0) return `${h} h ${pad2(m)} min`;
  if (m > 0) return `${m} min ${pad2(s % 60)} s`;
  return `${s} s`;
}

// The console's lap time format, mm:ss.mmm.
function fmtClock(seconds) {
  if (!isNum(seconds)) return DASH;
  const ms = Math.round(seconds * 1000);
  const m = Math.floor(ms / 60000);
  const rest = ((ms % 60000) / 1000).toFixed(3).padStart(6, '0');
  return `${pad2(m)}:${rest}`;
}

function fmtStamp(stamp) {
  const m = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)$/.exec(String(stamp));
  return m ? `${m[1]}-${m[2]}-${m[3]} ${m[4]}:${m[5]}:${m[6]}` : String(stamp);
}

function fmtSize(bytes) {
  return isNum(bytes) ? `${(bytes / 1e6).toFixed(1)} MB` : DASH;
}

// Short number for labels: at most `digits` decimals, no trailing zeros.
function fmtShort(v, digits = 2) {
  return isNum(v) ? String(Number(v.toFixed(digits))) : DASH;
}

function fmtDate(unixSeconds) {
  return isNum(unixSeconds) ? new Date(unixSeconds * 1000).toLocaleString() : '';
}

/* ------------------------------------------------------------------ data helpers */

// Mean over the last `window` values at each index from `start` on (fewer at the beginning).
// Starting late lets live updates extend the curve without recomputing all of it.
function rollingMean(values, window = ROLLING, start = 0) {
  const out = [];
  const first = Math.max(0, start - window + 1);
  let sum = 0;
  for (let i = first; i < values.length; i++) {
    sum += values[i];
    if (i - window >= first) sum -= values[i - window];
    if (i >= start) out.push(sum / Math.min(i + 1, window));
  }
  return out;
}

function best(values, pick) {
  const nums = values.filter(isNum);
  return nums.length ? pick(...nums) : null;
}

// Share of the last `count` episodes that completed a lap. Points may average several
// episodes (the server's buckets), so each point weighs the episodes it stands for.
function recentLapRate(train, count = ROLLING) {
  let remaining = count;
  let laps = 0;
  for (let i = train.lap.length - 1; i >= 0 && remaining > 0; i--) {
    const span = i > 0 ? train.episode[i] - train.episode[i - 1] : train.episode[i];
    const weight = Math.min(remaining, isNum(span) && span > 0 ? span : 1);
    laps += (isNum(train.lap[i]) ? train.lap[i] : 0) * weight;
    remaining -= weight;
  }
  return remaining < count ? laps / (count - remaining) : null;
}

function emptyTraining() {
  return {total: 0, bucket: 1, episode: [], reward: [], progress: [], lap: []};
}

// Copies the arrays we keep, so that Plotly's own copies and ours never alias.
function normaliseTraining(data) {
  const t = emptyTraining();
  if (!data) return t;
  t.total = isNum(data.total) ? data.total : 0;
  t.bucket = isNum(data.bucket) ? data.bucket : 1;
  for (const key of ['episode', 'reward', 'progress', 'lap']) {
    t[key] = Array.isArray(data[key]) ? data[key].slice() : [];
  }
  return t;
}

/* ------------------------------------------------------------------ plot helpers */

function baseLayout(extra) {
  return Object.assign({
    margin: {l: 55, r: 20, t: 10, b: 45},
    font: {family: 'system-ui, -apple-system, "Segoe UI", sans-serif', size: 12, color: '#334'},
    paper_bgcolor: '#fff',
    plot_bgcolor: '#fff',
    hovermode: 'closest',
    legend: {orientation: 'h', x: 0, y: 1.02, yanchor: 'bottom'},
    uirevision: 'keep', // live redraws keep the user's zoom
  }, extra);
}

function axis(title, extra) {
  return Object.assign({
    title: {text: title}, gridcolor: '#eef0f3', zerolinecolor: '#d5d9e0', automargin: true,
  }, extra);
}

// A second y axis on the right, sharing the x axis.
function rightAxis(title, extra) {
  return axis(title, Object.assign({overlaying: 'y', side: 'right', showgrid: false, tickmode: 'auto'}, extra));
}

function drawPlot(div, traces, layout) {
  return Plotly.react(div, traces, layout, PLOT_CONFIG);
}

function purgePlots(root) {
  for (const div of root.querySelectorAll('.js-plotly-plot')) Plotly.purge(div);
}

function closeLoop(points) {
  const pts = Array.isArray(points) ? points : [];
  if (pts.length < 3) return pts;
  const [a, b] = [pts[0], pts[pts.length - 1]];
  return a[0] === b[0] && a[1] === b[1] ? pts : pts.concat([a]);
}

function lineTrace(points, name, line, extra) {
  const pts = closeLoop(points);
  return Object.assign({
    type: 'scatter', mode: 'lines', name, line, hoverinfo: 'skip',
    x: pts.map((p) => p[0]), y: pts.map((p) => p[1]),
  }, extra);
}

function trackTraces(track) {
  if (!track) return [];
  const traces = [
    lineTrace(track.outer, 'outer border', {color: '#8a8f98', width: 1.5}, {showlegend: false}),
    lineTrace(track.inner, 'inner border', {color: '#8a8f98', width: 1.5}, {showlegend: false}),
    lineTrace(track.center, 'centre line', {color: '#c8ccd2', width: 1, dash: 'dash'}, {showlegend: false}),
  ];
  if (Array.isArray(track.raceline) && track.raceline.length) {
    traces.push(lineTrace(track.raceline, 'race line', {color: '#000', width: 1.5, dash: 'dash'}));
  }
  return traces;
}

function trackLayout(extra) {
  const bare = {showgrid: false, zeroline: false, showticklabels: false, ticks: '', title: {text: ''}};
  return baseLayout(Object.assign({
    margin: {l: 10, r: 10, t: 10, b: 10},
    xaxis: Object.assign({}, bare),
    yaxis: Object.assign({scaleanchor: 'x', scaleratio: 1}, bare),
    legend: {orientation: 'h', x: 0, y: 0, yanchor: 'top'},
  }, extra));
}

// A chart container with a note that replaces it when there is nothing to draw.
function chartBox(testid, emptyText, size = '') {
  const div = el('div', {class: `chart ${size}`.trim(), testid});
  const note = noteLine(emptyText, `${testid}-empty`);
  note.hidden = true;
  const errors = el('div', {class: 'errors'});
  return {div, note, errors, node: el('div', {class: 'chart-box'}, errors, note, div)};
}

function showChart(box, visible) {
  box.div.hidden = !visible;
  box.note.hidden = visible;
}

function card(title, ...children) {
  return el('section', {class: 'card'}, el('h2', {}, title), ...children);
}

/* ------------------------------------------------------------------ routing */

let current = null; // {alive, cleanups}: the page on screen; async work checks `alive`

function runHref(name) {
  return `#/run/${encodeURIComponent(name)}`;
}

function trialHref(name, stamp, trial) {
  return `${runHref(name)}/trial/${encodeURIComponent(stamp)}/${encodeURIComponent(trial)}`;
}

function compareHref(names) {
  return `#/compare?runs=${names.map(encodeURIComponent).join(',')}`;
}

function decode(part) {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

// Names are encodeURIComponent'ed, so '/' only separates route parts; a raw '/' typed
// into a name still works because leftover parts are joined back.
function parseRoute(hash) {
  const raw = hash.replace(/^#/, '');
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  const query = q < 0 ? '' : raw.slice(q + 1);
  const parts = path.split('/').filter((p) => p !== '');
  if (parts.length === 0) return {page: 'runs'};
  if (parts[0] === 'compare') return {page: 'compare', names: parseRunsQuery(query)};
  if (parts[0] === 'run' && parts.length >= 2) {
    const rest = parts.slice(1);
    const t = rest.length - 3;
    if (rest.length >= 4 && rest[t] === 'trial') {
      return {
        page: 'trial', name: rest.slice(0, t).map(decode).join('/'),
        stamp: decode(rest[t + 1]), trial: decode(rest[t + 2]),
      };
    }
    return {page: 'run', name: rest.map(decode).join('/')};
  }
  return {page: 'unknown'};
}

// `runs` holds encodeURIComponent'ed names joined by ',', so split before decoding.
function parseRunsQuery(query) {
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    if (eq >= 0 && pair.slice(0, eq) === 'runs') {
      return pair.slice(eq + 1).split(',').filter((s) => s !== '').map(decode);
    }
  }
  return [];
}

function setTitle(text) {
  document.querySelector('[data-testid="page-title"]').textContent = text;
  document.title = `${text} · DeepRacer`;
}

function leavePage() {
  if (!current) return;
  current.alive = false;
  for (const cleanup of current.cleanups) {
    try {
      cleanup();
    } catch (err) {
      console.error(err);
    }
  }
  purgePlots(document.getElementById('app'));
}

function route() {
  leavePage();
  const ctx = {alive: true, cleanups: []};
  current = ctx;
  const main = document.getElementById('app');
  main.replaceChildren();
  const r = parseRoute(location.hash);
  const pages = {
    runs: () => runsPage(main, ctx),
    run: () => runPage(main, ctx, r.name),
    trial: () => trialPage(main, ctx, r.name, r.stamp, r.trial),
    compare: () => comparePage(main, ctx, r.names),
    unknown: () => {
      setTitle('Not found');
      main.append(errorLine(`No page at ${location.hash}`));
    },
  };
  Promise.resolve()
    .then(pages[r.page])
    .catch((err) => {
      if (ctx.alive) reportError(main, err);
    });
}

/* ------------------------------------------------------------------ runs list */

// Kept at module level so sorting, filter and selection survive refreshes and navigation.
const runsState = {selected: new Set(), sortKey: null, sortDir: 1, filter: '', runs: [], root: ''};

const RUN_COLUMNS = [
  {key: 'name', label: 'Name', value: (r) => r.name, cell: nameCell},
  {key: 'kind', label: 'Kind', value: (r) => r.kind},
  {key: 'status', label: 'Status', value: (r) => r.status, cell: (r) => statusBadge(r.status)},
  {key: 'world', label: 'World', value: (r) => r.world},
  {key: 'observation', label: 'Observation', value: (r) => r.observation},
  {key: 'algorithm', label: 'Algorithm', value: (r) => r.algorithm},
  {key: 'steps', label: 'Steps', num: true, value: (r) => numOrNull(r.steps),
    text: (r) => fmtSteps(r.steps, r.total_steps)},
  {key: 'episodes', label: 'Episodes', num: true, value: (r) => numOrNull(r.episodes),
    text: (r) => fmtInt(r.episodes)},
  {key: 'best_progress', label: 'Best eval progress', num: true, value: (r) => numOrNull(r.best_progress),
    text: (r) => fmtPct(r.best_progress)},
  {key: 'best_lap', label: 'Best lap (s)', num: true, value: (r) => numOrNull(r.best_lap),
    text: (r) => fmtFixed(r.best_lap, 3)},
  {key: 'lap_ratio', label: 'vs race line', num: true, value: (r) => numOrNull(r.lap_ratio),
    text: (r) => fmtFixed(r.lap_ratio, 2, 'x')},
  {key: 'updated', label: 'Updated', num: true, value: (r) => numOrNull(r.updated),
    text: (r) => fmtAgo(r.updated), title: (r) => fmtDate(r.updated)},
];

const FILTER_FIELDS = ['name', 'kind', 'status', 'world', 'observation', 'algorithm'];

function nameCell(run) {
  const warnings = Array.isArray(run.warnings) ? run.warnings : [];
  return [
    el('a', {href: runHref(run.name), class: 'run-link'}, run.name),
    warnings.length ? el('span', {
      class: 'warn-marker', testid: 'run-warning', title: warnings.map(String).join('\n'),
      'aria-label': `${warnings.length} warning(s)`,
    }, '⚠') : null,
    run.trusted === false ? el('span', {class: 'tag', title: 'files not written by this machine'}, 'untrusted') : null,
  ];
}

function filterRuns(runs, text) {
  const needle = text.trim().toLowerCase();
  if (!needle) return runs;
  return runs.filter((r) => FILTER_FIELDS.some((f) => r[f] != null && String(r[f]).toLowerCase().includes(needle)));
}

// Stable sort; nulls go last whichever the direction.
function sortRuns(runs, key, dir) {
  const col = RUN_COLUMNS.find((c) => c.key === key);
  if (!col) return runs;
  const rows = runs.map((run, i) => ({run, i, v: col.value(run)}));
  rows.sort((a, b) => {
    const aNull = a.v == null || a.v === '';
    const bNull = b.v == null || b.v === '';
    if (aNull || bNull) return aNull === bNull ? a.i - b.i : (aNull ? 1 : -1);
    const c = col.num ? a.v - b.v
      : String(a.v).localeCompare(String(b.v), undefined, {numeric: true, sensitivity: 'base'});
    return c * dir || a.i - b.i;
  });
  return rows.map((row) => row.run);
}

function selectedRuns() {
  const present = new Set(runsState.runs.map((r) => r.name));
  return [...runsState.selected].filter((name) => present.has(name));
}

async function runsPage(main, ctx) {
  setTitle('Runs');
  const view = {
    banner: el('div', {class: 'banner-slot'}),
    errors: el('div', {class: 'errors'}),
    filter: el('input', {
      type: 'search', class: 'filter', testid: 'filter', placeholder: 'Filter by name, kind, status, world…',
      value: runsState.filter, 'aria-label': 'Filter runs',
    }),
    compare: el('button', {type: 'button', testid: 'compare-button', class: 'primary'}, 'Compare selected'),
    count: el('span', {class: 'muted', testid: 'runs-count'}),
    thead: el('thead'),
    tbody: el('tbody'),
  };
  view.filter.addEventListener('input', () => {
    runsState.filter = view.filter.value;
    renderRunRows(view);
  });
  view.compare.addEventListener('click', () => {
    const names = selectedRuns();
    if (names.length >= 2) location.hash = compareHref(names);
  });
  main.append(
    view.banner, view.errors,
    el('div', {class: 'toolbar'}, view.filter, view.compare, view.count),
    el('div', {class: 'table-wrap'},
      el('table', {class: 'grid runs-table', testid: 'runs-table'}, view.thead, view.tbody)),
  );
  renderRunHeader(view);
  renderRunRows(view);

  let busy = false;
  const refresh = async () => {
    if (busy) return; // a slow server must not pile up requests
    busy = true;
    try {
      const data = await api('/api/runs');
      if (!ctx.alive) return;
      runsState.runs = Array.isArray(data.runs) ? data.runs : [];
      runsState.root = data.root || '';
      view.errors.replaceChildren();
      const warnings = Array.isArray(data.warnings) ? data.warnings : [];
      view.banner.replaceChildren(warnings.length ? warningBanner(warnings, 'runs-warnings') : '');
      renderRunRows(view);
    } catch (err) {
      if (ctx.alive) {
        view.errors.replaceChildren();
        reportError(view.errors, err);
      }
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(refresh, RUNS_REFRESH_MS);
  ctx.cleanups.push(() => clearInterval(timer));
  await refresh();
}

function renderRunHeader(view) {
  const visible = () => filterRuns(runsState.runs, runsState.filter);
  const all = el('input', {type: 'checkbox', testid: 'select-all', 'aria-label': 'Select all shown runs'});
  all.addEventListener('change', () => {
    for (const run of visible()) {
      if (all.checked) runsState.selected.add(run.name);
      else runsState.selected.delete(run.name);
    }
    renderRunRows(view);
  });
  view.selectAll = all;
  const cells = RUN_COLUMNS.map((col) => {
    const active = runsState.sortKey === col.key;
    const arrow = active ? (runsState.sortDir > 0 ? ' ▲' : ' ▼') : '';
    const th = el('th', {
      class: `sortable${col.num ? ' num' : ''}${active ? ' sorted' : ''}`, dataset: {col: col.key},
      'aria-sort': active ? (runsState.sortDir > 0 ? 'ascending' : 'descending') : 'none', tabindex: 0,
    }, col.label, el('span', {class: 'arrow'}, arrow));
    const sort = () => {
      runsState.sortDir = active ? -runsState.sortDir : 1;
      runsState.sortKey = col.key;
      renderRunHeader(view);
      renderRunRows(view);
    };
    th.addEventListener('click', sort);
    th.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        sort();
      }
    });
    return th;
  });
  view.thead.replaceChildren(el('tr', {}, el('th', {class: 'select'}, all), cells));
}

function renderRunRows(view) {
  const shown = sortRuns(filterRuns(runsState.runs, runsState.filter), runsState.sortKey, runsState.sortDir);
  const rows = shown.map((run) => runRow(run, view));
  if (!rows.length) {
    const text = runsState.runs.length ? 'No runs match the filter.'
      : `No runs found${runsState.root ? ` under ${runsState.root}` : ''}.`;
    rows.push(el('tr', {class: 'empty'}, el('td', {colspan: RUN_COLUMNS.length + 1}, text)));
  }
  view.tbody.replaceChildren(...rows);
  view.shown = shown;
  renderSelection(view);
}

function renderSelection(view) {
  const selected = selectedRuns();
  view.compare.disabled = selected.length < 2;
  view.compare.title = selected.length < 2 ? 'Select two runs or more' : `Compare ${selected.length} runs`;
  view.count.textContent = `${view.shown.length} of ${runsState.runs.length} runs · ${selected.length} selected`;
  if (view.selectAll) {
    view.selectAll.checked = view.shown.length > 0 && view.shown.every((r) => runsState.selected.has(r.name));
  }
}

function runRow(run, view) {
  const warnings = Array.isArray(run.warnings) ? run.warnings : [];
  const box = el('input', {
    type: 'checkbox', testid: 'select-run', checked: runsState.selected.has(run.name),
    'aria-label': `Select ${run.name}`,
  });
  box.addEventListener('change', () => {
    if (box.checked) runsState.selected.add(run.name);
    else runsState.selected.delete(run.name);
    renderSelection(view);
  });
  const cells = RUN_COLUMNS.map((col) => {
    const content = col.cell ? col.cell(run) : (col.text ? col.text(run) : (run[col.key] ?? DASH));
    return el('td', {class: col.num ? 'num' : null, dataset: {col: col.key}, title: col.title ? col.title(run) : null},
      content);
  });
  return el('tr', {dataset: {run: run.name}, class: warnings.length ? 'has-warning' : null},
    el('td', {class: 'select'}, box), cells);
}

/* ------------------------------------------------------------------ one run */

async function runPage(main, ctx, name) {
  setTitle(name);
  const run = await api('/api/run', {name});
  if (!ctx.alive) return;
  const view = new RunView(ctx, name, run);
  main.append(view.render());
  await view.load();
}

class RunView {
  constructor(ctx, name, run) {
    this.ctx = ctx;
    this.name = name;
    this.summary = run.summary || {name};
    this.progress = run.progress || null;
    this.evaluations = Array.isArray(run.evaluations) ? run.evaluations : [];
    this.trials = Array.isArray(run.trials) ? run.trials : [];
    this.exports = Array.isArray(run.exports) ? run.exports : [];
    this.plugin = run.plugin || null;
    this.warnings = [].concat(this.summary.warnings || [], run.warnings || []);
    this.train = emptyTraining();
    this.episodeCount = numOrNull(this.progress && this.progress.episodes) ?? numOrNull(this.summary.episodes);
    this.track = null;
    this.es = null;
    this.queue = Promise.resolve();   // live updates apply one after the other
    this.timers = new Set();
    this.trajLoadedAt = 0;
    this.trajTimer = null;
    // Hash navigation keeps window globals: each run page starts its own count.
    window.__drStats = {updates: 0, lastUpdateMs: null, maxUpdateMs: 0};
    ctx.cleanups.push(() => this.dispose());
  }

  get isPlugin() {
    return this.summary.kind === 'plugin';
  }

  get isTraining() {
    return this.summary.status === 'training';
  }

  render() {
    const s = this.summary;
    this.badge = statusBadge(s.status);
    const meta = [s.kind, s.world, s.observation, s.algorithm].filter((v) => v != null && v !== '');
    this.kpi = {};
    const kpi = (label, testid) => {
      this.kpi[testid] = el('div', {class: 'kpi-value', testid}, DASH);
      return el('div', {class: 'kpi'}, el('div', {class: 'kpi-label'}, label), this.kpi[testid]);
    };
    const root = el('div', {class: 'run-page'},
      el('header', {class: 'run-header'},
        el('h1', {testid: 'run-name'}, this.name), this.badge,
        el('span', {class: 'meta', testid: 'run-meta'}, meta.join(' · ')),
        s.trusted === false ? el('span', {class: 'tag', title: 'files not written by this machine'}, 'untrusted') : null),
      this.warnings.length ? warningBanner(this.warnings, 'run-warnings') : null,
      el('div', {class: 'kpis', testid: 'kpis'},
        kpi('Steps', 'steps'), kpi('Episodes', 'episode-count'), kpi('Steps/s', 'steps-per-second'),
        kpi('ETA', 'eta'), kpi('Lap completion', 'lap-completion'), kpi('Best lap', 'best-lap'),
        kpi('Best eval progress', 'best-progress')),
      this.isPlugin ? this.renderPlugin() : this.renderCharts(),
      (this.trialsNode = this.renderTrials()),
      (this.exportsNode = this.renderExports()),
    );
    this.updateKpis();
    return root;
  }

  renderCharts() {
    this.boxes = {
      training: chartBox('training-chart', 'no training log in this run'),
      evaluation: chartBox('evaluation-chart', 'no evaluations yet'),
      track: chartBox('track-chart', 'no track data', 'tall'),
      actions: chartBox('actions-chart', 'no action data in this run', 'tall'),
    };
    this.bucketNote = el('span', {class: 'muted small'});
    this.trackNote = el('span', {class: 'muted small'});
    return el('div', {class: 'grid-2'},
      card('Training', this.bucketNote, this.boxes.training.node),
      card('Evaluation', this.boxes.evaluation.node),
      card('Track', this.trackNote, this.boxes.track.node),
      card('Action usage', this.boxes.actions.node));
  }

  renderPlugin() {
    const metrics = (this.plugin && this.plugin.metrics) || {};
    const rows = Object.entries(metrics).map(([key, value]) => el('tr', {},
      el('th', {}, key),
      el('td', {}, value !== null && typeof value === 'object' ? JSON.stringify(value) : String(value))));
    const report = this.plugin && this.plugin.report;
    return el('div', {class: 'grid-2'},
      card('Plugin metrics', rows.length
        ? el('table', {class: 'grid kv', testid: 'plugin-metrics'}, el('tbody', {}, rows))
        : noteLine('no metrics', 'plugin-metrics')),
      card('Plugin report', report
        ? el('pre', {class: 'report', testid: 'plugin-report'}, String(report))
        : noteLine('no report', 'plugin-report')));
  }

  renderTrials() {
    const folders = this.trials.slice().sort((a, b) => String(b.stamp).localeCompare(String(a.stamp)));
    const section = el('section', {class: 'card', testid: 'evaluations'}, el('h2', {}, 'Evaluations'));
    if (!folders.length) section.append(noteLine('no evaluations yet (deepracer evaluate RUN)'));
    for (const folder of folders) {
      section.append(el('h3', {}, `Evaluation ${fmtStamp(folder.stamp)}`),
        el('div', {class: 'table-wrap'}, this.trialTable(folder)));
    }
    return section;
  }

  trialTable(folder) {
    const head = ['Trial', 'Time', 'Trial results (% track completed)', 'Status', 'Off-track',
      'Off-track penalty (s)', 'Crashes', 'Crash penalty (s)', ''];
    const rows = (folder.trials || []).map((t) => el('tr', {dataset: {trial: t.trial}},
      el('td', {class: 'num'}, String(t.trial ?? DASH)),
      el('td', {class: 'num'}, fmtClock(t.time)),
      el('td', {class: 'num'}, fmtPct(t.progress)),
      el('td', {}, t.status ?? DASH),
      el('td', {class: 'num'}, fmtInt(t.off_track)),
      el('td', {class: 'num'}, fmtFixed(t.off_track_penalty, 1)),
      el('td', {class: 'num'}, fmtInt(t.crashes)),
      el('td', {class: 'num'}, fmtFixed(t.crash_penalty, 1)),
      el('td', {}, t.frames > 0
        ? el('a', {href: trialHref(this.name, folder.stamp, t.trial), testid: 'play-trial'}, '▶ camera')
        : null)));
    return el('table', {class: 'grid trials', testid: 'trials-table', dataset: {stamp: folder.stamp}},
      el('thead', {}, el('tr', {}, head.map((h, i) => el('th', {class: i === 3 || i === 8 ? null : 'num'}, h)))),
      el('tbody', {}, rows));
  }

  renderExports() {
    const section = el('section', {class: 'card', testid: 'exports'}, el('h2', {}, 'Exports'));
    if (!this.exports.length) {
      section.append(noteLine('no exports yet (deepracer export RUN --format car|droa)'));
      return section;
    }
    section.append(el('ul', {class: 'exports'}, this.exports.map((x) => el('li', {},
      el('a', {href: safeHref(x.url), download: true, testid: 'export-link'}, x.name),
      el('span', {class: 'muted'}, ` ${x.kind || ''} · ${fmtSize(x.size)}`)))));
    return section;
  }

  updateKpis() {
    const p = this.progress;
    const s = this.summary;
    const set = (id, text) => {
      this.kpi[id].textContent = text;
    };
    const [steps, total] = p ? [p.timesteps, p.total_timesteps] : [s.steps, s.total_steps];
    // Same text as fmtSteps(), with the total in smaller type so the box stays one line.
    this.kpi.steps.replaceChildren(fmtInt(steps),
      isNum(steps) && isNum(total) && total > 0 ? el('span', {class: 'kpi-sub'}, ` / ${fmtInt(total)}`) : '');
    set('episode-count', isNum(this.episodeCount) ? String(Math.round(this.episodeCount)) : DASH);
    set('steps-per-second', fmtFixed(p && p.steps_per_second, 1));
    // A finished run's last progress.json still carries the ETA it had when training.
    set('eta', this.isTraining && p && isNum(p.eta_seconds) ? fmtDuration(p.eta_seconds) : DASH);
    const lap = recentLapRate(this.train);
    set('lap-completion', lap == null ? DASH : fmtPct(lap * 100));
    const bestLap = best([s.best_lap, ...this.evaluations.map((e) => e.best_lap_time)], Math.min);
    set('best-lap', fmtFixed(bestLap, 3, ' s'));
    const bestProgress = best([s.best_progress, ...this.evaluations.map((e) => e.mean_progress)], Math.max);
    set('best-progress', fmtPct(bestProgress));
  }

  setStatus(status) {
    this.summary.status = status;
    setBadge(this.badge, status);
  }

  // Each part loads on its own, so one failing endpoint only blanks its own chart.
  async load() {
    if (this.isPlugin) return;
    this.drawEvaluations();
    await Promise.all([this.loadTraining(), this.loadTrack(), this.loadActions()]);
    if (this.ctx.alive && this.isTraining) this.startLive();
  }

  async loadTraining() {
    const box = this.boxes.training;
    let data;
    try {
      data = await api('/api/training', {run: this.name, since: 0});
      this.train = normaliseTraining(data);
    } catch (err) {
      if (!this.ctx.alive) return;
      reportError(box.errors, err);
      box.div.hidden = true;
      return;
    }
    if (!this.ctx.alive) return;
    if (this.train.total > 0 || this.episodeCount != null || this.isTraining) {
      this.episodeCount = Math.max(this.train.total, this.episodeCount ?? 0);
    }
    this.showTrainingWarnings(data.warnings);
    this.updateKpis();
    await this.drawTraining();
  }

  // Problems reading the training log (skipped lines and the like) belong to this chart.
  showTrainingWarnings(warnings) {
    const list = Array.isArray(warnings) ? warnings : [];
    this.boxes.training.errors.replaceChildren(list.length ? warningBanner(list, 'training-warnings') : '');
  }

  drawTraining() {
    const box = this.boxes.training;
    const t = this.train;
    const visible = t.episode.length > 0 || this.isTraining;
    showChart(box, visible);
    this.bucketNote.textContent = t.bucket > 1 ? `each point averages ${t.bucket} episodes` : '';
    if (!visible) return Promise.resolve();
    const traces = [
      {type: 'scatter', mode: 'lines', name: 'reward', x: t.episode.slice(), y: t.reward.slice(),
        line: {color: '#a7b0bd', width: 1}},
      {type: 'scatter', mode: 'markers', name: 'progress %', x: t.episode.slice(), y: t.progress.slice(),
        yaxis: 'y2', marker: {color: 'rgba(31, 119, 180, 0.35)', size: 3}},
      {type: 'scatter', mode: 'lines', name: `progress, mean of ${ROLLING}`, x: t.episode.slice(),
        y: rollingMean(t.progress), yaxis: 'y2', line: {color: '#1f77b4', width: 2.5}},
    ];
    return drawPlot(box.div, traces, baseLayout({
      xaxis: axis('episode'), yaxis: axis('reward'), yaxis2: rightAxis('progress %', {range: [0, 105]}),
      margin: {l: 55, r: 55, t: 10, b: 45},
    }));
  }

  drawEvaluations() {
    const box = this.boxes.evaluation;
    const evals = this.evaluations;
    // Until the first periodic evaluation the note says so (the live stream redraws).
    const visible = evals.length > 0;
    showChart(box, visible);
    if (!visible) return Promise.resolve();
    const x = evals.map((e) => e.timesteps);
    const traces = [
      {type: 'scatter', mode: 'lines+markers', name: 'mean progress %', x, y: evals.map((e) => e.mean_progress),
        line: {color: '#1f77b4'}},
      {type: 'scatter', mode: 'lines+markers', name: 'best lap s', x, y: evals.map((e) => e.best_lap_time),
        yaxis: 'y2', line: {color: '#ff7f0e'}},
    ];
    return drawPlot(box.div, traces, baseLayout({
      xaxis: axis('timesteps'), yaxis: axis('mean progress %', {range: [0, 105]}), yaxis2: rightAxis('best lap s'),
      margin: {l: 55, r: 55, t: 10, b: 45},
    }));
  }

  async loadTrack() {
    const box = this.boxes.track;
    try {
      this.track = await api('/api/track', {run: this.name});
    } catch (err) {
      if (!this.ctx.alive) return;
      reportError(box.errors, err);
      showChart(box, false);
      return;
    }
    if (this.ctx.alive) await this.loadTrajectories();
  }

  async loadTrajectories() {
    const box = this.boxes.track;
    this.trajLoadedAt = Date.now();
    let traj = {episodes: []};
    try {
      traj = await api('/api/trajectories', {run: this.name, episodes: 10});
    } catch (err) {
      if (!this.ctx.alive) return;
      box.errors.replaceChildren();
      reportError(box.errors, err);
    }
    if (!this.ctx.alive) return;
    const episodes = Array.isArray(traj.episodes) ? traj.episodes : [];
    this.trackNote.textContent = episodes.length
      ? `latest ${episodes.length} episodes${traj.source ? ` (${traj.source})` : ''}` : 'no trajectories yet';
    showChart(box, true);
    await drawPlot(box.div, trackTraces(this.track).concat(speedTraces(traj)), trackLayout({}));
  }

  // Live updates only bring new episodes: refetch trajectories and action usage (both
  // from the newest simtrace files), but at most once per period.
  scheduleTrajectories() {
    if (this.trajTimer || !this.track) return;
    const wait = Math.max(0, this.trajLoadedAt + TRAJ_REFRESH_MS - Date.now());
    this.trajTimer = setTimeout(() => {
      this.trajTimer = null;
      if (!this.ctx.alive) return;
      this.loadTrajectories().catch((err) => reportError(this.boxes.track.errors, err));
      this.loadActions().catch((err) => reportError(this.boxes.actions.errors, err));
    }, wait);
  }

  async loadActions() {
    const box = this.boxes.actions;
    let data;
    try {
      data = await api('/api/actions', {run: this.name});
    } catch (err) {
      if (!this.ctx.alive) return;
      reportError(box.errors, err);
      box.div.hidden = true;
      return;
    }
    if (!this.ctx.alive) return;
    const chart = data.continuous ? continuousActions(data) : discreteActions(data);
    showChart(box, chart !== null);
    if (chart) await drawPlot(box.div, chart.traces, chart.layout);
  }

  /* ---------- live stream */

  startLive() {
    this.openStream(this.train.total);
  }

  openStream(since) {
    this.closeStream();
    const es = new EventSource(`/api/live?${new URLSearchParams({run: this.name, since})}`);
    es.addEventListener('update', (ev) => this.onUpdate(ev));
    // EventSource would reconnect with the original `since` and resend episodes:
    // reconnect ourselves from the last episode we have instead.
    es.addEventListener('error', () => {
      if (this.es !== es) return;
      this.closeStream();
      if (this.ctx.alive && this.isTraining) this.later(() => this.openStream(this.train.total), 3000);
    });
    this.es = es;
  }

  closeStream() {
    if (this.es) this.es.close();
    this.es = null;
  }

  later(fn, ms) {
    const id = setTimeout(() => {
      this.timers.delete(id);
      fn();
    }, ms);
    this.timers.add(id);
  }

  onUpdate(ev) {
    const arrived = performance.now();
    let data;
    try {
      data = JSON.parse(ev.data);
    } catch {
      return; // a malformed event is skipped; the next one carries the full state again
    }
    this.queue = this.queue
      .then(() => this.applyUpdate(data))
      .then(() => recordUpdate(arrived))
      .catch((err) => {
        if (this.ctx.alive) reportError(this.boxes.training.errors, err);
      });
  }

  async applyUpdate(data) {
    if (!this.ctx.alive) return;
    const fresh = data.new || {};
    const pending = [];
    if (fresh.truncated) pending.push(this.reloadTraining());
    else if (Array.isArray(fresh.episode) && fresh.episode.length) pending.push(this.appendTraining(fresh));
    if (Array.isArray(data.evaluations)) {
      this.evaluations = data.evaluations;
      pending.push(this.drawEvaluations());
    }
    if (data.progress) this.progress = data.progress;
    if (isNum(data.episodes)) this.episodeCount = data.episodes;
    if (data.status) this.setStatus(data.status);
    // The final evaluation's folder and new exports appear while the page is open.
    const folders = isNum(data.evaluation_folders) && data.evaluation_folders !== this.trials.length;
    const exported = isNum(data.exports) && data.exports !== this.exports.length;
    if (folders || exported) pending.push(this.refreshFiles());
    if (fresh.truncated || (Array.isArray(fresh.episode) && fresh.episode.length)) this.scheduleTrajectories();
    this.updateKpis();
    if (!this.isTraining) this.closeStream();
    await Promise.all(pending);
  }

  async refreshFiles() {
    const run = await api('/api/run', {name: this.name});
    if (!this.ctx.alive) return;
    this.trials = Array.isArray(run.trials) ? run.trials : [];
    this.exports = Array.isArray(run.exports) ? run.exports : [];
    const trials = this.renderTrials();
    const exports = this.renderExports();
    this.trialsNode.replaceWith(trials);
    this.exportsNode.replaceWith(exports);
    this.trialsNode = trials;
    this.exportsNode = exports;
  }

  async reloadTraining() {
    const data = await api('/api/training', {run: this.name, since: 0});
    if (!this.ctx.alive) return;
    this.train = normaliseTraining(data);
    this.showTrainingWarnings(data.warnings);
    this.updateKpis();
    await this.drawTraining();
  }

  appendTraining(fresh) {
    const t = this.train;
    const last = t.episode.length ? t.episode[t.episode.length - 1] : 0;
    // A reconnect can resend episodes we already have.
    const keep = fresh.episode.map((ep, i) => i).filter((i) => fresh.episode[i] > last);
    if (!keep.length) return Promise.resolve();
    const pick = (key) => keep.map((i) => (Array.isArray(fresh[key]) ? fresh[key][i] : null));
    const start = t.progress.length;
    const add = {episode: pick('episode'), reward: pick('reward'), progress: pick('progress'), lap: pick('lap')};
    for (const key of Object.keys(add)) t[key].push(...add[key]);
    t.total = Math.max(t.total, add.episode[add.episode.length - 1]);
    const div = this.boxes.training.div;
    if (div.hidden || !div.classList.contains('js-plotly-plot')) return this.drawTraining();
    const tail = rollingMean(t.progress, ROLLING, start);
    return Plotly.extendTraces(div, {
      x: [add.episode.slice(), add.episode.slice(), add.episode.slice()],
      y: [add.reward, add.progress, tail],
    }, [0, 1, 2]);
  }

  dispose() {
    this.closeStream();
    clearTimeout(this.trajTimer);
    for (const id of this.timers) clearTimeout(id);
    this.timers.clear();
  }
}

// Benchmarks read window.__drStats: how long one live event takes to reach the charts.
function recordUpdate(arrived) {
  const ms = performance.now() - arrived;
  const stats = window.__drStats || (window.__drStats = {updates: 0, lastUpdateMs: null, maxUpdateMs: 0});
  stats.updates += 1;
  stats.lastUpdateMs = ms;
  stats.maxUpdateMs = Math.max(stats.maxUpdateMs || 0, ms);
}

// One marker trace per episode, all on one speed colour scale with a single colour bar.
function speedTraces(traj) {
  const episodes = Array.isArray(traj.episodes) ? traj.episodes : [];
  const cmax = isNum(traj.speed_max) && traj.speed_max > 0 ? traj.speed_max : 4;
  return episodes.map((ep, i) => {
    const label = `episode ${Number(ep.episode)}`;
    return {
      type: 'scatter', mode: 'markers', name: label, x: ep.x || [], y: ep.y || [],
      marker: {
        size: 4, color: ep.speed || [], cmin: 0, cmax, colorscale: 'Viridis', showscale: i === 0,
        colorbar: {title: {text: 'speed m/s'}, thickness: 12, len: 0.8},
      },
      hovertemplate: `${label}<br>%{marker.color:.2f} m/s<extra></extra>`,
    };
  });
}

function actionLabel(a) {
  return `#${a.index} ${fmtShort(a.steering_angle, 1)}° / ${fmtShort(a.speed, 2)} m/s`;
}

function discreteActions(data) {
  const actions = Array.isArray(data.actions) ? data.actions : [];
  if (!actions.length) return null;
  const total = actions.reduce((sum, a) => sum + (isNum(a.count) ? a.count : 0), 0);
  return {
    traces: [{
      type: 'bar', x: actions.map(actionLabel), y: actions.map((a) => a.count),
      marker: {color: '#4c8bc9'},
      hovertemplate: '%{x}<br>%{y} steps (%{customdata:.1f}%)<extra></extra>',
      customdata: actions.map((a) => (total > 0 ? (100 * a.count) / total : 0)),
    }],
    layout: baseLayout({
      xaxis: axis('', {type: 'category', tickangle: -40}), yaxis: axis('steps'), showlegend: false,
      margin: {l: 55, r: 10, t: 10, b: 10},
    }),
  };
}

function continuousActions(data) {
  const steering = Array.isArray(data.steering) ? data.steering : [];
  const speed = Array.isArray(data.speed) ? data.speed : [];
  if (!steering.length || !speed.length) return null;
  return {
    traces: [{
      // Light for rare, dark for frequent (Plotly's own 'Blues' runs the other way).
      type: 'histogram2d', x: steering, y: speed, nbinsx: 30, nbinsy: 20,
      colorscale: [[0, '#f7fbff'], [0.35, '#9ecae1'], [0.7, '#3182bd'], [1, '#08306b']],
      colorbar: {title: {text: 'steps'}, thickness: 12},
    }],
    layout: baseLayout({xaxis: axis('steering °'), yaxis: axis('speed m/s')}),
  };
}

/* ------------------------------------------------------------------ camera player */

async function trialPage(main, ctx, name, stamp, trial) {
  setTitle(`${name} · trial ${trial}`);
  main.append(el('p', {class: 'back'}, el('a', {href: runHref(name)}, `← ${name}`),
    el('span', {class: 'muted'}, ` · evaluation ${fmtStamp(stamp)} · trial ${trial}`)));
  const data = await api('/api/trial', {run: name, stamp, trial});
  if (!ctx.alive) return;
  const player = new TrialPlayer(ctx, {name, stamp, trial}, data);
  main.append(player.render());
  await player.drawTrack();
}

class TrialPlayer {
  constructor(ctx, ids, data) {
    this.ctx = ctx;
    this.ids = ids;
    this.data = data;
    this.frames = isNum(data.frames) ? Math.max(0, Math.floor(data.frames)) : 0;
    this.fps = isNum(data.fps) && data.fps > 0 ? data.fps : 15;
    this.frame = 0;
    this.timer = null;
    this.cache = new Map();   // frame -> Image, so preloaded frames stay in memory
    this.markerAt = 0;
    this.markerTimer = null;
    ctx.cleanups.push(() => this.dispose());
  }

  frameUrl(i) {
    const {name, stamp, trial} = this.ids;
    return `/api/frame?${new URLSearchParams({run: name, stamp, trial, frame: i})}`;
  }

  render() {
    const w = (isNum(this.data.width) ? this.data.width : 160) * 3;
    const h = (isNum(this.data.height) ? this.data.height : 120) * 3;
    this.img = el('img', {class: 'camera', testid: 'camera-frame', width: w, height: h, alt: 'camera frame'});
    // Tests read data-frame: set it from the URL that actually loaded, not the one requested last.
    this.img.addEventListener('load', () => {
      const frame = new URL(this.img.src).searchParams.get('frame');
      if (frame !== null) this.img.dataset.frame = frame;
    });
    this.button = el('button', {type: 'button', class: 'primary', testid: 'play-button'}, '▶ Play');
    this.button.addEventListener('click', () => (this.timer ? this.pause() : this.play()));
    this.slider = el('input', {
      type: 'range', testid: 'frame-slider', min: 0, max: Math.max(0, this.frames - 1), step: 1, value: '0',
      'aria-label': 'Frame',
    });
    this.slider.addEventListener('input', () => this.show(Number(this.slider.value)));
    this.info = el('div', {class: 'frame-info', testid: 'frame-info'});
    this.trackDiv = el('div', {class: 'chart', testid: 'trial-track'});
    const camera = el('section', {class: 'card player-camera'}, el('h2', {}, 'Camera'),
      this.frames > 0
        ? [this.img, el('div', {class: 'controls'}, this.button, this.slider), this.info]
        : noteLine('this trial has no camera frames'));
    if (this.frames > 0) this.show(0);
    const onKey = (e) => {
      if (e.key === ' ' && e.target === document.body) {
        e.preventDefault();
        if (this.timer) this.pause();
        else this.play();
      }
    };
    document.addEventListener('keydown', onKey);
    this.ctx.cleanups.push(() => document.removeEventListener('keydown', onKey));
    return el('div', {class: 'player'}, camera, el('section', {class: 'card player-track'},
      el('h2', {}, 'Track'), this.trackDiv));
  }

  show(i) {
    if (!this.frames) return;
    this.frame = Math.min(Math.max(0, Math.round(i) || 0), this.frames - 1);
    this.img.src = this.frameUrl(this.frame);
    this.slider.value = String(this.frame);
    this.info.textContent = this.describe(this.frame);
    this.preload(this.frame);
    this.scheduleMarker();
  }

  describe(i) {
    const d = this.data;
    const at = (arr) => (Array.isArray(arr) ? arr[i] : null);
    return `frame ${i} / ${this.frames} · ${fmtFixed(i / this.fps, 2)} s · `
      + `${fmtFixed(at(d.speed), 2)} m/s · ${fmtFixed(at(d.progress), 1)} %`;
  }

  preload(from) {
    for (let j = from + 1; j <= Math.min(from + PRELOAD, this.frames - 1); j++) {
      if (this.cache.has(j)) continue;
      const image = new Image();
      image.src = this.frameUrl(j);
      this.cache.set(j, image);
    }
    for (const j of this.cache.keys()) {
      if (j < from - 2 || j > from + PRELOAD) this.cache.delete(j);
    }
  }

  play() {
    if (!this.frames || this.timer) return;
    if (this.frame >= this.frames - 1) this.show(0); // playing after the end starts over
    this.timer = setInterval(() => this.tick(), 1000 / this.fps);
    this.button.textContent = '❚❚ Pause';
  }

  pause() {
    clearInterval(this.timer);
    this.timer = null;
    this.button.textContent = '▶ Play';
  }

  tick() {
    const next = this.frame + 1;
    if (next >= this.frames) {
      this.pause();
      return;
    }
    // Hold until the frame on screen has loaded and the next one is ready, so a slow
    // server slows playback down instead of skipping or flashing half-loaded frames.
    if (this.img.dataset.frame !== String(this.frame)) return;
    const image = this.cache.get(next);
    if (image && !image.complete) return;
    this.show(next);
  }

  async drawTrack() {
    const d = this.data;
    const xs = Array.isArray(d.x) ? d.x : [];
    const ys = Array.isArray(d.y) ? d.y : [];
    const traces = trackTraces(d.track).concat([
      {type: 'scatter', mode: 'lines', name: 'path', x: xs, y: ys, line: {color: '#d62728', width: 2},
        hoverinfo: 'skip'},
      {type: 'scatter', mode: 'markers', name: 'car', x: xs.slice(0, 1), y: ys.slice(0, 1),
        marker: {symbol: 'arrow', size: 16, color: '#111', angle: this.heading(0)}, hoverinfo: 'skip'},
    ]);
    this.markerTrace = traces.length - 1;
    await drawPlot(this.trackDiv, traces, trackLayout({}));
    this.trackReady = true;
    this.scheduleMarker();
  }

  // Plotly marker angles are degrees clockwise from up; yaw is radians counter-clockwise from +x.
  heading(i) {
    const yaw = Array.isArray(this.data.yaw) ? this.data.yaw[i] : null;
    return isNum(yaw) ? 90 - (yaw * 180) / Math.PI : 0;
  }

  scheduleMarker() {
    if (!this.trackReady || this.markerTimer) return;
    const wait = Math.max(0, this.markerAt + MARKER_MS - performance.now());
    this.markerTimer = setTimeout(() => {
      this.markerTimer = null;
      if (!this.ctx.alive) return;
      this.markerAt = performance.now();
      const i = this.frame;
      const d = this.data;
      const at = (arr) => (Array.isArray(arr) && isNum(arr[i]) ? [arr[i]] : []);
      Plotly.restyle(this.trackDiv, {x: [at(d.x)], y: [at(d.y)], 'marker.angle': this.heading(i)},
        [this.markerTrace]);
    }, wait);
  }

  dispose() {
    this.pause();
    clearTimeout(this.markerTimer);
    this.cache.clear();
  }
}

/* ------------------------------------------------------------------ compare */

async function comparePage(main, ctx, requested) {
  setTitle('Compare');
  const errors = el('div', {class: 'errors'});
  main.append(errors);
  let names = [...new Set(requested)];
  if (names.length < 2) errors.append(errorLine('Compare needs two runs or more: pick them on the Runs page.'));
  if (names.length > MAX_COMPARE) {
    errors.append(noteLine(`Showing the first ${MAX_COMPARE} of ${names.length} runs.`));
    names = names.slice(0, MAX_COMPARE);
  }
  if (!names.length) return;
  const runs = await Promise.all(names.map((name, i) => loadCompareRun(name, COLORS[i % COLORS.length])));
  if (!ctx.alive) return;
  for (const r of runs.filter((r) => r.error)) {
    errors.append(el('p', {class: 'error', testid: 'compare-error', role: 'alert', dataset: {run: r.name}},
      `${r.name}: ${r.error}`));
  }
  const ok = runs.filter((r) => r.run);
  if (!ok.length) return;

  const boxes = {
    progress: el('div', {class: 'chart', testid: 'compare-chart'}),
    laps: el('div', {class: 'chart', testid: 'compare-laps'}),
    training: el('div', {class: 'chart tall', testid: 'compare-training'}),
    track: el('div', {class: 'chart tall', testid: 'compare-track'}),
  };
  const trackErrors = el('div', {class: 'errors'});
  main.append(
    el('div', {class: 'grid-2'},
      card('Evaluation progress', boxes.progress),
      card('Best lap', boxes.laps),
      card(`Training progress (mean of ${ROLLING})`, boxes.training),
      card('Track', trackErrors, boxes.track)),
    card('Summary', el('div', {class: 'table-wrap'}, compareTable(ok))),
  );

  const evalTrace = (r, key) => ({
    type: 'scatter', mode: 'lines+markers', name: plotlyText(r.name), line: {color: r.color},
    x: r.evaluations.map((e) => e.timesteps), y: r.evaluations.map((e) => e[key]),
  });
  await Promise.all([
    drawPlot(boxes.progress, ok.map((r) => evalTrace(r, 'mean_progress')),
      baseLayout({xaxis: axis('timesteps'), yaxis: axis('mean progress %', {range: [0, 105]})})),
    drawPlot(boxes.laps, ok.map((r) => evalTrace(r, 'best_lap_time')),
      baseLayout({xaxis: axis('timesteps'), yaxis: axis('best lap s')})),
    drawPlot(boxes.training, ok.map((r) => ({
      type: 'scatter', mode: 'lines', name: plotlyText(r.name), line: {color: r.color, width: 2},
      x: r.train.episode, y: rollingMean(r.train.progress),
    })), baseLayout({xaxis: axis('episode'), yaxis: axis('progress %', {range: [0, 105]})})),
  ]);

  let track = null;
  try {
    track = await api('/api/track', {run: ok[0].name});
  } catch (err) {
    if (ctx.alive) reportError(trackErrors, err);
  }
  if (!ctx.alive) return;
  await drawPlot(boxes.track, trackTraces(track).concat(ok.flatMap(compareTrajTraces)), trackLayout({}));
}

// The run itself must load; its training log and trajectories are optional extras.
async function loadCompareRun(name, color) {
  const [run, training, traj] = await Promise.allSettled([
    api('/api/run', {name}),
    api('/api/training', {run: name, since: 0}),
    api('/api/trajectories', {run: name, episodes: 3}),
  ]);
  if (run.status === 'rejected') return {name, color, error: messageOf(run.reason)};
  const data = run.value || {};
  return {
    name, color, run: data, summary: data.summary || {name},
    evaluations: Array.isArray(data.evaluations) ? data.evaluations : [],
    train: normaliseTraining(training.status === 'fulfilled' ? training.value : null),
    episodes: traj.status === 'fulfilled' && Array.isArray(traj.value.episodes) ? traj.value.episodes : [],
  };
}

function compareTrajTraces(r) {
  return r.episodes.map((ep, i) => ({
    type: 'scatter', mode: 'lines', name: plotlyText(r.name), legendgroup: r.name, showlegend: i === 0,
    x: ep.x || [], y: ep.y || [], line: {color: r.color, width: 1.5}, opacity: 0.8,
    hovertemplate: `${plotlyText(r.name)} · episode ${Number(ep.episode)}<extra></extra>`,
  }));
}

function compareTable(runs) {
  const s = (r) => r.summary;
  const rows = [
    ['Status', (r) => statusBadge(s(r).status)],
    ['Kind', (r) => s(r).kind ?? DASH],
    ['World', (r) => s(r).world ?? DASH],
    ['Observation', (r) => s(r).observation ?? DASH],
    ['Algorithm', (r) => s(r).algorithm ?? DASH],
    ['Steps', (r) => fmtSteps(s(r).steps, s(r).total_steps)],
    ['Episodes', (r) => fmtInt(s(r).episodes)],
    ['Best eval progress', (r) => fmtPct(s(r).best_progress)],
    ['Best lap (s)', (r) => fmtFixed(s(r).best_lap, 3)],
    ['vs race line', (r) => fmtFixed(s(r).lap_ratio, 2, 'x')],
    ['Lap completion (last 50)', (r) => {
      const lap = recentLapRate(r.train);
      return lap == null ? DASH : fmtPct(lap * 100);
    }],
    ['Updated', (r) => fmtAgo(s(r).updated)],
  ];
  const head = el('tr', {}, el('th', {}, ''), runs.map((r) => el('th', {dataset: {run: r.name}},
    el('span', {class: 'swatch', style: `background:${r.color}`}), el('a', {href: runHref(r.name)}, r.name))));
  return el('table', {class: 'grid compare-table', testid: 'compare-table'},
    el('thead', {}, head),
    el('tbody', {}, rows.map(([label, cell]) => el('tr', {}, el('th', {}, label),
      runs.map((r) => el('td', {}, cell(r)))))));
}

/* ------------------------------------------------------------------ start */

function start() {
  if (typeof Plotly === 'undefined') {
    document.getElementById('app').replaceChildren(errorLine('Plotly did not load (/static/vendor/plotly.min.js).'));
    return;
  }
  window.addEventListener('hashchange', route);
  route();
}

start();

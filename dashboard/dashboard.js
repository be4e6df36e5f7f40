// The ferry dashboard page: reads /events (server-sent events) and draws the
// cluster. Every value from the nodes goes in as text, never as markup.

/** Samples a chart shows: a minute at one per second. */
const KEEP = 60;

/** Per node, and for the whole cluster: recent calls/s and busy workers. */
const series = new Map();

const $ = (id) => document.getElementById(id);

function push(key, value) {
  let list = series.get(key);
  if (!list) {
    list = [];
    series.set(key, list);
  }
  list.push(value);
  if (list.length > KEEP) list.shift();
  return list;
}

function rate(n) {
  if (n === 0) return "0";
  if (n < 10) return n.toFixed(1);
  if (n < 10_000) return String(Math.round(n));
  return `${(n / 1000).toFixed(1)}k`;
}

function duration(seconds) {
  if (seconds === null) return "> 60 s";
  if (!seconds) return "-";
  const ms = seconds * 1000;
  return ms < 1000 ? `${+ms.toPrecision(3)} ms` : `${+seconds.toPrecision(3)} s`;
}

function uptime(seconds) {
  if (!seconds) return "-";
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min`;
  if (seconds < 86_400) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86_400).toFixed(1)} d`;
}

const mb = (bytes) => (bytes ? `${Math.round(bytes / 1024 / 1024)} MB` : "-");

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function sparkline(svg, values) {
  const max = Math.max(1, ...values);
  const step = 120 / (KEEP - 1);
  const offset = KEEP - values.length;
  const points = values.map(
    (v, i) => `${((offset + i) * step).toFixed(1)},${(27 - (v / max) * 25).toFixed(1)}`,
  );
  let line = svg.firstChild;
  if (!line) {
    line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
    svg.append(line);
  }
  line.setAttribute("points", points.join(" "));
}

function sparkCell(values) {
  const td = document.createElement("td");
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("class", "spark");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", "calls per second, last minute");
  svg.setAttribute("viewBox", "0 0 120 28");
  svg.setAttribute("preserveAspectRatio", "none");
  sparkline(svg, values);
  td.append(svg);
  return td;
}

function tagsCell(tags) {
  const td = document.createElement("td");
  for (const [k, v] of Object.entries(tags)) {
    const span = document.createElement("span");
    span.className = "tag";
    span.textContent = `${k}=${v}`;
    td.append(span);
  }
  return td;
}

function nodeRow(node) {
  const tr = document.createElement("tr");
  tr.dataset.target = node.target;
  tr.dataset.state = node.state;
  tr.className = node.state;
  const name = cell(node.target);
  if (node.hostname) {
    const host = document.createElement("div");
    host.className = "host";
    host.textContent = node.hostname;
    name.append(host);
  }
  const state = cell(node.state, `state state-${node.state}`);
  if (node.error) state.title = node.error;
  tr.append(
    name,
    state,
    tagsCell(node.tags),
    cell(node.version || "-"),
    cell(`${node.workersBusy}/${node.workers}`, "num busy"),
    cell(rate(node.rates.callsPerSecond), "num rate"),
    cell(String(node.calls), "num calls"),
    cell(String(node.errors), "num errors"),
    cell(duration(node.rates.p50), "num"),
    cell(duration(node.rates.p99), "num"),
    cell(mb(node.rssBytes), "num"),
    cell(uptime(node.uptimeSeconds), "num"),
    sparkCell(series.get(`calls ${node.target}`) ?? []),
  );
  return tr;
}

function methodRow(m) {
  const tr = document.createElement("tr");
  tr.dataset.method = `${m.object}.${m.method}`;
  tr.append(
    cell(`${m.object}.${m.method}`),
    cell(rate(m.callsPerSecond), "num rate"),
    cell(rate(m.errorsPerSecond), "num"),
    cell(duration(m.p50), "num"),
    cell(duration(m.p99), "num"),
  );
  return tr;
}

function mapRow(map) {
  const tr = document.createElement("tr");
  tr.dataset.method = map.method;
  const done = document.createElement("td");
  if (map.total) {
    const bar = document.createElement("span");
    bar.className = "bar";
    const fill = document.createElement("span");
    fill.style.width = `${Math.min(100, (100 * map.done) / map.total).toFixed(1)}%`;
    bar.append(fill);
    done.append(bar);
  }
  done.append(map.total ? `${map.done}/${map.total}` : String(map.done));
  done.className = "done";
  tr.append(
    cell(map.method),
    done,
    cell(String(map.failed), "num"),
    cell(String(map.queued), "num"),
    cell(String(map.inFlight), "num"),
    cell(String(map.retries), "num"),
    cell(String(map.speculative), "num"),
    cell(map.nodes.map((n) => `${n.target} ${n.done}`).join(", ")),
    cell(uptime(map.seconds), "num"),
  );
  return tr;
}

/** Adds a sample to the charts' series. */
function record(snapshot) {
  let calls = 0;
  let busy = 0;
  for (const node of snapshot.nodes) {
    calls += node.rates.callsPerSecond;
    busy += node.workersBusy;
    push(`calls ${node.target}`, node.rates.callsPerSecond);
  }
  push("calls", calls);
  push("busy", busy);
}

function draw(snapshot) {
  const nodes = snapshot.nodes;
  const up = nodes.filter((n) => n.state === "up").length;
  const sum = (pick) => nodes.reduce((total, n) => total + pick(n), 0);
  $("title").textContent = snapshot.title;
  $("at").textContent = new Date(snapshot.at).toLocaleTimeString();
  $("nodes-up").textContent = `${up}/${nodes.length}`;
  $("calls-rate").textContent = rate(sum((n) => n.rates.callsPerSecond));
  $("errors-rate").textContent = rate(sum((n) => n.rates.errorsPerSecond));
  $("busy").textContent = `${sum((n) => n.workersBusy)}/${sum((n) => n.workers)}`;
  sparkline($("calls-spark"), series.get("calls") ?? []);
  sparkline($("busy-spark"), series.get("busy") ?? []);

  const problems = $("problems");
  problems.hidden = snapshot.problems.length === 0;
  problems.textContent = snapshot.problems
    .map((p) => `${p} (retrying; the last node list stands)`)
    .join("\n");

  $("nodes").tBodies[0].replaceChildren(...nodes.map(nodeRow));
  $("no-nodes").hidden = nodes.length > 0;

  const methods = snapshot.methods
    .filter((m) => m.callsPerSecond > 0)
    .sort((a, b) => b.callsPerSecond - a.callsPerSecond);
  $("methods").tBodies[0].replaceChildren(...methods.map(methodRow));
  $("no-methods").hidden = methods.length > 0;

  $("maps-section").hidden = snapshot.maps.length === 0;
  $("maps").tBodies[0].replaceChildren(...snapshot.maps.map(mapRow));
}

function connect() {
  const live = $("live");
  const events = new EventSource("/events");
  events.addEventListener("history", (event) => {
    series.clear();
    const snapshots = JSON.parse(event.data);
    for (const snapshot of snapshots) record(snapshot);
    if (snapshots.length > 0) draw(snapshots[snapshots.length - 1]);
  });
  events.addEventListener("snapshot", (event) => {
    const snapshot = JSON.parse(event.data);
    record(snapshot);
    draw(snapshot);
  });
  events.addEventListener("open", () => {
    live.textContent = "live";
    live.className = "pill live";
  });
  // EventSource reconnects by itself; the page says so meanwhile.
  events.addEventListener("error", () => {
    live.textContent = "reconnecting…";
    live.className = "pill lost";
  });
}

connect();

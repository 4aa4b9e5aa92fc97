// The mockserver console: the live feed of requests, one request's timeline, chaos
// controls and the scenarios. It talks to this server's /_mock/ API only; with an
// admin token it asks for it once (kept in sessionStorage) and sends it as Bearer.
"use strict";

const MAX_ROWS = 1000;  // the feed keeps this many rows, the newest
const FAULTS = ["429", "500", "503", "disconnect", "reset", "stall", "slow", "malformed", "error-event"];
const rows = new Map();  // request id → its row
let selected = null;
let scenarios = [];

const $ = (id) => document.getElementById(id);

function token() { return sessionStorage.getItem("mockserver-token"); }

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  if (token()) headers["Authorization"] = "Bearer " + token();
  if (options.body && !headers["Content-Type"]) headers["Content-Type"] = "application/json";
  const response = await fetch(path, Object.assign({}, options, {headers}));
  if (response.status === 401) { askToken("the token was refused"); throw new Error("unauthorized"); }
  return response;
}

function askToken(message) {
  $("app").hidden = true;
  $("token-form").hidden = false;
  $("token-error").textContent = message || "";
  $("status").textContent = "needs the admin token";
}

$("token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem("mockserver-token", $("token").value);
  start();
});

function text(value) { return value === null || value === undefined ? "" : String(value); }

function cell(row, value, className) {
  const td = document.createElement("td");
  td.textContent = text(value);
  if (className) td.className = className;
  row.appendChild(td);
}

function render(request) {
  let row = rows.get(request.id);
  if (!row) {
    row = document.createElement("tr");
    row.dataset.id = request.id;
    row.addEventListener("click", () => showRequest(request.id));
    $("rows").prepend(row);
    rows.set(request.id, row);
    while (rows.size > MAX_ROWS) {  // the oldest go first
      const oldest = rows.keys().next().value;
      rows.get(oldest).remove();
      rows.delete(oldest);
    }
  }
  row.replaceChildren();
  row.dataset.session = text(request.session);
  row.dataset.scenario = text(request.scenario);
  row.dataset.fault = text(request.fault);
  row.className = (request.fault ? "fault " : "") + (request.finished ? "" : "open");
  cell(row, new Date(request.time * 1000).toLocaleTimeString());
  cell(row, request.api);
  cell(row, request.method + " " + request.path);
  cell(row, text(request.scenario || (request.finished ? "(auto)" : "")) + (request.turn ? " · " + request.turn : ""));
  cell(row, request.status);
  cell(row, request.fault, "fault");
  cell(row, request.events_total ? request.events_sent + " / " + request.events_total : "");
  cell(row, request.duration === null ? "…" : (request.duration * 1000).toFixed(0) + " ms");
  cell(row, request.left_early ? "left after " + request.events_sent + " events" : "");
  filter(row);
  $("count").textContent = rows.size + " shown";
}

function filter(row) {
  const wants = [["session", $("filter-session").value], ["scenario", $("filter-scenario").value], ["fault", $("filter-fault").value]];
  row.hidden = !wants.every(([key, value]) => !value || row.dataset[key].includes(value));
}
for (const id of ["filter-session", "filter-scenario", "filter-fault"]) {
  $(id).addEventListener("input", () => rows.forEach(filter));
}

async function follow() {
  // fetch, not EventSource: EventSource cannot send the token
  for (;;) {
    try {
      const response = await api("/_mock/events");
      if (!response.ok) throw new Error("feed answered " + response.status);
      $("status").textContent = "live";
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const {value, done} = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, {stream: true});
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const event = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const data = event.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
          if (data) render(JSON.parse(data));
        }
      }
    } catch (error) {
      if (error.message === "unauthorized") return;
    }
    $("status").textContent = "reconnecting…";
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attributes, content) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  if (content !== undefined) element.textContent = content;
  return element;
}

// The timeline: each write at its scheduled time (top) and when it went out (bottom),
// joined; the fault; where the stream ended; the moment the client left.
function timeline(request) {
  const writes = request.writes || [];
  const width = 700, left = 70, right = 20, top = 28, bottom = 88;
  const times = writes.flatMap((w) => [w[0], w[1]]).concat([request.left_at || 0, 0.001]);
  const end = Math.max(...times) * 1.05;
  const x = (t) => left + (t / end) * (width - left - right);
  const picture = svg("svg", {viewBox: `0 0 ${width} 130`, role: "img"});
  picture.appendChild(svg("text", {x: 4, y: top + 4, class: "label"}, "scheduled"));
  picture.appendChild(svg("text", {x: 4, y: bottom + 4, class: "label"}, "sent"));
  picture.appendChild(svg("line", {x1: left, y1: bottom + 14, x2: width - right, y2: bottom + 14, stroke: "#c4c9d4"}));
  picture.appendChild(svg("text", {x: width - right, y: 126, "text-anchor": "end", class: "label"}, (end * 1000).toFixed(0) + " ms"));
  for (const [due, sent] of writes) {
    const gap = sent - due;
    const group = svg("g", {class: "write"});
    group.appendChild(svg("line", {x1: x(due), y1: top, x2: x(sent), y2: bottom, stroke: gap > 0.05 ? "#e8a33d" : "#9aa6bd"}));
    group.appendChild(svg("circle", {cx: x(due), cy: top, r: 3, fill: "#7a8294"}));
    group.appendChild(svg("circle", {cx: x(sent), cy: bottom, r: 3, fill: "#2f6fed"}));
    group.appendChild(svg("title", {}, `due ${(due * 1000).toFixed(1)} ms, sent ${(sent * 1000).toFixed(1)} ms (${(gap * 1000).toFixed(1)} ms late)`));
    picture.appendChild(group);
  }
  const last = writes.length ? writes[writes.length - 1][1] : 0;
  const ending = request.fault || request.ending || "close";
  if (request.fault) {
    picture.appendChild(svg("line", {x1: x(last), y1: 12, x2: x(last), y2: bottom + 14, stroke: "#b3261e", "stroke-width": 2, class: "fault-marker"}));
    picture.appendChild(svg("text", {x: x(last) + 4, y: 14, fill: "#b3261e", class: "fault-marker"}, "fault: " + request.fault));
  } else {
    picture.appendChild(svg("text", {x: x(last) + 4, y: 14, fill: "#7a8294", class: "end-marker"}, "end: " + ending));
  }
  if (request.left_early && request.left_at !== null) {
    picture.appendChild(svg("line", {x1: x(request.left_at), y1: 20, x2: x(request.left_at), y2: bottom + 14, stroke: "#e8a33d", "stroke-dasharray": "4 3", class: "left-marker"}));
    picture.appendChild(svg("text", {x: x(request.left_at) + 4, y: bottom + 26, fill: "#e8a33d", class: "left-marker"}, "client left after " + request.events_sent + " events"));
  }
  return picture;
}

async function showRequest(id) {
  const response = await api("/_mock/requests/" + id);
  if (!response.ok) return;
  const request = await response.json();
  if (selected) selected.classList.remove("selected");
  selected = rows.get(id) || null;
  if (selected) selected.classList.add("selected");
  $("detail").hidden = false;
  $("detail").dataset.id = id;
  $("detail-title").textContent = `#${id} ${request.method} ${request.path} → ${text(request.status)}` + (request.fault ? ` (fault: ${request.fault})` : "");
  $("timeline").replaceChildren(timeline(request));
  const scenario = scenarios.find((s) => s.name === request.scenario);
  $("detail-source").textContent = scenario ? `scenario ${scenario.name}, from ${scenario.source}` : (request.scenario || "answered by the auto-responder");
  $("detail-body").textContent = request.body_truncated ? request.body_head : JSON.stringify(request.json, null, 2);
  $("detail-sent").textContent = text(request.sent);
}

async function loadChaos() {
  const chaos = await (await api("/_mock/chaos")).json();
  $("rate").value = chaos.rate;
  $("seed").value = chaos.seed;
  $("chaos-session").value = chaos.session || "";
  for (const fault of FAULTS) $("fault-" + fault).checked = chaos.faults.includes(fault);
  $("pause").textContent = chaos.paused ? "Resume streams" : "Pause streams";
  $("pause").dataset.paused = chaos.paused;
  $("chaos-state").textContent = (chaos.next ? `next request gets ${chaos.next}; ` : "") +
    "injected: " + (Object.entries(chaos.injected).map(([f, n]) => `${f} ×${n}`).join(", ") || "none");
}

async function loadVerdicts() {
  const sessions = (await (await api("/_mock/verdicts")).json()).sessions;
  const list = $("verdict-list");
  list.replaceChildren();
  for (const [session, verdicts] of Object.entries(sessions)) {
    const seen = verdicts.filter((v) => v.state !== "not seen");
    if (!seen.length) continue;
    const block = document.createElement("div");
    block.appendChild(Object.assign(document.createElement("strong"), {textContent: session}));
    for (const verdict of seen) {
      const line = document.createElement("div");
      line.className = "verdict " + verdict.state;
      line.dataset.name = verdict.name;
      line.textContent = `${verdict.state.toUpperCase()} ${verdict.name}: ${verdict.summary}`;
      block.appendChild(line);
    }
    list.appendChild(block);
  }
  if (!list.children.length) list.textContent = "nothing judged yet";
}

async function applyChaos() {
  const faults = FAULTS.filter((fault) => $("fault-" + fault).checked);
  const body = {rate: Number($("rate").value), seed: Number($("seed").value), faults, session: $("chaos-session").value || null};
  await api("/_mock/chaos", {method: "PUT", body: JSON.stringify(body)});
  await loadChaos();
}

async function armNext() {
  const fault = $("next-fault").value || null;
  await api("/_mock/chaos/next", {method: "POST", body: JSON.stringify({fault})});
  await loadChaos();
}

async function loadScenarios() {
  const answer = await (await api("/_mock/scenarios")).json();
  scenarios = answer.scenarios;
  if (!$("show-api").options.length) {
    for (const name of answer.apis) $("show-api").appendChild(Object.assign(document.createElement("option"), {value: name, textContent: name}));
  }
  const list = $("scenario-list");
  list.replaceChildren();
  for (const scenario of scenarios) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = "show";
    button.addEventListener("click", () => showScenario(scenario.name));
    item.append(button, " ", scenario.name + " — " + (scenario.description || scenario.match) + " ", Object.assign(document.createElement("span"), {className: "muted", textContent: scenario.source}));
    list.appendChild(item);
  }
}

async function showScenario(name) {
  const response = await api(`/_mock/scenarios/${encodeURIComponent(name)}/show?api=${$("show-api").value}`);
  $("show-output").hidden = false;
  $("show-output").textContent = await response.text();
}

async function addScenario() {
  const response = await api("/_mock/scenarios", {method: "POST", headers: {"Content-Type": "application/yaml"}, body: $("new-scenario").value});
  const answer = await response.json();
  $("add-errors").textContent = response.ok ? "" : (answer.errors || [answer.error.message]).join("\n");
  if (response.ok) { $("new-scenario").value = ""; await loadScenarios(); }
}

function controls() {
  for (const fault of FAULTS) {
    const label = document.createElement("label");
    const box = Object.assign(document.createElement("input"), {type: "checkbox", id: "fault-" + fault});
    label.append(box, fault);
    $("faults").appendChild(label);
    $("next-fault").appendChild(Object.assign(document.createElement("option"), {value: fault, textContent: fault}));
  }
  $("next-fault").prepend(Object.assign(document.createElement("option"), {value: "", textContent: "(nothing)"}));
  $("apply-chaos").addEventListener("click", applyChaos);
  $("next-apply").addEventListener("click", armNext);
  $("add-scenario").addEventListener("click", addScenario);
  $("pause").addEventListener("click", async () => {
    const paused = $("pause").dataset.paused !== "true";
    await api("/_mock/pause", {method: "POST", body: JSON.stringify({paused})});
    await loadChaos();
  });
  $("reset").addEventListener("click", async () => {
    await api("/_mock/reset", {method: "POST"});
    rows.forEach((row) => row.remove());
    rows.clear();
    await Promise.all([loadChaos(), loadScenarios()]);
  });
}

async function start() {
  try {
    const probe = await api("/_mock/chaos");
    if (!probe.ok) { askToken("the server answered " + probe.status); return; }
  } catch (error) { return; }
  $("token-form").hidden = true;
  $("app").hidden = false;
  await Promise.all([loadChaos(), loadScenarios(), loadVerdicts()]);
  follow();
  setInterval(() => { loadChaos().catch(() => {}); loadVerdicts().catch(() => {}); }, 3000);
}

controls();
start();

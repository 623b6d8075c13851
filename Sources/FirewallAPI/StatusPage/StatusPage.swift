/// The status page's HTML, CSS and JavaScript, kept in the binary so nothing is fetched at build
/// or run time.
enum StatusPage {
    static let bytes = Array(html.utf8)

    static let html = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>fwsessiond status</title>
<style>
:root { --bg:#0f1419; --panel:#171d24; --line:#26303b; --text:#d7dde4; --dim:#8794a3; --accent:#4fb3ff;
        --ok:#3fb950; --warn:#d29922; --bad:#f85149; --mono: ui-monospace, SFMono-Regular, Menlo, monospace; }
* { box-sizing: border-box; }
body { margin:0; font: 14px/1.4 system-ui, sans-serif; background:var(--bg); color:var(--text); }
header { display:flex; gap:16px; align-items:center; padding:12px 20px; border-bottom:1px solid var(--line); flex-wrap:wrap; }
header h1 { font-size:18px; margin:0; font-weight:600; }
header h1 span { color:var(--accent); }
.stats { display:flex; gap:10px; flex-wrap:wrap; }
.stat { background:var(--panel); border:1px solid var(--line); border-radius:6px; padding:4px 10px; font-family:var(--mono); font-size:12px; }
.stat b { color:var(--accent); }
#search { flex:1; min-width:240px; max-width:420px; padding:7px 10px; border-radius:6px; border:1px solid var(--line); background:var(--panel); color:var(--text); }
#conn { font-size:12px; color:var(--dim); }
#conn.live::before { content:"● "; color:var(--ok); }
#conn.down::before { content:"● "; color:var(--bad); }
main { display:grid; grid-template-columns: minmax(0, 2fr) minmax(320px, 1fr); gap:16px; padding:16px 20px; }
section { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:10px 12px; overflow:auto; }
section h2 { font-size:13px; text-transform:uppercase; letter-spacing:.06em; color:var(--dim); margin:2px 0 8px; }
table { width:100%; border-collapse:collapse; font-size:12.5px; }
th { text-align:left; color:var(--dim); font-weight:500; border-bottom:1px solid var(--line); padding:4px 6px; white-space:nowrap; }
td { border-bottom:1px solid var(--line); padding:4px 6px; vertical-align:top; }
td.mono, span.mono { font-family:var(--mono); font-size:12px; }
.badge { display:inline-block; padding:0 7px; border-radius:10px; font-size:11px; font-weight:600; }
.pending { background:#3b2f0f; color:var(--warn); } .allowed, .allow, .active { background:#12301b; color:var(--ok); }
.terminating, .deny { background:#3a1514; color:var(--bad); }
#events { font-family:var(--mono); font-size:12px; max-height:520px; overflow:auto; }
#events div { border-bottom:1px solid var(--line); padding:3px 0; }
#events .type { color:var(--accent); }
#events .new { animation: flash 1.2s ease-out; }
@keyframes flash { from { background:#1f3b57; } to { background:transparent; } }
.dim { color:var(--dim); }
#tokenbox { display:none; gap:8px; align-items:center; }
#tokenbox input { padding:6px 8px; border-radius:6px; border:1px solid var(--line); background:var(--bg); color:var(--text); width:320px; }
button { background:var(--accent); color:#04121f; border:0; border-radius:6px; padding:6px 10px; font-weight:600; cursor:pointer; }
.wide { grid-column: 1 / -1; }
h2 .count { text-transform:none; letter-spacing:0; color:var(--text); font-weight:400; margin-left:8px; }
.pager { display:flex; gap:8px; margin:0 0 8px; }
button:disabled { opacity:.4; cursor:default; }
</style>
</head>
<body>
<header>
  <h1><span>fw</span>sessiond</h1>
  <div class="stats" id="stats"></div>
  <input id="search" type="search" placeholder="Search session, user, client or bound address" autocomplete="off">
  <div id="tokenbox"><input id="token" type="password" placeholder="Bearer token (viewer role is enough)"><button id="save">Use token</button></div>
  <div id="conn" class="down">connecting</div>
</header>
<main>
  <section class="wide"><h2>Binds <span class="count" id="binds-count"></span></h2><table id="binds"><thead><tr>
    <th>Bind</th><th>Session</th><th>Protocol</th><th>Address</th><th>State</th><th>Granted protocol</th><th>Flags</th><th>IP filter</th><th>Expires</th><th>Accepted</th><th>Discarded</th></tr></thead><tbody></tbody></table></section>
  <section><h2>Sessions <span class="count" id="sessions-count"></span></h2>
    <div class="pager"><button id="prev" type="button">Previous</button><button id="next" type="button">Next</button></div>
    <table id="sessions"><thead><tr>
    <th>Session</th><th>Client</th><th>User</th><th>Type</th><th>State</th><th>Binds</th><th>Created</th></tr></thead><tbody></tbody></table></section>
  <section><h2>Live events</h2><div id="events"><div class="dim">waiting for events…</div></div></section>
  <section class="wide"><h2>Access rules (in evaluation order)</h2><table id="rules"><thead><tr>
    <th>#</th><th>Name</th><th>Action</th><th>Protocols</th><th>Users</th><th>Sources</th><th>Enabled</th></tr></thead><tbody></tbody></table></section>
</main>
<script>
"use strict";
// The page shows one page of sessions at a time (PAGE_SIZE, in creation order, Previous/Next) and
// the binds of the sessions shown; the totals come from /summary, the counts the server keeps (the
// numbers /metrics exports), so the page always says how much of the whole it shows. The search box
// asks the server (session id, user, client address or range, bound address) and also filters what
// is loaded.
const state = { sessions: new Map(), binds: new Map(), rules: [], protocols: new Map(), events: [], lastEventId: null,
                summary: null, cursors: [null], pageIndex: 0, nextCursor: null, query: "", searching: false,
                token: sessionStorage.getItem("fwsessiond.token") || "" };
const PAGE_SIZE = 100, MAX_EVENTS = 200, PARALLEL = 8;
const $ = (id) => document.getElementById(id);
const number = (n) => Number(n).toLocaleString("en-US");

function headers() { return state.token ? { "Authorization": "Bearer " + state.token } : {}; }

async function api(path) {
  const response = await fetch(path, { headers: headers() });
  if (response.status === 401) { askForToken(); throw new Error("a token is needed"); }
  if (!response.ok) throw new Error(path + ": " + response.status);
  return response.json();
}
const quietly = (promise, fallback) => promise.catch(() => fallback);

async function pages(path, limit) {
  const items = [];
  let cursor = null;
  do {
    const page = await api(path + (path.includes("?") ? "&" : "?") + "limit=1000" + (cursor ? "&cursor=" + encodeURIComponent(cursor) : ""));
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor && items.length < limit);
  return items;
}

// Runs `work` over `items`, PARALLEL at a time.
async function inParallel(items, work) {
  const results = [];
  let next = 0;
  async function worker() { while (next < items.length) { const i = next++; results[i] = await work(items[i]); } }
  await Promise.all(Array.from({ length: Math.min(PARALLEL, items.length) }, worker));
  return results;
}

function askForToken() { $("tokenbox").style.display = "flex"; }
$("save").addEventListener("click", () => {
  state.token = $("token").value.trim();
  sessionStorage.setItem("fwsessiond.token", state.token);
  $("tokenbox").style.display = "none";
  start();
});

async function loadSummary() { state.summary = await api("/summary"); }

async function bindsOf(sessions) {
  const withBinds = sessions.filter((s) => s.bindCount > 0);
  const lists = await inParallel(withBinds, (s) => quietly(pages("/sessions/" + encodeURIComponent(s.id) + "/binds", 1000), []));
  const binds = new Map();
  for (const list of lists) for (const bind of list) binds.set(bind.id, bind);
  return binds;
}

async function loadPage() {
  const cursor = state.cursors[state.pageIndex];
  const page = await api("/sessions?limit=" + PAGE_SIZE + (cursor ? "&cursor=" + encodeURIComponent(cursor) : ""));
  state.sessions = new Map(page.items.map((s) => [s.id, s]));
  state.nextCursor = page.nextCursor;
  state.binds = await bindsOf(page.items);
}

// Asks the server for everything the query may name: a session id, a user, a client address or
// range, a bound address (who holds it); what it finds joins the loaded sessions that match.
async function search(query) {
  const q = encodeURIComponent(query);
  const [byId, byUser, byClient, holders] = await Promise.all([
    quietly(api("/sessions/" + q).then((s) => [s]), []),
    quietly(api("/sessions?limit=" + PAGE_SIZE + "&user=" + q).then((p) => p.items), []),
    quietly(api("/sessions?limit=" + PAGE_SIZE + "&clientAddress=" + q).then((p) => p.items), []),
    quietly(api("/binds?limit=1000&address=" + q).then((p) => p.items), []),
  ]);
  const found = new Map();
  for (const s of [...byId, ...byUser, ...byClient]) found.set(s.id, s);
  const lower = query.toLowerCase();
  for (const s of state.sessions.values()) if (sessionMatches(lower, s)) found.set(s.id, s);
  const holderSessions = await inParallel([...new Set(holders.map((b) => b.sessionId))].filter((id) => !found.has(id)),
    (id) => quietly(api("/sessions/" + encodeURIComponent(id)), null));
  const binds = await bindsOf([...found.values()]);
  for (const s of holderSessions) if (s) found.set(s.id, s);
  for (const b of holders) binds.set(b.id, b);
  for (const b of state.binds.values()) if (bindMatches(lower, b)) binds.set(b.id, b);
  return { sessions: found, binds };
}

async function loadAll() {
  const [rules, protocols] = await Promise.all([pages("/rules", 10000), pages("/protocols", 10000), loadSummary()]);
  state.rules = rules;
  state.protocols = new Map(protocols.map((p) => [p.guid, p]));
  await loadPage();
}

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined ? "—" : String(text);
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}
function badge(row, text) {
  const td = document.createElement("td");
  const span = document.createElement("span");
  span.className = "badge " + text;
  span.textContent = text;
  td.appendChild(span);
  row.appendChild(td);
}
function fill(tableId, rows) {
  const body = $(tableId).querySelector("tbody");
  body.replaceChildren(...rows);
}
function protocolName(guid) { const p = state.protocols.get(guid); return p ? p.name : guid; }
const when = (timestamp) => timestamp ? timestamp.replace("T", " ").slice(0, 19) : null;

function matches(query, ...values) {
  if (!query) return true;
  return values.some((v) => v !== null && v !== undefined && String(v).toLowerCase().includes(query));
}
function sessionMatches(query, s) { return matches(query, s.id, s.clientAddress, s.user && s.user.name, s.clientMachineName); }
function bindMatches(query, b) {
  const session = state.sessions.get(b.sessionId) || (state.found && state.found.sessions.get(b.sessionId));
  return matches(query, b.id, b.sessionId, b.address, session && session.clientAddress, session && session.user && session.user.name);
}

function render() {
  const searching = state.query !== "" && state.found;
  const sessions = searching ? state.found.sessions : state.sessions;
  const binds = searching ? state.found.binds : state.binds;
  const sessionRows = [];
  for (const s of sessions.values()) {
    const row = document.createElement("tr");
    row.dataset.session = s.id;
    cell(row, s.id, "mono"); cell(row, s.clientAddress, "mono"); cell(row, s.user ? s.user.name : "(unauthenticated)");
    cell(row, s.clientType); badge(row, s.state); cell(row, s.bindCount); cell(row, when(s.createdAt), "dim");
    sessionRows.push(row);
  }
  fill("sessions", sessionRows);
  const bindRows = [];
  for (const b of binds.values()) {
    const row = document.createElement("tr");
    row.dataset.bind = b.id;
    cell(row, b.id, "mono"); cell(row, b.sessionId, "mono"); cell(row, b.protocol); cell(row, b.address, "mono"); badge(row, b.state);
    cell(row, b.protocolGuid ? protocolName(b.protocolGuid) : null); cell(row, b.flags.join(", ") || null);
    cell(row, b.ipFilterId ? "filter " + b.ipFilterId : (b.ipFilter ? b.ipFilter.ranges.join(" ") : "any peer"), "mono");
    cell(row, when(b.expiresAt), "dim");
    cell(row, b.counters.accepted, "mono"); cell(row, b.counters.discarded, "mono");
    bindRows.push(row);
  }
  fill("binds", bindRows);
  fill("rules", state.rules.map((r) => {
    const row = document.createElement("tr");
    cell(row, r.position); cell(row, r.name); badge(row, r.action);
    cell(row, r.protocols === "any" ? "any" : Array.isArray(r.protocols) ? r.protocols.map(protocolName).join(", ") : "all except " + r.protocols.except.map(protocolName).join(", "));
    cell(row, r.users.join(", ")); cell(row, r.sourceAddresses ? r.sourceAddresses.join(" ") : "any", "mono"); cell(row, r.enabled ? "yes" : "no");
    return row;
  }));
  renderCounts(sessions, binds, searching);
}

// The totals are the server's kept counts, this node's and (in an array) the other nodes' it mirrors.
function totals() {
  const s = state.summary;
  if (!s) return { sessions: null, binds: null, pending: null, allowed: null, terminating: null };
  return { sessions: s.sessions.total + s.mirrored.sessions, binds: s.binds.total + s.mirrored.binds,
           pending: s.binds.pending, allowed: s.binds.allowed, terminating: s.binds.terminating };
}

function renderCounts(sessions, binds, searching) {
  const t = totals();
  const of = (n) => (n === null ? "" : " of " + number(n));
  if (searching) {
    $("sessions-count").textContent = "showing " + number(sessions.size) + of(t.sessions) + " — matches for “" + state.query + "”";
    $("binds-count").textContent = "showing " + number(binds.size) + of(t.binds) + " — matches and the binds of the sessions found";
  } else {
    const first = state.pageIndex * PAGE_SIZE;
    const range = sessions.size ? number(first + 1) + "–" + number(first + sessions.size) : "0";
    $("sessions-count").textContent = "showing " + range + of(t.sessions) + (state.nextCursor ? " (Next for more, or search)" : "");
    $("binds-count").textContent = "showing " + number(binds.size) + of(t.binds) + " — the binds of the sessions shown";
  }
  $("prev").disabled = searching || state.pageIndex === 0;
  $("next").disabled = searching || !state.nextCursor;
  const stats = [["sessions", t.sessions], ["binds", t.binds], ["pending", t.pending], ["allowed", t.allowed], ["terminating", t.terminating], ["rules", state.rules.length]];
  $("stats").replaceChildren(...stats.map(([name, value]) => {
    const d = document.createElement("div"); d.className = "stat"; d.dataset.stat = name; d.append(name + " ");
    const b = document.createElement("b"); b.textContent = value === null ? "…" : number(value); d.appendChild(b); return d;
  }));
}

let summaryTimer = null;
function refreshSummarySoon() {
  if (summaryTimer) return;
  summaryTimer = setTimeout(async () => { summaryTimer = null; await quietly(loadSummary()); render(); }, 500);
}

function apply(type, data) {
  const shown = (sessionId) => state.sessions.has(sessionId) || (state.found && state.found.sessions.has(sessionId));
  if (data.session) {
    const onLastPage = !state.nextCursor && state.sessions.size < PAGE_SIZE;
    if (state.sessions.has(data.session.id) || (type === "session.created" && onLastPage)) state.sessions.set(data.session.id, data.session);
    if (state.found && state.found.sessions.has(data.session.id)) state.found.sessions.set(data.session.id, data.session);
  }
  if (type === "session.removed") { state.sessions.delete(data.sessionId); if (state.found) state.found.sessions.delete(data.sessionId); }
  if (data.bind && shown(data.bind.sessionId)) {
    for (const binds of [state.binds, state.found && state.found.binds]) {
      if (!binds) continue;
      if (type === "bind.removed" || type === "bind.expired") binds.delete(data.bind.id);
      else if (binds === state.binds || binds.has(data.bind.id) || state.found.sessions.has(data.bind.sessionId)) binds.set(data.bind.id, data.bind);
    }
    for (const sessions of [state.sessions, state.found && state.found.sessions]) {
      const session = sessions && sessions.get(data.bind.sessionId);
      if (session && type === "bind.created") session.bindCount += 1;
      if (session && (type === "bind.removed" || type === "bind.expired")) session.bindCount = Math.max(0, session.bindCount - 1);
    }
  }
  if (type === "policy.changed") api("/rules?limit=1000").then((page) => { state.rules = page.items; render(); }).catch(() => {});
  refreshSummarySoon();
  const line = document.createElement("div");
  line.className = "new";
  const at = document.createElement("span"); at.className = "dim"; at.textContent = (data.time || "").slice(11, 19) + " ";
  const kind = document.createElement("span"); kind.className = "type"; kind.textContent = type;
  const what = document.createElement("span");
  what.textContent = " " + (data.sessionId || "") + (data.bind ? " " + data.bind.id + " " + data.bind.protocol + " " + data.bind.address + " → " + data.bind.state : "") + (data.policyVersion ? " v" + data.policyVersion : "");
  line.append(at, kind, what);
  const feed = $("events");
  if (feed.firstChild && feed.firstChild.classList && feed.firstChild.classList.contains("dim")) feed.replaceChildren();
  feed.prepend(line);
  while (feed.childNodes.length > MAX_EVENTS) feed.removeChild(feed.lastChild);
}

async function follow() {
  for (;;) {
    try {
      const h = headers();
      if (state.lastEventId) h["Last-Event-ID"] = state.lastEventId;
      const response = await fetch("/events", { headers: h });
      if (response.status === 401) { askForToken(); return; }
      if (!response.ok || !response.body) throw new Error("events: " + response.status);
      $("conn").className = "live"; $("conn").textContent = "live";
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const frame = buffer.slice(0, end); buffer = buffer.slice(end + 2);
          let id = null, type = "message", data = "";
          for (const line of frame.split("\n")) {
            if (line.startsWith("id: ")) id = line.slice(4);
            else if (line.startsWith("event: ")) type = line.slice(7);
            else if (line.startsWith("data: ")) data += line.slice(6);
          }
          if (id) state.lastEventId = id;
          if (type === "reset" || type === "dropped") { await loadAll(); await runSearch(); render(); continue; }
          if (!data || type === "message" || type === "shutdown") continue;
          apply(type, JSON.parse(data));
          render();
        }
      }
    } catch (error) { /* reconnect below */ }
    $("conn").className = "down"; $("conn").textContent = "reconnecting";
    await new Promise((r) => setTimeout(r, 2000));
  }
}

async function runSearch() {
  const query = state.query;
  if (!query) { state.found = null; return; }
  const found = await search(query);
  if (query === state.query) state.found = found;
}

let searchTimer = null;
$("search").addEventListener("input", () => {
  state.query = $("search").value.trim();
  clearTimeout(searchTimer);
  searchTimer = setTimeout(async () => { await quietly(runSearch()); render(); }, 250);
});

async function turnPage(step) {
  if (step > 0 && !state.nextCursor) return;
  if (step > 0) state.cursors[state.pageIndex + 1] = state.nextCursor;
  state.pageIndex = Math.max(0, state.pageIndex + step);
  await quietly(Promise.all([loadPage(), loadSummary()]));
  render();
}
$("prev").addEventListener("click", () => turnPage(-1));
$("next").addEventListener("click", () => turnPage(1));

let started = false;
async function start() {
  try {
    await loadAll();
    render();
    if (!started) { started = true; follow(); }
  } catch (error) {
    $("conn").className = "down"; $("conn").textContent = error.message;
  }
}
start();
</script>
</body>
</html>
"""#
}

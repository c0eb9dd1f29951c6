// AnyTrade's dashboard: logs in, loads server-rendered fragments with the token kept
// in this tab only (sessionStorage, sent as a bearer header, never in a URL), keeps
// them live over the GraphQL WebSocket (graphql-transport-ws), and runs actions as
// GraphQL mutations. Everything the server sends is HTML it escaped; what this script
// writes itself goes in as text, never as markup.

const TOKEN = "anytrade.token";
const $ = (selector, root = document) => root.querySelector(selector);

function session() {
  const raw = sessionStorage.getItem(TOKEN);
  if (!raw) return null;
  try {
    const session = JSON.parse(raw);
    return Date.parse(session.expiresAt) > Date.now() ? session : null;
  } catch {
    return null;
  }
}

function showLogin(message = "") {
  closeLive();
  sessionStorage.removeItem(TOKEN);
  for (const id of ["nav", "who", "logout", "page"]) $(`#${id}`).hidden = true;
  $("#login").hidden = false;
  $("#login-error").textContent = message;
}

async function login(event) {
  event.preventDefault();
  const form = event.target;
  const body = { username: form.username.value, password: form.password.value };
  const response = await fetch("/auth/login", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    $("#login-error").textContent = answer.error?.message ?? `login failed (${response.status})`;
    return;
  }
  form.password.value = "";
  sessionStorage.setItem(
    TOKEN,
    JSON.stringify({ token: answer.token, expiresAt: answer.expiresAt, role: answer.role, username: body.username }),
  );
  start();
}

async function logout() {
  const current = session();
  if (current) {
    await fetch("/auth/logout", { method: "POST", headers: { authorization: `Bearer ${current.token}` } }).catch(() => {});
  }
  showLogin("Logged out.");
}

/// A server-rendered fragment; a refused token goes back to the login page.
async function fragment(path) {
  const current = session();
  if (!current) {
    showLogin("Your session ended; log in again.");
    return null;
  }
  const response = await fetch(path, { headers: { authorization: `Bearer ${current.token}` } });
  if (response.status === 401 || response.status === 403) {
    showLogin("Your session ended; log in again.");
    return null;
  }
  // A refused filter or cursor (400) says which field and why.
  if (!response.ok) throw new Error(response.status === 400 ? await response.text() : `${path}: ${response.status}`);
  return response.text();
}

async function graphql(query, variables) {
  const current = session();
  if (!current) return { errors: [{ message: "not logged in" }] };
  const response = await fetch("/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${current.token}` },
    body: JSON.stringify({ query, variables }),
  });
  return response.json();
}

// ---- fleet -------------------------------------------------------------------------

async function showFleet() {
  if (!(await showPage("/ui/fleet"))) return;
  $("#fleet-filter").addEventListener("input", applyFilter);
  $("#fleet-table thead").addEventListener("click", sortBy);
  $("#fleet-table tbody").addEventListener("click", act);
  $("#create-bot")?.addEventListener("submit", (event) => createBot(event).catch((e) => ($("#create-bot-error").textContent = String(e))));
}

function rows() {
  return [...document.querySelectorAll("#fleet-table tbody tr")];
}

function applyFilter() {
  const needle = $("#fleet-filter").value.trim().toLowerCase();
  for (const row of rows()) {
    const haystack = [row.dataset.name, row.dataset.status, row.dataset.health, row.dataset.strategy, row.dataset.runtime, row.dataset.mode]
      .join(" ")
      .toLowerCase();
    row.hidden = needle !== "" && !haystack.includes(needle);
  }
}

let sorted = { key: "name", ascending: true };

function sortBy(event) {
  const key = event.target.closest("th")?.dataset.sort;
  if (!key) return;
  sorted = { key, ascending: sorted.key === key ? !sorted.ascending : true };
  applySort();
}

function applySort() {
  const key = sorted.key;
  const numeric = ["open", "closed", "unrealized"].includes(key);
  const value = (row) => (numeric ? Number(row.dataset[key]) : (row.dataset[key] ?? "").toLowerCase());
  const body = $("#fleet-table tbody");
  const ordered = rows().sort((a, b) => {
    const [x, y] = [value(a), value(b)];
    const order = x < y ? -1 : x > y ? 1 : 0;
    return sorted.ascending ? order : -order;
  });
  body.append(...ordered);
}

async function act(event) {
  const button = event.target.closest("button[data-action]");
  if (!button) return;
  const row = button.closest("tr");
  const alert = $(".error", row);
  alert.textContent = "";
  button.disabled = true;
  const mutation = button.dataset.action;
  const answer = await graphql(`mutation($id: ID!) { ${mutation}(id: $id) { id status } }`, { id: row.dataset.bot });
  button.disabled = false;
  if (answer.errors?.length) {
    alert.textContent = answer.errors.map((e) => e.message).join("; ");
    return;
  }
  const bot = answer.data?.[mutation];
  if (bot) showStatus(row, bot.status);
}

/// The new-bot form: createBot, then startBot when asked; the row arrives live.
async function createBot(event) {
  event.preventDefault();
  const form = event.target;
  const error = $("#create-bot-error");
  error.textContent = "";
  const pairs = form.pairs.value.split(",").map((p) => p.trim()).filter((p) => p !== "");
  const input = {
    name: form.name.value.trim(),
    exchangeId: form.exchangeId.value,
    strategyId: form.strategyId.value,
    mode: form.mode.value,
    config: { pairs, stakeAmount: form.stakeAmount.value.trim(), maxOpenTrades: Number(form.maxOpenTrades.value) },
  };
  if (form.extra.value.trim() !== "") {
    try {
      input.config.extra = JSON.parse(form.extra.value);
    } catch (e) {
      error.textContent = `extra: not JSON (${e.message})`;
      return;
    }
  }
  const created = await graphql("mutation($input: CreateBotInput!) { createBot(input: $input) { id } }", { input });
  if (created.errors?.length) {
    error.textContent = created.errors.map((e) => e.message).join("; ");
    return;
  }
  const id = created.data.createBot.id;
  if (form.start.checked) {
    const started = await graphql("mutation($id: ID!) { startBot(id: $id) { id } }", { id });
    if (started.errors?.length) error.textContent = started.errors.map((e) => e.message).join("; ");
  }
  form.name.value = "";
  scheduleReload();
}

function showStatus(row, status) {
  row.dataset.status = status;
  const badge = $(".status .badge", row);
  badge.textContent = status;
  badge.className = `badge status-${status}`;
  if (status !== "ERROR") $(".status .error-text", row)?.remove();
  recount();
}

function showHealth(row, health, lastSeenAt) {
  row.dataset.health = health;
  const badge = $(".health .badge", row);
  badge.textContent = health;
  badge.className = `badge health-${health}`;
  if (lastSeenAt) {
    row.dataset.seen = lastSeenAt;
    $(".seen", row).textContent = lastSeenAt.replace(/\.\d+/, "");
  }
}

/// Totals from the rows, as they change.
function recount() {
  const all = rows();
  $("#total-bots").textContent = String(all.length);
  const counts = new Map();
  for (const row of all) counts.set(row.dataset.status, (counts.get(row.dataset.status) ?? 0) + 1);
  for (const cell of document.querySelectorAll("[data-status-total]")) {
    cell.textContent = String(counts.get(cell.dataset.statusTotal) ?? 0);
    counts.delete(cell.dataset.statusTotal);
  }
  if (counts.size > 0) scheduleReload();
  const sum = (key) => all.reduce((total, row) => total + Number(row.dataset[key] || 0), 0);
  $("#total-open-trades").textContent = String(sum("open"));
  $("#total-closed-profit").textContent = sum("closed").toFixed(2);
  $("#total-open-profit").textContent = sum("unrealized").toFixed(2);
}

let reloading = null;

/// A bot the page does not show yet, or a status it has no total for: reload the
/// table (keeping its filter and order), at most once a second.
function scheduleReload() {
  if (reloading) return;
  reloading = setTimeout(async () => {
    reloading = null;
    if (!$("#fleet")) return;
    const filter = $("#fleet-filter")?.value ?? "";
    await showFleet();
    $("#fleet-filter").value = filter;
    applyFilter();
    applySort();
  }, 1000);
}

/// Open trades' profit moves with every trade sync, which is no event: the table is
/// read again this often while it is shown, so open profit is never older than this.
const MARKS_REFRESH_MS = 60_000;
setInterval(() => $("#fleet") && scheduleReload(), MARKS_REFRESH_MS);

const refreshing = new Map();

/// One bot's row again from the server (its trades changed), at most once a second.
function refreshRow(id) {
  if (refreshing.has(id)) return;
  refreshing.set(
    id,
    setTimeout(async () => {
      refreshing.delete(id);
      const html = await fragment(`/ui/fleet/bots/${encodeURIComponent(id)}`);
      const row = document.getElementById(`bot-${id}`);
      if (html === null || !row) return;
      const template = document.createElement("template");
      template.innerHTML = html.trim();
      const fresh = template.content.firstElementChild;
      fresh.hidden = row.hidden;
      // An action's refusal stays until the next action.
      const said = $(".actions .error", row)?.textContent;
      if (said) $(".actions .error", fresh).textContent = said;
      row.replaceWith(fresh);
      recount();
    }, 1000),
  );
}

// ---- live updates over graphql-transport-ws ----------------------------------------

let socket = null;

function closeLive() {
  if (socket) {
    socket.onclose = null;
    socket.close(1000);
    socket = null;
  }
}

function openLive() {
  closeLive();
  const current = session();
  if (!current) return;
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(`${scheme}//${location.host}/graphql/ws`, "graphql-transport-ws");
  socket = ws;
  ws.onopen = () => ws.send(JSON.stringify({ type: "connection_init", payload: { Authorization: `Bearer ${current.token}` } }));
  ws.onmessage = (message) => {
    const frame = JSON.parse(message.data);
    if (frame.type === "connection_ack") {
      subscribe("status", "subscription { botStatusChanged { id status healthStatus lastSeenAt } }");
      subscribe("trades", "subscription { botTrades { botId } }");
      follow();
    } else if (frame.type === "next" && frame.id === following) {
      onPageUpdate(frame.payload.data ?? {});
    } else if (frame.type === "next" && frame.id === "status") {
      const bot = frame.payload.data?.botStatusChanged;
      if (!bot) return;
      if (shownBot() === bot.id) return botChanged(bot);
      if (!$("#fleet")) return;
      const row = document.getElementById(`bot-${bot.id}`);
      if (!row) return scheduleReload();
      showHealth(row, bot.healthStatus, bot.lastSeenAt);
      showStatus(row, bot.status);
    } else if (frame.type === "next" && frame.id === "trades") {
      const trade = frame.payload.data?.botTrades;
      if (!trade) return;
      if (shownBot() === trade.botId) scheduleBotReload();
      else if ($("#fleet")) refreshRow(trade.botId);
    } else if (frame.type === "ping") {
      ws.send(JSON.stringify({ type: "pong" }));
    }
  };
  ws.onclose = (event) => {
    if (socket !== ws) return;
    socket = null;
    // 4401/4403: the token is refused (expired, logged out, user disabled).
    if (event.code === 4401 || event.code === 4403) return showLogin("Your session ended; log in again.");
    setTimeout(() => session() && route(), 2000);
  };
}

function subscribe(id, query, variables = {}) {
  socket?.send(JSON.stringify({ id, type: "subscribe", payload: { query, variables } }));
}

function unsubscribe(id) {
  if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ id, type: "complete" }));
}

/// The id of the subscription of the page shown (besides the fleet's), if any.
let following = null;
let followed = 0;

function stopFollowing() {
  if (following) unsubscribe(following);
  following = null;
}

/// What the page shown follows live, besides the fleet.
function follow() {
  if (socket?.readyState !== WebSocket.OPEN) return;
  stopFollowing();
  const id = `page-${++followed}`;
  const hyperopt = $("#hyperopt")?.dataset.job;
  const backtest = $("#backtest")?.dataset.job;
  const events = $("#events")?.dataset;
  if (events) {
    const filter = {};
    if (events.type) filter.aggregateTypes = [events.type];
    if (events.id) filter.aggregateId = events.id;
    if (events.event) filter.eventTypes = [events.event];
    const query = `subscription($filter: EventFilter, $after: Int) {
      events(filter: $filter, after: $after) { position committedAt aggregateType aggregateId eventType payload metadata } }`;
    subscribe(id, query, { filter, after: Number(events.after) });
  } else if (hyperopt) {
    subscribe(id, "subscription($id: ID!) { hyperoptProgress(id: $id) { status progress epoch epochs } }", { id: hyperopt });
  } else if (backtest) {
    subscribe(id, "subscription($id: ID!) { backtestUpdated(id: $id) { status } }", { id: backtest });
  } else if ($("#jobs")) {
    subscribe(id, 'subscription { events(filter: { aggregateTypes: ["backtest", "hyperopt"] }) { position } }');
  } else {
    return;
  }
  following = id;
}

let jobsReload = null;

function onPageUpdate(data) {
  if (data.events && $("#events")) {
    showEvent(data.events);
  } else if (data.hyperoptProgress) {
    const job = data.hyperoptProgress;
    $("#hyperopt-progress").value = job.progress;
    $("#hyperopt-epoch").textContent = `epoch ${job.epoch ?? 0} of ${job.epochs}`;
    setBadge($("#job-status"), job.status);
    if (!["PENDING", "RUNNING"].includes(job.status)) route();
  } else if (data.backtestUpdated) {
    route();
  } else if (data.events && !jobsReload) {
    jobsReload = setTimeout(() => {
      jobsReload = null;
      if ($("#jobs")) route();
    }, 1000);
  }
}

function setBadge(badge, status) {
  if (!badge) return;
  badge.textContent = status;
  badge.className = `badge status-${status}`;
}

// ---- start -------------------------------------------------------------------------

function start() {
  const current = session();
  if (!current) return showLogin();
  $("#login").hidden = true;
  $("#nav").hidden = false;
  $("#who").hidden = false;
  $("#who").textContent = `${current.username} (${current.role})`;
  $("#logout").hidden = false;
  route();
}

// ---- pages -------------------------------------------------------------------------

/// The page the address names: #/fleet (the default), #/bots/ID, #/strategies,
/// #/strategies/ID, #/jobs, #/backtests/ID, #/hyperopts/ID; a query after the path
/// (`?key=…`, as the pages' own links write it) goes to the page's fragment as is.
function route() {
  stopFollowing();
  const [path, query = ""] = (location.hash || "#/fleet").split("?");
  const [, page, id] = path.split("/");
  const shown =
    page === "jobs" ? showJobs()
    : page === "bots" && id ? showBot(id, query)
    : page === "strategies" && id ? showStrategy(id, query)
    : page === "strategies" ? showPage("/ui/strategies")
    : page === "events" ? showEvents(query)
    : page === "compare" ? showPage(`/ui/backtests/compare?${query}`)
    : page === "backtests" && id ? showBacktest(id)
    : page === "hyperopts" && id ? showJob("hyperopt", id)
    : showFleet();
  shown.catch(showProblem);
}

/// Why the page asked for cannot be shown, in its place.
function showProblem(error) {
  const page = $("#page");
  const problem = document.createElement("p");
  problem.id = "page-error";
  problem.className = "error";
  problem.setAttribute("role", "alert");
  problem.textContent = error instanceof Error ? error.message : String(error);
  page.replaceChildren(problem);
  page.hidden = false;
}

async function showJobs() {
  if (!(await showPage("/ui/jobs"))) return;
  $("#run-job")?.addEventListener("submit", (event) => runJob(event).catch((e) => ($("#run-job-error").textContent = String(e))));
}

// ---- a bot, a strategy ------------------------------------------------------------

/// The id of the bot whose page is shown, if one is.
function shownBot() {
  return $("#bot")?.dataset.bot ?? null;
}

/// A fragment shown as the page, followed live; `null` when the session ended.
async function showPage(path) {
  const html = await fragment(path);
  if (html === null) return null;
  const page = $("#page");
  page.innerHTML = html;
  page.hidden = false;
  if (!socket) openLive();
  else follow();
  return page;
}

/// A bot's page; `query` names an older page of its closed trades.
async function showBot(id, query) {
  if (!(await showPage(`/ui/bots/${encodeURIComponent(id)}${query ? `?${query}` : ""}`))) return;
  $("#open-trades tbody").addEventListener("click", closeTrade);
}

/// A strategy's page; `query` names the versions shown.
async function showStrategy(id, query) {
  if (!(await showPage(`/ui/strategies/${encodeURIComponent(id)}${query ? `?${query}` : ""}`))) return;
  $("#strategy-show").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = event.target;
    const shown = new URLSearchParams({ code: form.code.value, from: form.from.value, to: form.to.value });
    location.hash = `#/strategies/${encodeURIComponent(id)}?${shown}`;
  });
}

/// The shown bot's status or health changed: its badges now, the rest with the page.
function botChanged(bot) {
  setBadge($("#bot-status"), bot.status);
  const health = $("#bot-health");
  health.textContent = bot.healthStatus;
  health.className = `badge health-${bot.healthStatus}`;
  if (bot.lastSeenAt) $("#bot-last-seen").textContent = bot.lastSeenAt.replace(/\.\d+/, "");
  scheduleBotReload();
}

let botReload = null;

/// The shown bot's page again (its trades or status changed), at most once a second.
function scheduleBotReload() {
  if (botReload) return;
  botReload = setTimeout(() => {
    botReload = null;
    if (shownBot()) route();
  }, 1000);
}

async function closeTrade(event) {
  const button = event.target.closest("button[data-close-trade]");
  if (!button) return;
  const alert = $(".error", button.closest("td"));
  alert.textContent = "";
  button.disabled = true;
  try {
    const answer = await graphql("mutation($bot: ID!, $trade: Int!) { closeTrade(botId: $bot, tradeId: $trade) { freqtradeTradeId } }", {
      bot: shownBot(),
      trade: Number(button.dataset.closeTrade),
    });
    if (answer.errors?.length) alert.textContent = answer.errors.map((e) => e.message).join("; ");
  } catch (e) {
    alert.textContent = String(e);
  } finally {
    button.disabled = false;
  }
}

/// A backtest's page, whose form opens it side by side with another.
async function showBacktest(id) {
  if (!(await showPage(`/ui/backtests/${encodeURIComponent(id)}`))) return;
  $("#compare-with")?.addEventListener("submit", (event) => {
    event.preventDefault();
    const compared = new URLSearchParams({ a: id, b: event.target.b.value });
    location.hash = `#/compare?${compared}`;
  });
}

/// A backtest's or hyperopt's page; live while it runs.
async function showJob(kind, id) {
  await showPage(`/ui/${kind}s/${encodeURIComponent(id)}`);
}

// ---- the event log -----------------------------------------------------------------

/// The event log's page; `query` is its filter, as its form wrote it.
async function showEvents(query) {
  if (!(await showPage(`/ui/events${query ? `?${query}` : ""}`))) return;
  $("#events-filter").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const filter = new URLSearchParams([...form].filter(([, value]) => String(value).trim() !== ""));
    location.hash = `#/events?${filter}`;
  });
}

/// The dashboard's page of an aggregate, as the server links it (events.rs).
const PAGES = { bot: "bots", strategy: "strategies", backtest: "backtests", hyperopt: "hyperopts" };
const SHOWN_EVENTS = 200;
const PAYLOAD_CHARS = 240;

/// A live event on top of the table, when it passes the actor filter too.
function showEvent(event) {
  const actor = $("#events").dataset.actor;
  if (actor && event.metadata?.actor !== actor) return;
  const cells = [
    String(event.position),
    event.committedAt.replace(/\.\d+/, ""),
    event.aggregateType,
    event.aggregateId,
    event.eventType,
    event.metadata?.actor ?? "",
    JSON.stringify(event.payload),
  ];
  const row = document.createElement("tr");
  row.dataset.position = String(event.position);
  cells.forEach((text, i) => {
    const cell = row.insertCell();
    if (i === 0) cell.className = "num";
    if (i === 4) cell.className = "event-type";
    if (i === 6) {
      cell.className = "payload";
      const code = document.createElement("code");
      code.textContent = text.length > PAYLOAD_CHARS ? `${text.slice(0, PAYLOAD_CHARS)}…` : text;
      cell.append(code);
    } else if (i === 3 && PAGES[event.aggregateType]) {
      const link = document.createElement("a");
      link.href = `#/${PAGES[event.aggregateType]}/${encodeURIComponent(text)}`;
      link.textContent = text;
      cell.append(link);
    } else {
      cell.textContent = text;
    }
  });
  const body = $("#events-table tbody");
  body.prepend(row);
  while (body.rows.length > SHOWN_EVENTS) body.lastElementChild.remove();
  $("#events-empty")?.remove();
}

// ---- jobs ---------------------------------------------------------------------------

/// The new-job form: runBacktest or runHyperopt, then its page.
async function runJob(event) {
  event.preventDefault();
  const form = event.target;
  const error = $("#run-job-error");
  error.textContent = "";
  const kind = form.kind.value;
  const list = (text) => text.split(",").map((p) => p.trim()).filter((p) => p !== "");
  const input = {
    strategyId: form.strategyId.value,
    exchangeId: form.exchangeId.value,
    startDate: form.startDate.value,
    endDate: form.endDate.value,
    timeframe: form.timeframe.value.trim(),
    stakeAmount: Number(form.stakeAmount.value),
    stakeCurrency: form.stakeCurrency.value.trim(),
    pairs: list(form.pairs.value),
  };
  let mutation = "runBacktest";
  let type = "RunBacktestInput";
  if (kind === "hyperopt") {
    Object.assign(input, {
      epochs: Number(form.epochs.value),
      spaces: list(form.spaces.value.toUpperCase()),
      optimizationMetric: form.optimizationMetric.value,
    });
    mutation = "runHyperopt";
    type = "RunHyperoptInput";
  }
  const answer = await graphql(`mutation($input: ${type}!) { ${mutation}(input: $input) { id } }`, { input });
  if (answer.errors?.length) {
    error.textContent = answer.errors.map((e) => e.message).join("; ");
    return;
  }
  location.hash = `#/${kind}s/${answer.data[mutation].id}`;
}

$("#login-form").addEventListener("submit", (event) => login(event).catch((e) => ($("#login-error").textContent = String(e))));
$("#logout").addEventListener("click", logout);
window.addEventListener("hashchange", () => session() && route());
start();

// The dashboard's script (user/web/dashboard.html): polls /stats.json
// about once a second and draws each panel from two samples in a row
// (the kernel's counters are cumulative; a rate is the change between two
// polls over the change in now_ns). The fields are documented in
// user/web/stats-json.md. <html data-polls="N"> counts the polls drawn,
// and data-first-ns/-last-ns, data-first-switches/-last-switches keep
// the first and the last poll's clock and switch count, so a test can
// wait for polls and see that the figures moved.
"use strict";

const POLL_MS = 1000;
const VERSION = 1;             // the /stats.json version this script reads
const COLORS = { yield: "#4e9a06", preempt: "#3465a4", block: "#f57900", exit: "#cc0000",
                 running: "#888a85" };
const NS_PER_S = 1e9, NS_PER_MS = 1e6;
const TIMELINE_ROWS = 64;      // rows of the timeline; more threads share the last one
const OTHERS = "others";

let prev = null;               // the previous sample
let polls = 0;

function $(id) { return document.getElementById(id); }

function el(tag, text, attrs) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
  return e;
}

function fmt(v, digits) {
  return v.toLocaleString("en", { maximumFractionDigits: digits || 0,
                                  minimumFractionDigits: digits || 0 });
}

// A per-second rate of a counter between two samples.
function rate(now, before, dtNs) { return dtNs > 0 ? (now - before) * NS_PER_S / dtNs : 0; }

// A <dl> from [label, value] pairs.
function list(id, pairs) {
  const dl = $(id);
  dl.replaceChildren();
  for (const [k, v] of pairs) { dl.append(el("dt", k), el("dd", v)); }
}

function rows(tbody, cells) {
  tbody.replaceChildren();
  for (const r of cells) {
    const tr = el("tr");
    for (const c of r) tr.append(c instanceof Node ? c : el("td", c));
    tbody.append(tr);
  }
}

function drawThreads(s, p, dt) {
  const before = {};
  for (const t of p.threads) before[t.id] = t;
  rows($("threads").tBodies[0], s.threads.map(t => {
    const b = before[t.id] || { cpu_ns: t.cpu_ns, voluntary: t.voluntary, involuntary: t.involuntary };
    // The running thread's cpu_ns can step back by under a tick between
    // two samples (stats-json.md): shown as 0, never as a negative share.
    const share = dt > 0 ? Math.max(0, 100 * (t.cpu_ns - b.cpu_ns) / dt) : 0;
    const cpu = el("td");
    cpu.append(el("span", "", { class: "bar", style: "width:" + Math.min(share, 100) * 0.6 + "px" }),
               " " + fmt(share, 1) + " %");
    return [String(t.id), t.name, t.state, cpu,
            fmt(rate(t.voluntary, b.voluntary, dt)), fmt(rate(t.involuntary, b.involuntary, dt)),
            fmt(t.voluntary), fmt(t.involuntary)];
  }));
  $("threads").tBodies[0].dataset.total = s.threads_total;
  $("threads-note").textContent = "CPU share and switches over the last poll" +
    (s.threads_total > s.threads.length ?
     ` (the first ${s.threads.length} of ${s.threads_total} threads)` : "");
}

function drawCounters(s, p, dt) {
  list("reasons", Object.keys(s.sched.by_reason).map(r =>
    [r, fmt(rate(s.sched.by_reason[r], p.sched.by_reason[r], dt)) + " /s"]).concat(
    [["all", fmt(rate(s.sched.switches, p.sched.switches, dt)) + " /s"],
     ["idle", fmt(dt > 0 ? 100 * (s.sched.idle_ns - p.sched.idle_ns) / dt : 0, 1) + " %"]]));
  list("conns", [
    ["requests", fmt(rate(s.httpd.requests, p.httpd.requests, dt)) + " /s"],
    ["open (httpd)", fmt(s.httpd.open)],
    ["open (TCP, not TIME-WAIT)", fmt(s.tcp.connections)],
    ["TIME-WAIT", fmt(s.tcp.time_wait)],
    ["at most at once", fmt(s.httpd.open_max)],
    ["requests served", fmt(s.httpd.requests)],
    ["refused", fmt(s.httpd.refused)],
    ["retransmits", fmt(rate(s.tcp.retransmits, p.tcp.retransmits, dt)) + " /s"]]);
  const l = s.loop;
  list("loop", [
    ["busy (last second)", fmt(l.busy_permille / 10, 1) + " %"],
    ["busy (last poll)", fmt(dt > 0 ? 100 * (l.busy_ns - p.loop.busy_ns) / dt : 0, 1) + " %"],
    ["callbacks", fmt(rate(l.callbacks, p.loop.callbacks, dt)) + " /s"],
    ["timer lag, last", fmt(l.lag_last_ns / 1000, 1) + " us"],
    ["timer lag, average", fmt(l.lag_avg_ns / 1000, 1) + " us"],
    ["timer lag, max", fmt(l.lag_max_ns / 1000, 1) + " us"],
    ["stalls reported", fmt(l.stalls)]]);
  rows($("slowest").tBodies[0], l.slowest.map(c =>
    [c.name, fmt(c.max_ns / 1000, 1) + " us", fmt(c.calls)]));
  const h = s.heap;
  list("heap", [["used", fmt(h.used_bytes) + " B"], ["of", fmt(h.total_bytes) + " B"],
                ["share", fmt(100 * h.used_bytes / h.total_bytes, 2) + " %"],
                ["largest free", fmt(h.largest_free_bytes) + " B"],
                ["allocations", fmt(rate(h.allocs, p.heap.allocs, dt)) + " /s"],
                ["failed", fmt(h.failures)]]);
  const irqBefore = {};
  for (const q of p.irqs.lines) irqBefore[q.line] = q.count;
  list("irqs", s.irqs.lines.map(q => ["IRQ " + q.line + (q.name ? " " + q.name : ""),
    fmt(rate(q.count, irqBefore[q.line] === undefined ? q.count : irqBefore[q.line], dt)) + " /s"]));
  const drops = Object.keys(s.net.drops).filter(k => s.net.drops[k] > 0);
  list("drops", [["all", fmt(rate(s.net.drops_total, p.net.drops_total, dt)) + " /s, " +
                   fmt(s.net.drops_total)]].concat(drops.map(k =>
    [k, fmt(rate(s.net.drops[k], p.net.drops[k], dt)) + " /s, " + fmt(s.net.drops[k])])));
}

// The last 200 ms of switches as an SVG: between two switches the CPU
// belongs to the first one's "to" thread, coloured by why it left it (the
// second one's reason); the last one still runs.
function drawTimeline(s) {
  const tr = s.trace, ev = tr.events;
  const W = 900, ROW = 16, LEFT = 110, TOP = 4;
  const end = s.now_ns, start = end - tr.window_ns;
  const ids = [];
  const names = {};
  for (const t of s.threads) names[t.id] = t.name;
  for (const k in tr.names) if (!(k in names)) names[k] = tr.names[k];
  // A row per thread, up to TIMELINE_ROWS; beyond, the rest share one.
  function row(id) {
    const i = ids.indexOf(id);
    if (i >= 0) return i;
    if (ids.length < TIMELINE_ROWS - 1) { ids.push(id); return ids.length - 1; }
    if (!ids.includes(OTHERS)) { ids.push(OTHERS); names[OTHERS] = "(other threads)"; }
    return ids.indexOf(OTHERS);
  }
  for (const t of s.threads) row(t.id);
  const segs = [];
  let from = start, who = ev.length ? ev[0][1] : null;
  for (const [ago, f, to, why] of ev) {
    const ns = end - ago;
    segs.push([who === null ? f : who, Math.max(from, start), ns, tr.reasons[why]]);
    from = ns; who = to;
  }
  if (who !== null) segs.push([who, Math.max(from, start), end, "running"]);
  for (const sg of segs) row(sg[0]);
  const H = TOP + ids.length * ROW + 34;
  const x = ns => LEFT + (ns - start) * (W - LEFT - 10) / tr.window_ns;
  const svg = [`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" font-size="11">`];
  ids.forEach((id, i) => {
    svg.push(`<text x="2" y="${TOP + i * ROW + 12}">${id === OTHERS ? "" : id} ` +
             `${esc(names[id] || "?")}</text>`);
    if (i % 2) svg.push(`<rect x="${LEFT}" y="${TOP + i * ROW}" width="${W - LEFT}" height="${ROW}" fill="#f4f4f4"/>`);
  });
  for (const [id, a, b, why] of segs) {
    const w = Math.max(x(b) - x(a), 0.5);
    svg.push(`<rect x="${x(a).toFixed(2)}" y="${TOP + row(id) * ROW + 2}" width="${w.toFixed(2)}" ` +
             `height="${ROW - 4}" fill="${COLORS[why] || "#000"}"><title>${esc(names[id] || id)}: ` +
             `${((b - a) / 1000).toFixed(1)} us, then ${why}</title></rect>`);
  }
  const axis = TOP + ids.length * ROW + 14;
  for (let ms = 0; ms <= tr.window_ns / NS_PER_MS; ms += 50) {
    const ago = tr.window_ns / NS_PER_MS - ms;
    svg.push(`<text x="${x(start + ms * NS_PER_MS)}" y="${axis}" text-anchor="${ago ? "middle" : "end"}">` +
             (ago ? `-${ago} ms` : "now") + "</text>");
  }
  let lx = LEFT;
  for (const k of Object.keys(COLORS)) {
    svg.push(`<rect x="${lx}" y="${axis + 6}" width="10" height="8" fill="${COLORS[k]}"/>` +
             `<text x="${lx + 13}" y="${axis + 14}">${k}</text>`);
    lx += 75;
  }
  svg.push(`<text x="${lx + 10}" y="${axis + 14}">${ev.length} switches` +
           (tr.complete ? "" : " (the newest only: more in the window)") + "</text></svg>");
  $("timeline").innerHTML = svg.join("");
  $("timeline").dataset.rows = ids.length;
}

function esc(s) {
  return String(s).replace(/[&<>"]/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
}

function draw(s) {
  if (s.version !== VERSION) throw new Error("stats.json version " + s.version + ", this page reads " + VERSION);
  const p = prev || s, dt = s.now_ns - p.now_ns;
  $("style").textContent = "httpd " + s.httpd.style;
  drawThreads(s, p, dt);
  drawCounters(s, p, dt);
  drawTimeline(s);
  $("live").hidden = false;
  $("text").hidden = true;
  polls++;
  const d = document.documentElement.dataset;   // for tests: did the figures move?
  if (polls === 1) { d.firstNs = s.now_ns; d.firstSwitches = s.sched.switches; }
  d.lastNs = s.now_ns;
  d.lastSwitches = s.sched.switches;
  d.polls = polls;
  $("status").textContent = "live: poll " + polls + ", guest time " +
    fmt(s.now_ns / NS_PER_MS) + " ms since boot, " + fmt(dt / NS_PER_MS) + " ms since the last poll";
  prev = s;
}

async function poll() {
  try {
    const r = await fetch("/stats.json", { cache: "no-store" });
    if (!r.ok) throw new Error("/stats.json: HTTP " + r.status + " " + (await r.text()).trim());
    draw(await r.json());
  } catch (e) {
    $("status").textContent = "poll failed (" + e.message + "); trying again";
  }
  setTimeout(poll, POLL_MS);
}

poll();

/// The dashboard page: plain HTML, CSS and JavaScript in one document, no external asset (no CDN, no build
/// step). It polls the query API every 2 s and draws the heat map, the red and orange enterprises, the open
/// alerts and, on a click, one enterprise's portrait with its 24 h grade timeline as an SVG chart.
///
/// The elements the browser test reads: `#updated`, `#heatmap tr[data-key] td[data-grade]`,
/// `#hot li[data-enterprise]`, `#alerts tr[data-alert]`, `#portrait[data-enterprise]`, `#timeline`.
enum Dashboard {
    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Vigil — live risk</title>
        <style>
          :root { --red:#d7191c; --orange:#f28e2b; --yellow:#f2cf1d; --blue:#2c7bb6; --ink:#1d2329; --muted:#66707a; }
          body { font: 14px/1.4 system-ui, sans-serif; color: var(--ink); margin: 0; background: #f4f5f7; }
          header { display: flex; justify-content: space-between; align-items: baseline; padding: 12px 20px; background: #1d2329; color: #fff; }
          header h1 { font-size: 18px; margin: 0; }
          #updated { color: #c8cdd2; }
          main { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; padding: 16px 20px; }
          section { background: #fff; border-radius: 6px; padding: 12px 16px; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
          section.wide { grid-column: 1 / -1; }
          h2 { font-size: 15px; margin: 0 0 8px; }
          table { border-collapse: collapse; width: 100%; }
          th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #e6e8eb; }
          td.n { text-align: right; font-variant-numeric: tabular-nums; }
          td[data-grade].hot { color: #fff; font-weight: 600; }
          td[data-grade=red].hot { background: var(--red); }
          td[data-grade=orange].hot { background: var(--orange); }
          td[data-grade=yellow].hot { background: var(--yellow); color: var(--ink); }
          td[data-grade=blue].hot { background: var(--blue); }
          .badge { display: inline-block; min-width: 52px; text-align: center; border-radius: 3px; color: #fff; padding: 0 6px; font-weight: 600; }
          .badge.red { background: var(--red); } .badge.orange { background: var(--orange); }
          .badge.yellow { background: var(--yellow); color: var(--ink); } .badge.blue { background: var(--blue); }
          #hot li { list-style: none; padding: 4px 0; cursor: pointer; border-bottom: 1px solid #eef0f2; }
          #hot { padding: 0; margin: 0; }
          #hot li:hover { background: #f0f4f8; }
          .factors { color: var(--muted); }
          tr.overdue td { background: #fde2e1; }
          tr.overdue td.deadline { color: var(--red); font-weight: 600; }
          .controls button { margin-left: 4px; }
          .controls button.on { font-weight: 700; }
          #portrait[hidden] { display: none; }
          .muted { color: var(--muted); }
        </style>
        </head>
        <body>
        <header><h1>Vigil — live risk state</h1><span id="updated">waiting for data…</span></header>
        <main>
          <section>
            <h2>Heat map <span class="controls">by <button id="by-region" class="on">region</button><button id="by-industry">industry</button></span></h2>
            <table id="heatmap"><thead><tr><th id="cell-head">region</th><th>red</th><th>orange</th><th>yellow</th><th>blue</th><th>all</th></tr></thead><tbody></tbody></table>
          </section>
          <section>
            <h2>Red and orange enterprises</h2>
            <ul id="hot"><li class="muted">none yet</li></ul>
          </section>
          <section class="wide">
            <h2>Open alerts <span class="muted" id="alert-count"></span></h2>
            <table id="alerts"><thead><tr><th>severity</th><th>enterprise</th><th>sensor</th><th>level</th><th>value / limit</th><th>raised</th><th>respond by</th><th>acknowledged</th></tr></thead><tbody></tbody></table>
          </section>
          <section class="wide" id="portrait" hidden>
            <h2 id="portrait-title"></h2>
            <div id="portrait-factors" class="factors"></div>
            <svg id="timeline" width="100%" height="180" viewBox="0 0 800 180" preserveAspectRatio="none" role="img" aria-label="grade timeline"></svg>
            <div id="portrait-changes" class="muted"></div>
          </section>
        </main>
        <script>
        "use strict";
        const colours = { red: "#d7191c", orange: "#f28e2b", yellow: "#f2cf1d", blue: "#2c7bb6" };
        const grades = ["red", "orange", "yellow", "blue"];
        let by = "region", selected = null;
        const $ = (s) => document.querySelector(s);
        const time = (ms) => ms ? new Date(ms).toISOString().replace("T", " ").slice(0, 16) + " UTC" : "–";
        const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
        const badge = (g) => `<span class="badge ${esc(g)}">${esc(g)}</span>`;
        const factors = (fs) => fs.map((f) => `${f.factor} ${f.value.toFixed(1)}`).join(", ");
        const why = (e) => factors(e.top_factors) + (e.overrides.length ? ` · override: ${e.overrides.join(", ")}` : "");
        async function get(path) {
          const r = await fetch(path, { cache: "no-store" });
          if (!r.ok) throw new Error(path + ": " + r.status);
          return r.json();
        }
        function drawHeatmap(h) {
          $("#cell-head").textContent = h.by;
          $("#heatmap tbody").innerHTML = h.cells.map((c) =>
            `<tr data-key="${esc(c.key)}"><td>${esc(c.key)}</td>` +
            grades.map((g) => `<td class="n${c[g] > 0 ? " hot" : ""}" data-grade="${g}">${c[g]}</td>`).join("") +
            `<td class="n" data-grade="all">${c.enterprises}</td></tr>`).join("") ||
            `<tr><td colspan="6" class="muted">no grades yet</td></tr>`;
        }
        function drawHot(list) {
          $("#hot").innerHTML = list.items.map((e) =>
            `<li data-enterprise="${esc(e.enterprise)}">${badge(e.level)} <b>${esc(e.enterprise)}</b> ${e.score.toFixed(1)}
             <span class="muted">${esc(e.region ?? "unknown")} · since ${time(e.since)}</span><br>
             <span class="factors">${esc(why(e))}</span></li>`).join("") || `<li class="muted">none</li>`;
          for (const li of document.querySelectorAll("#hot li[data-enterprise]")) li.onclick = () => { selected = li.dataset.enterprise; refreshPortrait(); };
        }
        function drawAlerts(list) {
          $("#alert-count").textContent = `${list.total} open`;
          $("#alerts tbody").innerHTML = list.items.map((a) =>
            `<tr data-alert="${esc(a.alert_id)}" class="${a.overdue ? "overdue" : ""}"><td>${a.severity ? badge(a.severity) : ""}</td>
             <td>${esc(a.enterprise)}</td><td>${esc(a.sensor ?? "–")}</td><td>${esc(a.level)}</td>
             <td class="n">${a.value ?? "–"} / ${a.limit ?? "–"}</td><td>${time(a.raised_at)}</td>
             <td class="deadline">${time(a.respond_by)}${a.overdue ? " overdue" : ""}</td><td>${esc(a.acknowledged_by ?? "")}</td></tr>`).join("") ||
            `<tr><td colspan="8" class="muted">no open alerts</td></tr>`;
        }
        function drawPortrait(p) {
          const s = p.summary, svg = $("#timeline");
          $("#portrait").hidden = false;
          $("#portrait").dataset.enterprise = s.enterprise;
          $("#portrait-title").innerHTML = `${esc(s.enterprise)} ${badge(s.level)} R<sub>dyn</sub> ${s.score.toFixed(1)} <span class="muted">${esc(s.region ?? "unknown")} · ${esc(s.industry ?? "unknown")} · since ${time(s.since)}</span>`;
          $("#portrait-factors").textContent = "main factors: " + (why(s) || "none") + ` · ${p.open_alerts.length} open alerts`;
          const h = p.history, W = 800, H = 180, pad = 20;
          if (h.length === 0) { svg.innerHTML = ""; return; }
          const t0 = h[0].ts, t1 = Math.max(h[h.length - 1].ts, t0 + 1);
          const x = (t) => pad + (W - 2 * pad) * (t - t0) / (t1 - t0), y = (v) => H - pad - (H - 2 * pad) * Math.min(100, v) / 100;
          const b = p.grade.bands || {};
          const bands = [[b.red, "red"], [b.orange, "orange"], [b.yellow, "yellow"]].filter(([v]) => typeof v === "number").map(([v, g]) => `<line x1="${pad}" x2="${W - pad}" y1="${y(v)}" y2="${y(v)}" stroke="${colours[g]}" stroke-dasharray="4 4" stroke-width="1"/>`).join("");
          const path = h.map((q, i) => `${i ? "L" : "M"}${x(q.ts).toFixed(1)},${y(q.score).toFixed(1)}`).join("");
          const dots = h.filter((q, i) => i === 0 || q.level !== h[i - 1].level).map((q) => `<circle cx="${x(q.ts)}" cy="${y(q.score)}" r="4" fill="${colours[q.level]}"/>`).join("");
          svg.innerHTML = bands + `<path d="${path}" fill="none" stroke="#1d2329" stroke-width="1.5"/>` + dots +
            `<text x="${pad}" y="14" font-size="11" fill="#66707a">${time(t0)}</text><text x="${W - pad}" y="14" font-size="11" fill="#66707a" text-anchor="end">${time(t1)}</text>`;
          $("#portrait-changes").textContent = "changes in the last 24 h: " + (p.changes.map((c) => `${time(c.ts)} → ${c.level}`).join(" · ") || "none");
        }
        async function refreshPortrait() {
          if (!selected) return;
          try { drawPortrait(await get("/api/v1/enterprises/" + encodeURIComponent(selected))); } catch (e) { $("#portrait-changes").textContent = String(e); }
        }
        async function refresh() {
          try {
            const [h, hot, alerts] = await Promise.all([get("/api/v1/heatmap?by=" + by), get("/api/v1/enterprises?grade=red,orange&limit=50"), get("/api/v1/alerts?state=active&limit=100")]);
            drawHeatmap(h); drawHot(hot); drawAlerts(alerts);
            await refreshPortrait();
            $("#updated").textContent = `last updated ${new Date().toLocaleTimeString()} · newest grade ${time(h.newest_grade_ts)}`;
            $("#updated").dataset.newestGradeTs = h.newest_grade_ts ?? "";
          } catch (e) {
            $("#updated").textContent = "update failed: " + e.message;
          }
        }
        for (const d of ["region", "industry"]) $("#by-" + d).onclick = () => {
          by = d; $("#by-region").classList.toggle("on", d === "region"); $("#by-industry").classList.toggle("on", d === "industry"); refresh();
        };
        refresh();
        setInterval(refresh, 2000);
        </script>
        </body>
        </html>
        """#
}

// seamscope coupling graph: one <canvas>, hit-testing in JS, details answered by Python.
// All data text goes through textContent / canvas fillText: labels are untrusted.

// The colour scale comes from Python (trait `ramp`: [[position, "#rrggbb"], ...], toolkit.viz.plots.COLOURS), so
// the canvas, its legend and the PNG fallback draw with the same stops.
let RAMP = [[0, [46, 125, 50]], [0.5, [240, 160, 48]], [1, [198, 40, 40]]];

function setRamp(stops) {
  if (!Array.isArray(stops) || stops.length < 2) return;
  RAMP = stops.map(([t, hex]) => [Number(t), [1, 3, 5].map((i) => parseInt(String(hex).slice(i, i + 2), 16))]);
}

function ramp(t) {
  t = Math.max(0, Math.min(1, t));
  for (let i = 0; i < RAMP.length - 1; i++) {
    const [t0, c0] = RAMP[i], [t1, c1] = RAMP[i + 1];
    if (t <= t1) {
      const f = (t - t0) / (t1 - t0);
      return `rgb(${c0.map((a, j) => Math.round(a + (c1[j] - a) * f)).join(",")})`;
    }
  }
  return `rgb(${RAMP[RAMP.length - 1][1].join(",")})`;
}

function num(v) {
  const f = typeof v === "number" ? v : parseFloat(v);
  return Number.isFinite(f) ? f : null;
}

function h(tag, attrs = {}, text = null) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== null) e.textContent = String(text);
  return e;
}

function renderValue(v) {
  if (v === null || v === undefined) return h("span", { class: "ss-muted" }, "—");
  if (Array.isArray(v)) {
    if (v.length === 0) return h("span", { class: "ss-muted" }, "none");
    if (v.every((x) => x && typeof x === "object" && !Array.isArray(x))) return renderTable(v);
    const ul = h("ul");
    for (const x of v.slice(0, 500)) {
      const li = h("li");
      li.appendChild(renderValue(x));
      ul.appendChild(li);
    }
    if (v.length > 500) ul.appendChild(h("li", { class: "ss-muted" }, `… ${v.length - 500} more`));
    return ul;
  }
  if (typeof v === "object") {
    const dl = h("dl");
    for (const [k, x] of Object.entries(v)) {
      dl.appendChild(h("dt", {}, k));
      const dd = h("dd");
      dd.appendChild(renderValue(x));
      dl.appendChild(dd);
    }
    return dl;
  }
  return h("span", {}, fmt(v));
}

function fmt(v) {
  return typeof v === "number" && !Number.isInteger(v) ? String(+v.toFixed(4)) : v;
}

function renderTable(rows) {
  const cols = [];
  const hasWhere = rows.some((r) => "path" in r && "line" in r);
  if (hasWhere) cols.push("where");
  for (const r of rows) for (const k of Object.keys(r)) {
    if (hasWhere && (k === "path" || k === "line")) continue;
    if (!cols.includes(k)) cols.push(k);
  }
  const table = h("table", { class: "ss-table" });
  const tr = h("tr");
  for (const c of cols) tr.appendChild(h("th", {}, c));
  table.appendChild(tr);
  for (const r of rows.slice(0, 300)) {
    const row = h("tr");
    for (const c of cols) {
      let v = c === "where" && hasWhere ? `${r.path ?? ""}:${r.line ?? ""}` : r[c];
      const td = h("td");
      if (v !== null && typeof v === "object") td.appendChild(renderValue(v));
      else td.textContent = v === null || v === undefined ? "" : String(fmt(v));
      row.appendChild(td);
    }
    table.appendChild(row);
  }
  const wrap = h("div");
  wrap.appendChild(table);
  if (rows.length > 300) wrap.appendChild(h("div", { class: "ss-muted" }, `… ${rows.length - 300} more rows`));
  return wrap;
}

function render({ model, el }) {
  const root = h("div", { class: "ss-graph", "data-testid": "seamscope-graph", tabindex: "0" });
  // our keys (a/i/c/e/n, arrows, typing in the search box) must not reach JupyterLab's command-mode shortcuts
  root.setAttribute("data-lm-suppress-shortcuts", "true");
  el.appendChild(root);

  // ---- toolbar
  const bar = h("div", { class: "ss-bar" });
  const kindSel = h("select", { "data-testid": "seamscope-edge-kind", title: "edge kind" });
  for (const [label, attr] of Object.entries(model.get("edge_kinds"))) {
    const o = h("option", { value: attr }, label);
    kindSel.appendChild(o);
  }
  const slider = h("input", { type: "range", min: "0", max: "1", step: "1", "data-testid": "seamscope-threshold" });
  const sliderVal = h("span", { class: "ss-val" });
  const colorSel = h("select", { "data-testid": "seamscope-color-by", title: "colour by" });
  colorSel.appendChild(h("option", { value: "risk" }, "colour: risk"));
  colorSel.appendChild(h("option", { value: "integration_coverage" }, "colour: integration coverage"));
  const sizeSel = h("select", { "data-testid": "seamscope-size-by", title: "size by" });
  sizeSel.appendChild(h("option", { value: "churn" }, "size: churn"));
  sizeSel.appendChild(h("option", { value: "bugs" }, "size: bugs"));
  const search = h("input", { type: "search", placeholder: "find component…", "data-testid": "seamscope-search" });
  const lblKind = h("label", {}, "edges ");
  lblKind.appendChild(kindSel);
  const lblThr = h("label", {}, " ≥ ");
  lblThr.appendChild(slider);
  lblThr.appendChild(sliderVal);
  for (const x of [lblKind, lblThr, colorSel, sizeSel, search]) bar.appendChild(x);
  root.appendChild(bar);

  // ---- legend: the scale of the current colouring, what grey means, what size and width encode
  const legend = h("div", { class: "ss-legend", "data-testid": "seamscope-legend" });
  root.appendChild(legend);

  // the static picture displayed next to this widget (for exports without a kernel) is hidden while we are live
  const staticId = model.get("static_id");
  if (staticId && /^[0-9a-f]+$/.test(staticId)) {
    const sel = `[data-ss-static="${staticId}"]`;
    const style = document.createElement("style");
    style.textContent = `${sel} { display: none !important; } .jp-OutputArea-child:has(${sel}) { display: none !important; }`;
    root.appendChild(style);
  }

  // ---- canvas + side panel
  const main = h("div", { class: "ss-main" });
  const wrap = h("div", { class: "ss-canvas-wrap" });
  const canvas = h("canvas", { "data-testid": "seamscope-canvas" });
  const tip = h("div", { class: "ss-tip" });
  wrap.appendChild(canvas);
  wrap.appendChild(tip);
  const panel = h("div", { class: "ss-panel", "data-testid": "seamscope-detail" });
  main.appendChild(wrap);
  main.appendChild(panel);
  root.appendChild(main);
  const status = h("div", { class: "ss-status", "data-testid": "seamscope-status" });
  root.appendChild(status);

  // ---- data
  let nodes = [], edges = [], byId = new Map(), adj = new Map();
  function loadData() {
    nodes = model.get("nodes").map((n) => ({ ...n, sx: 0, sy: 0, r: 4 }));
    byId = new Map(nodes.map((n) => [n.id, n]));
    edges = model.get("edges").filter((e) => byId.has(e.source) && byId.has(e.target));
    adj = new Map(nodes.map((n) => [n.id, new Set()]));
    for (const e of edges) { adj.get(e.source).add(e.target); adj.get(e.target).add(e.source); }
    root.setAttribute("data-node-count", String(nodes.length));
  }
  loadData();

  let W = 600, H = model.get("height"), dpr = window.devicePixelRatio || 1;
  let zoom = 1, panX = 0, panY = 0, hover = null, matches = new Set();
  const PAD = 24;

  function edgeValue(e) { return num(e.attrs[model.get("edge_kind")]) || 0; }

  function syncControls() {
    kindSel.value = model.get("edge_kind");
    colorSel.value = model.get("color_by");
    sizeSel.value = model.get("size_by");
    const vmax = Math.max(0, ...edges.map(edgeValue));
    slider.max = String(Math.max(1, Math.ceil(vmax)));
    slider.value = String(model.get("threshold"));
    sliderVal.textContent = ` ${model.get("threshold")} (max ${vmax})`;
    if (search.value !== model.get("search")) search.value = model.get("search");
  }

  function computeMatches() {
    const q = model.get("search").trim().toLowerCase();
    matches = new Set(q ? nodes.filter((n) => n.label.toLowerCase().includes(q) || n.id.toLowerCase().includes(q)).map((n) => n.id) : []);
  }

  // room on the right for the labels drawn right of each node
  function baseXY(n) {
    const padR = Math.min(110, W * 0.15);
    return [PAD + n.x * (W - PAD - padR), PAD + n.y * (H - 2 * PAD)];
  }
  function toScreen(n) {
    const [bx, by] = baseXY(n);
    return [(bx - W / 2) * zoom + W / 2 + panX, (by - H / 2) * zoom + H / 2 + panY];
  }

  function nodeColor(n) {
    const by = model.get("color_by");
    const v = num(n.attrs[by]);
    if (v === null) return model.get("no_data") || "#9e9e9e";
    if (by === "integration_coverage") return ramp(1 - v);
    const vmax = riskMax;
    return ramp(vmax > 1 ? v / vmax : v);
  }
  let riskMax = 1;

  function visibleEdges() {
    const thr = model.get("threshold");
    return edges.filter((e) => { const v = edgeValue(e); return v > 0 && v >= thr; });
  }

  let frame = 0;
  function schedule() { if (!frame) frame = requestAnimationFrame(() => { frame = 0; draw(); }); }

  let lastDrawMs = null;
  function draw() {
    const t0 = performance.now();
    const ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, H);
    const sizeBy = model.get("size_by");
    const smax = Math.max(0, ...nodes.map((n) => num(n.attrs[sizeBy]) || 0)) || 1;
    riskMax = Math.max(1, ...nodes.map((n) => num(n.attrs.risk) || 0));
    for (const n of nodes) {
      [n.sx, n.sy] = toScreen(n);
      n.r = 3 + 11 * Math.sqrt((num(n.attrs[sizeBy]) || 0) / smax);
    }
    const sel = model.get("selected") || {};
    const focus = new Set(matches);
    if (sel.kind === "node" && byId.has(sel.id)) focus.add(sel.id);
    const focusNbrs = new Set();
    for (const id of focus) { focusNbrs.add(id); for (const m of adj.get(id) || []) focusNbrs.add(m); }
    const dim = (id) => focus.size > 0 && !focusNbrs.has(id);

    const vis = visibleEdges();
    const emax = Math.max(1, ...vis.map(edgeValue));
    ctx.lineCap = "round";
    for (const e of vis) {
      const a = byId.get(e.source), b = byId.get(e.target);
      const isSel = sel.kind === "edge" && sel.id === e.id;
      ctx.globalAlpha = dim(e.source) && dim(e.target) ? 0.08 : isSel ? 1 : 0.55;
      const cv = num(e.attrs[model.get("color_by")]);
      ctx.strokeStyle = isSel ? "#1f5fbf" : cv === null ? "#8899aa" : nodeColor({ attrs: e.attrs });
      ctx.lineWidth = (isSel ? 2 : 0) + 0.7 + 3.5 * edgeValue(e) / emax;
      ctx.beginPath();
      ctx.moveTo(a.sx, a.sy);
      ctx.lineTo(b.sx, b.sy);
      ctx.stroke();
      // arrowhead at the callee's rim
      const dx = b.sx - a.sx, dy = b.sy - a.sy, len = Math.hypot(dx, dy);
      if (len > b.r + 8) {
        const ux = dx / len, uy = dy / len, tx = b.sx - ux * (b.r + 1), ty = b.sy - uy * (b.r + 1);
        ctx.fillStyle = ctx.strokeStyle;
        ctx.beginPath();
        ctx.moveTo(tx, ty);
        ctx.lineTo(tx - ux * 7 - uy * 3.5, ty - uy * 7 + ux * 3.5);
        ctx.lineTo(tx - ux * 7 + uy * 3.5, ty - uy * 7 - ux * 3.5);
        ctx.fill();
      }
    }
    ctx.globalAlpha = 1;
    const showAll = nodes.length <= 80 || zoom >= 3;
    ctx.font = "11px sans-serif";
    ctx.textBaseline = "middle";
    for (const n of nodes) {
      if (n.sx < -20 || n.sy < -20 || n.sx > W + 20 || n.sy > H + 20) continue;
      ctx.globalAlpha = dim(n.id) ? 0.15 : 1;
      ctx.fillStyle = nodeColor(n);
      ctx.beginPath();
      ctx.arc(n.sx, n.sy, n.r, 0, 2 * Math.PI);
      ctx.fill();
      const isSel = sel.kind === "node" && sel.id === n.id;
      ctx.lineWidth = isSel || matches.has(n.id) ? 3 : 0.8;
      ctx.strokeStyle = isSel ? "#1f5fbf" : matches.has(n.id) ? "#000" : "#333";
      ctx.stroke();
      if (showAll || isSel || matches.has(n.id) || hover === n) {
        ctx.fillStyle = "#111";
        ctx.fillText(n.label, n.sx + n.r + 3, n.sy);
      }
    }
    ctx.globalAlpha = 1;
    renderLegend(Math.max(0, ...nodes.map((n) => num(n.attrs[sizeBy]) || 0)), Math.max(0, ...vis.map(edgeValue)), vis.length);
    status.textContent = `${nodes.length} components, ${vis.length} of ${edges.length} seams shown` +
      (matches.size ? `, ${matches.size} match “${model.get("search")}”` : "") +
      " — drag to pan, wheel to zoom, double-click to reset, click for details";
    lastDrawMs = performance.now() - t0;
    root.setAttribute("data-rendered", "true");
  }

  function renderLegend(smax, emax, shownEdges) {
    const by = model.get("color_by");
    const scale = (model.get("scale_labels") || {})[by] || { low: `${by}: 0`, high: "1", reversed: false };
    const grad = RAMP.map(([t, c]) => `rgb(${c.join(",")}) ${Math.round((scale.reversed ? 1 - t : t) * 100)}%`);
    if (scale.reversed) grad.reverse();
    const unknown = nodes.filter((n) => num(n.attrs[by]) === null).length;
    const key = `${by}|${smax}|${emax}|${unknown}|${model.get("size_by")}|${model.get("edge_kind")}|${shownEdges}`;
    if (legend.getAttribute("data-key") === key) return;
    legend.setAttribute("data-key", key);
    legend.setAttribute("data-color-by", by);
    legend.replaceChildren();
    const colour = h("span", { class: "ss-legend-item", "data-testid": "seamscope-legend-scale" });
    colour.appendChild(h("span", { class: "ss-legend-end" }, scale.low));
    colour.appendChild(h("span", { class: "ss-legend-bar", style: `background: linear-gradient(to right, ${grad.join(", ")})` }));
    colour.appendChild(h("span", { class: "ss-legend-end" }, scale.high));
    legend.appendChild(colour);
    const grey = h("span", { class: "ss-legend-item", "data-testid": "seamscope-legend-unknown" });
    grey.appendChild(h("span", { class: "ss-legend-swatch", style: `background: ${model.get("no_data") || "#9e9e9e"}` }));
    grey.appendChild(document.createTextNode(
      `no ${by.replace(/_/g, " ")} (${unknown} of ${nodes.length} component${nodes.length === 1 ? "" : "s"})`));
    legend.appendChild(grey);
    const kindLabel = Object.entries(model.get("edge_kinds")).find(([, v]) => v === model.get("edge_kind"));
    legend.appendChild(h("span", { class: "ss-legend-item" },
      `size: ${model.get("size_by")} (largest ${fmt(smax)}) · width: ${kindLabel ? kindLabel[0] : model.get("edge_kind")} ` +
      `(widest ${fmt(emax)}) · arrow: caller → callee`));
  }

  function resize() {
    const w = Math.floor(wrap.clientWidth);
    if (w <= 0) return;
    W = w;
    H = model.get("height");
    dpr = window.devicePixelRatio || 1;
    canvas.style.width = W + "px";
    canvas.style.height = H + "px";
    canvas.width = Math.floor(W * dpr);
    canvas.height = Math.floor(H * dpr);
    panel.style.maxHeight = H + "px";
    schedule();
  }

  // ---- hit testing
  function canvasXY(ev) {
    const r = canvas.getBoundingClientRect();
    return [ev.clientX - r.left, ev.clientY - r.top];
  }
  function hitNode(x, y) {
    let best = null, bestD = Infinity;
    for (const n of nodes) {
      const d = Math.hypot(n.sx - x, n.sy - y);
      if (d <= n.r + 3 && d < bestD) { best = n; bestD = d; }
    }
    return best;
  }
  function hitEdge(x, y) {
    let best = null, bestD = 5;
    for (const e of visibleEdges()) {
      const a = byId.get(e.source), b = byId.get(e.target);
      const dx = b.sx - a.sx, dy = b.sy - a.sy, L2 = dx * dx + dy * dy || 1;
      const t = Math.max(0, Math.min(1, ((x - a.sx) * dx + (y - a.sy) * dy) / L2));
      const d = Math.hypot(a.sx + t * dx - x, a.sy + t * dy - y);
      if (d < bestD) { best = e; bestD = d; }
    }
    return best;
  }

  function setSelected(sel) {
    model.set("selected", sel);
    model.save_changes();
    panel.replaceChildren(h("div", { class: "ss-muted" }, "loading details…"));
    schedule();
  }

  let drag = null;
  canvas.addEventListener("mousedown", (ev) => {
    const [x, y] = canvasXY(ev);
    drag = { x, y, px: panX, py: panY, moved: false };
  });
  window.addEventListener("mouseup", onUp);
  function onUp(ev) {
    if (!drag) return;
    const d = drag;
    drag = null;
    if (d.moved) return;
    const [x, y] = canvasXY(ev);
    const n = hitNode(x, y);
    if (n) return setSelected({ kind: "node", id: n.id });
    const e = hitEdge(x, y);
    if (e) return setSelected({ kind: "edge", id: e.id });
    setSelected({});
  }
  canvas.addEventListener("mousemove", (ev) => {
    const [x, y] = canvasXY(ev);
    if (drag) {
      if (Math.hypot(x - drag.x, y - drag.y) > 3) drag.moved = true;
      if (drag.moved) { panX = drag.px + x - drag.x; panY = drag.py + y - drag.y; schedule(); }
      return;
    }
    const n = hitNode(x, y);
    const e = n ? null : hitEdge(x, y);
    if (n !== hover) { hover = n; schedule(); }
    if (n || e) {
      tip.textContent = n ? n.label : `${e.id}: ${model.get("edge_kind")} ${edgeValue(e)}`;
      tip.style.left = x + 12 + "px";
      tip.style.top = y + 12 + "px";
      tip.style.display = "block";
      canvas.style.cursor = "pointer";
    } else {
      tip.style.display = "none";
      canvas.style.cursor = "default";
    }
  });
  canvas.addEventListener("mouseleave", () => { tip.style.display = "none"; });
  canvas.addEventListener("wheel", (ev) => {
    ev.preventDefault();
    const [x, y] = canvasXY(ev);
    const f = Math.exp(-ev.deltaY * 0.0015);
    const nz = Math.max(0.2, Math.min(40, zoom * f));
    const k = nz / zoom;
    // keep the point under the cursor fixed
    panX = x - W / 2 - (x - W / 2 - panX) * k;
    panY = y - H / 2 - (y - H / 2 - panY) * k;
    zoom = nz;
    schedule();
  }, { passive: false });
  canvas.addEventListener("dblclick", () => { zoom = 1; panX = 0; panY = 0; schedule(); });

  function focusOn(id) {
    const n = byId.get(id);
    if (!n) return;
    zoom = Math.max(zoom, 2.5);
    const [bx, by] = baseXY(n);
    panX = -(bx - W / 2) * zoom;
    panY = -(by - H / 2) * zoom;
    schedule();
  }

  // ---- controls → model
  kindSel.addEventListener("change", () => {
    model.set("edge_kind", kindSel.value);
    model.set("threshold", 0);
    model.save_changes();
  });
  slider.addEventListener("input", () => { model.set("threshold", parseFloat(slider.value)); model.save_changes(); });
  colorSel.addEventListener("change", () => { model.set("color_by", colorSel.value); model.save_changes(); });
  sizeSel.addEventListener("change", () => { model.set("size_by", sizeSel.value); model.save_changes(); });
  search.addEventListener("input", () => { model.set("search", search.value); model.save_changes(); });
  search.addEventListener("keydown", (ev) => {
    if (ev.key !== "Enter") return;
    computeMatches();
    const first = [...matches][0];
    if (first) { focusOn(first); setSelected({ kind: "node", id: first }); }
  });

  // ---- model → view
  function renderDetail() {
    const d = model.get("detail") || {};
    panel.replaceChildren();
    if (!d.kind && !d.error) {
      panel.appendChild(h("div", { class: "ss-muted" }, "Click a component or a seam to see its call sites, tests and bugs."));
      panel.removeAttribute("data-detail-id");
      return;
    }
    panel.setAttribute("data-detail-id", d.id || "");
    panel.appendChild(h("h4", {}, `${d.kind === "edge" ? "seam" : "component"} ${d.title || d.id}`));
    if (d.error) panel.appendChild(h("div", { class: "ss-error", "data-testid": "seamscope-detail-error" }, d.error));
    if (d.attributes) {
      const sec = h("details", { open: "" });
      sec.appendChild(h("summary", {}, "attributes"));
      sec.appendChild(renderValue(d.attributes));
      panel.appendChild(sec);
    }
    for (const [name, value] of Object.entries(d.sections || {})) {
      const sec = h("details", { open: "", "data-section": name });
      const count = Array.isArray(value) ? ` (${value.length})` : "";
      sec.appendChild(h("summary", {}, name.replace(/_/g, " ") + count));
      sec.appendChild(renderValue(value));
      panel.appendChild(sec);
    }
  }

  model.on("change:detail", renderDetail);
  model.on("change:selected", schedule);
  model.on("change:edge_kind", () => { syncControls(); schedule(); });
  model.on("change:threshold", () => { syncControls(); schedule(); });
  model.on("change:color_by", () => { syncControls(); schedule(); });
  model.on("change:size_by", () => { syncControls(); schedule(); });
  model.on("change:search", () => { computeMatches(); syncControls(); schedule(); });
  model.on("change:nodes", () => { loadData(); syncControls(); schedule(); });
  model.on("change:edges", () => { loadData(); syncControls(); schedule(); });
  model.on("change:height", resize);
  model.on("change:ramp", () => { setRamp(model.get("ramp")); legend.removeAttribute("data-key"); schedule(); });
  setRamp(model.get("ramp"));

  // ---- test hook: screen (client) coordinates of a node or edge midpoint
  root.seamscope = {
    nodeClientPosition(id) {
      const n = byId.get(id);
      if (!n) return null;
      draw();
      const r = canvas.getBoundingClientRect();
      return { x: r.left + n.sx, y: r.top + n.sy };
    },
    nodeAtClient(x, y) {
      const r = canvas.getBoundingClientRect();
      const n = hitNode(x - r.left, y - r.top);
      return n ? n.id : null;
    },
    drawTimeMs() { draw(); return lastDrawMs; },
    nodeColour(id) { const n = byId.get(id); return n ? nodeColor(n) : null; },
    edgeClientPosition(id) {
      const e = edges.find((x) => x.id === id);
      if (!e) return null;
      draw();
      const a = byId.get(e.source), b = byId.get(e.target), r = canvas.getBoundingClientRect();
      return { x: r.left + (a.sx + b.sx) / 2, y: r.top + (a.sy + b.sy) / 2 };
    },
  };

  const ro = new ResizeObserver(resize);
  ro.observe(wrap);
  computeMatches();
  syncControls();
  renderDetail();
  resize();
  return () => { ro.disconnect(); window.removeEventListener("mouseup", onUp); if (frame) cancelAnimationFrame(frame); };
}

export default { render };

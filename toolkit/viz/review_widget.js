// seamscope bug review: shows one bug, sends decisions to Python (which saves them at once).
// Bug text is untrusted: everything goes through textContent.

function h(tag, attrs = {}, text = null) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== null && text !== undefined) e.textContent = String(text);
  return e;
}

function table(rows, cols) {
  const t = h("table", { class: "ss-table" });
  const head = h("tr");
  for (const c of cols) head.appendChild(h("th", {}, c));
  t.appendChild(head);
  for (const r of rows) {
    const tr = h("tr");
    for (const c of cols) tr.appendChild(h("td", {}, r[c] ?? ""));
    t.appendChild(tr);
  }
  return t;
}

function render({ model, el }) {
  const root = h("div", { class: "ss-review", "data-testid": "seamscope-review", tabindex: "0" });
  // our keys (a/i/c/e/n, arrows, typing in the search box) must not reach JupyterLab's command-mode shortcuts
  root.setAttribute("data-lm-suppress-shortcuts", "true");
  el.appendChild(root);

  const top = h("div", { class: "ss-top" });
  const progress = h("span", { class: "ss-progress", "data-testid": "seamscope-review-progress" });
  const bar = h("progress", { max: "1", value: "0" });
  const pos = h("span", { class: "ss-muted" });
  const order = h("div", { class: "ss-muted ss-order", "data-testid": "seamscope-review-order" });
  order.textContent = model.get("order_note") || "";
  top.append(progress, bar, pos, order);

  const card = h("div", { class: "ss-card" });
  const keyEl = h("div", { class: "ss-key", "data-testid": "seamscope-review-key" });
  const titleEl = h("div", { class: "ss-title" });
  const current = h("div", { class: "ss-current", "data-testid": "seamscope-review-decision" });
  const body = h("pre", { class: "ss-body" });
  const meta = h("div", { class: "ss-meta" });
  const fixes = h("div", { class: "ss-fixes" });
  const suggestion = h("div", { class: "ss-suggestion", "data-testid": "seamscope-review-suggestion" });
  card.append(keyEl, titleEl, current, meta, body, fixes, suggestion);

  const buttons = h("div", { class: "ss-buttons" });
  const note = h("textarea", { rows: "2", placeholder: "note (optional, saved with the decision)", "data-testid": "seamscope-note" });
  const nav = h("div", { class: "ss-nav" });
  const prev = h("button", { type: "button", "data-testid": "seamscope-prev" }, "◀ previous (←)");
  const next = h("button", { type: "button", "data-testid": "seamscope-next" }, "next (→) ▶");
  const undecided = h("button", { type: "button", "data-testid": "seamscope-next-undecided" }, "first undecided");
  nav.append(prev, next, undecided);
  const status = h("div", { class: "ss-status", "data-testid": "seamscope-review-status" });
  const error = h("div", { class: "ss-error", "data-testid": "seamscope-review-error" });
  const help = h("div", { class: "ss-muted ss-help" });
  // Keys act only while the widget has the focus (elsewhere JupyterLab owns them: 'a' inserts a cell there);
  // this line says which is the case right now and how to switch.
  const keys = h("div", { class: "ss-keys", "data-testid": "seamscope-review-keys", role: "status" });
  root.append(keys, top, card, buttons, note, nav, status, error, help);
  root.setAttribute("data-keys", "off");

  function send(msg) { model.send({ ...msg, note: note.value }); }
  function go(i) { model.send({ type: "go", index: i }); }

  function letterOf(cat) {
    for (const [k, v] of Object.entries(model.get("shortcuts"))) if (v === cat) return k;
    return null;
  }

  function renderButtons() {
    buttons.replaceChildren();
    const bug = model.get("bug") || {};
    const sug = bug.suggestion && bug.suggestion.category;
    const acc = h("button", { type: "button", class: "ss-accept", "data-testid": "seamscope-accept" },
      sug ? `accept “${sug}” (a)` : "no suggestion");
    if (!sug) acc.disabled = true;
    acc.addEventListener("click", () => send({ type: "accept" }));
    buttons.appendChild(acc);
    const chosen = (model.get("decision") || {}).category;
    for (const cat of model.get("categories")) {
      const k = letterOf(cat);
      const b = h("button", { type: "button", "data-testid": `seamscope-label-${cat}`, "data-category": cat },
        k ? `${cat} (${k})` : cat);
      if (cat === chosen) b.classList.add("ss-chosen");
      b.addEventListener("click", () => send({ type: "decide", category: cat }));
      buttons.appendChild(b);
    }
  }

  function keyList() {
    const cats = Object.entries(model.get("shortcuts")).map(([k, v]) => `${k} ${v}`).join(" · ");
    return `a accept · ${cats} · ← → move`;
  }

  function renderKeys() {
    const on = root.contains(document.activeElement);
    const typing = on && ["TEXTAREA", "INPUT"].includes(document.activeElement.tagName);
    root.setAttribute("data-keys", on && !typing ? "on" : "off");
    keys.classList.toggle("ss-keys-on", on && !typing);
    if (!on) keys.textContent = `⌨ Keys off: click here, then press ${keyList()} (until you click elsewhere, keys go to JupyterLab)`;
    else if (typing) keys.textContent = "⌨ Typing a note: Esc to use the keys again";
    else keys.textContent = `⌨ Keys on: ${keyList()} · click outside the widget to give keys back to JupyterLab`;
  }

  function renderBug() {
    const hadFocus = root.contains(document.activeElement);
    const bug = model.get("bug") || {};
    const total = model.get("total"), reviewed = model.get("reviewed"), idx = model.get("index");
    progress.textContent = `${reviewed} of ${total} reviewed`;
    bar.max = Math.max(1, total);
    bar.value = reviewed;
    pos.textContent = total ? `bug ${idx + 1} of ${total}` : "no bugs to review";
    root.setAttribute("data-key", bug.key || "");
    keyEl.textContent = bug.key || "";
    titleEl.textContent = bug.title || "";
    const extra = bug.extra || {};
    meta.replaceChildren();
    for (const [k, v] of Object.entries(extra)) {
      if (v === null || v === undefined || v === "" || (Array.isArray(v) && !v.length)) continue;
      const span = h("span", { class: "ss-chip" });
      if (k === "url" && /^https?:\/\//i.test(String(v))) {
        const a = h("a", { href: String(v), target: "_blank", rel: "noopener noreferrer" }, String(v));
        span.appendChild(a);
      } else {
        span.textContent = `${k}: ${Array.isArray(v) ? v.join(", ") : v}`;
      }
      meta.appendChild(span);
    }
    body.textContent = bug.body || "(no description)";
    fixes.replaceChildren();
    fixes.appendChild(h("div", { class: "ss-h" }, `fix commits (${(bug.fixes || []).length})`));
    if ((bug.fixes || []).length) fixes.appendChild(table(bug.fixes, ["sha", "evidence", "confidence"]));
    else fixes.appendChild(h("div", { class: "ss-muted" }, "no linked fix commit"));
    fixes.appendChild(h("div", { class: "ss-h" }, "components the fixes touch"));
    if ((bug.touched || []).length) fixes.appendChild(table(bug.touched, ["component", "files", "churn"]));
    else fixes.appendChild(h("div", { class: "ss-muted" }, "none known"));
    suggestion.replaceChildren();
    const s = bug.suggestion;
    if (s) {
      suggestion.appendChild(h("div", { class: "ss-h" }, `suggested: ${s.category ?? "—"}`));
      const ul = h("ul");
      for (const ev of s.evidence || []) ul.appendChild(h("li", {}, typeof ev === "string" ? ev : JSON.stringify(ev)));
      suggestion.appendChild(ul);
      for (const [k, v] of Object.entries(s.other || {})) {
        if (v !== null && v !== undefined) suggestion.appendChild(h("div", { class: "ss-muted" }, `${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`));
      }
    } else {
      suggestion.appendChild(h("div", { class: "ss-muted" }, "no suggestion"));
    }
    const d = model.get("decision") || {};
    current.textContent = d.category ? `decided: ${d.category}` : "undecided";
    current.classList.toggle("ss-decided", !!d.category);
    note.value = d.note || "";
    prev.disabled = idx <= 0;
    next.disabled = idx >= total - 1;
    renderButtons();
    help.textContent = "typing in the note is safe: letters there are text, not shortcuts";
    // the button just clicked was replaced: keep the focus in the widget, or the next key would go to JupyterLab
    if (hadFocus && !root.contains(document.activeElement)) root.focus({ preventScroll: true });
    renderKeys();
  }

  root.addEventListener("focusin", renderKeys);
  root.addEventListener("focusout", () => setTimeout(renderKeys, 0));  // activeElement is settled after the event
  // a click anywhere on the widget (not in the note or on a link) gives it the keys
  root.addEventListener("click", (ev) => {
    const t = ev.target;
    if (t && t.closest && t.closest("textarea, input, a, select")) return;
    if (!root.contains(document.activeElement) || document.activeElement === document.body) root.focus({ preventScroll: true });
  });

  // a changed note on a decided bug is saved when the field loses focus
  note.addEventListener("change", () => model.send({ type: "note", note: note.value }));
  prev.addEventListener("click", () => go(model.get("index") - 1));
  next.addEventListener("click", () => go(model.get("index") + 1));
  undecided.addEventListener("click", () => model.send({ type: "next_undecided" }));

  root.addEventListener("keydown", (ev) => {
    const t = ev.target;
    if (t && (t.tagName === "TEXTAREA" || t.tagName === "INPUT")) {
      if (ev.key === "Escape") { t.blur(); root.focus(); }
      ev.stopPropagation();  // keep JupyterLab's command shortcuts out of the note
      return;
    }
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const k = ev.key.toLowerCase();
    let handled = true;
    if (k === "a") send({ type: "accept" });
    else if (model.get("shortcuts")[k]) send({ type: "decide", category: model.get("shortcuts")[k] });
    else if (ev.key === "ArrowRight") go(model.get("index") + 1);
    else if (ev.key === "ArrowLeft") go(model.get("index") - 1);
    else handled = false;
    if (handled) { ev.preventDefault(); ev.stopPropagation(); }
  });

  const onStatus = () => { status.textContent = model.get("status"); };
  const onError = () => { error.textContent = model.get("error"); };
  model.on("change:bug", renderBug);
  model.on("change:decision", renderBug);
  model.on("change:reviewed", renderBug);
  model.on("change:index", renderBug);
  model.on("change:status", onStatus);
  model.on("change:error", onError);
  renderBug();
  onStatus();
  onError();
}

export default { render };

// The coordinator's dashboard. Every request carries Telegram's signed init data; the
// server decides what this person may see. All text comes translated from the server.
"use strict";
(function () {
  const hash = new URLSearchParams(location.hash.slice(1));
  const insideTelegram = hash.has("tgWebAppData");
  // Inside Telegram the init data comes in the URL fragment; a plain browser (tests)
  // passes it as #initData=… . Neither ever reaches a server log: fragments are not sent.
  const initData = hash.get("tgWebAppData") || hash.get("initData") || "";
  const state = { labels: null, corridors: [], corridor: "", tab: "board", days: 30 };
  const main = document.getElementById("main");
  let L = {};

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "onclick" || key === "onchange" || key === "onsubmit") node[key] = value;
      else if (value !== false && value !== undefined && value !== null) node.setAttribute(key, value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, (_, key) => (key in values ? values[key] : `{${key}}`));
  }

  function applyTheme(params) {
    const names = { bg_color: "bg", text_color: "text", hint_color: "hint", link_color: "link",
      button_color: "button", button_text_color: "button-text", secondary_bg_color: "secondary-bg" };
    for (const [key, name] of Object.entries(names)) {
      if (params && params[key]) document.documentElement.style.setProperty(`--tg-${name}`, params[key]);
    }
  }

  function loadTelegramScript() {
    // Telegram's own script (the only thing not served by the bot): theme changes, the
    // back button, expanding to full height.
    return new Promise((resolve) => {
      const script = el("script", { src: "https://telegram.org/js/telegram-web-app.js" });
      script.onload = () => {
        const app = window.Telegram && window.Telegram.WebApp;
        if (app) {
          applyTheme(app.themeParams);
          app.onEvent("themeChanged", () => applyTheme(app.themeParams));
          app.ready();
          app.expand();
        }
        resolve();
      };
      script.onerror = () => resolve();
      document.head.append(script);
    });
  }

  class Refused extends Error {}

  async function api(path, options) {
    const response = await fetch(path, {
      ...(options || {}),
      headers: { Authorization: `tma ${initData}`, "Content-Type": "application/json" },
    });
    if (response.status === 403) throw new Refused();
    return response;
  }

  async function getJSON(path) {
    const response = await api(path);
    if (!response.ok) throw new Error(String(response.status));
    return response.json();
  }

  async function post(path, body) {
    const response = await api(path, { method: "POST", body: JSON.stringify(body || {}) });
    const data = await response.json().catch(() => ({}));
    if (!response.ok || data.ok === false) {
      toast(fill(L.failed, { reason: data.reason || response.status }));
      return null;
    }
    return data;
  }

  function toast(text) {
    const box = document.getElementById("toast");
    box.textContent = text;
    box.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => (box.hidden = true), 4000);
  }

  function scope() {
    return state.corridor ? `corridor=${encodeURIComponent(state.corridor)}` : "";
  }

  function urgencyPill(code) {
    return el("span", { class: `pill ${code}` }, L.urgency[code] || code);
  }

  function caseRow(item, extra) {
    return el("button", { class: "row", "data-case": item.code, onclick: () => openCase(item.code) },
      el("span", {}, el("span", { class: "code" }, item.code), " ", urgencyPill(item.urgency)),
      el("span", { class: "hint" }, extra || item.age));
  }

  function listSection(title, testid, block, describe) {
    const rows = block.cases.length ? block.cases.map((c) => caseRow(c, describe && describe(c)))
      : [el("p", { class: "hint" }, L.none)];
    const total = block.total === undefined ? block.cases.length : block.total;
    const more = total > block.cases.length ? el("p", { class: "hint" }, fill(L.more, { n: total - block.cases.length })) : null;
    return el("section", { "data-testid": testid }, el("h2", {}, `${title} · ${total}`), rows, more);
  }

  async function showBoard() {
    const data = await getJSON(`api/board?${scope()}`);
    const buckets = ["lt1h", "lt24h", "older"];
    const urgencies = ["sos", "high", "normal"];
    const table = el("table", {},
      el("tr", {}, el("th", {}, ""), buckets.map((b) => el("th", {}, L[b]))),
      urgencies.map((u) => el("tr", {}, el("td", {}, urgencyPill(u)),
        buckets.map((b) => el("td", {}, ((data.unclaimed.counts[u] || {})[b]) || 0)))));
    const statuses = el("table", { "data-testid": "by-status" },
      Object.entries(data.by_status).map(([code, n]) => el("tr", {},
        el("td", {}, code === "resolved" ? L.resolved_30d : L.status[code] || code),
        el("td", {}, n))));
    const step = (c) => (c.escalation ? `${c.age} · ${fill(L.escalation_step, { n: c.escalation })}` : c.age);
    main.replaceChildren(
      el("section", { "data-testid": "unclaimed" },
        el("h2", {}, `${L.unclaimed} · ${data.unclaimed.total}`), table,
        data.unclaimed.cases.map((c) => caseRow(c, step(c)))),
      el("section", {}, el("h2", {}, L.by_status), statuses),
      listSection(L.overdue, "overdue", data.overdue),
      listSection(L.referrals, "referrals", data.referrals, (c) => `${c.detail} · ${c.age}`),
      listSection(L.undelivered, "undelivered", data.undelivered, (c) => c.detail));
  }

  async function openCase(code) {
    const data = await getJSON(`api/cases/${encodeURIComponent(code)}`);
    const fields = [
      [L.corridor, data.corridor],
      [L.categories, data.categories.map((c) => L.category[c] || c).join(", ")],
      [L.where, data.place],
      [L.status_label, L.status[data.status] || data.status],
      [L.reported, data.age],
    ];
    const actions = el("div", { class: "actions" });
    if (data.status === "routed" || data.status === "referred") {
      for (const org of data.card_organisations) {
        actions.append(el("button", { class: "secondary", "data-action": "nudge",
          onclick: async () => { if (await post(`api/cases/${code}/nudge`, { organisation: org.id })) toast(L.done); } },
          `${L.nudge}: ${org.name}`));
      }
    }
    if (data.status === "claimed") {
      actions.append(el("button", { class: "secondary", "data-action": "release",
        onclick: async () => { if (await post(`api/cases/${code}/release`)) { toast(L.done); openCase(code); } } },
        L.release));
    }
    if (data.status !== "resolved" && data.status !== "closed" && data.candidates.length) {
      const picker = el("select", { "aria-label": L.choose_person, "data-testid": "reassign-to" },
        data.candidates.map((p) => el("option", { value: p.id }, p.name)));
      actions.append(picker, el("button", { class: "primary", "data-action": "reassign",
        onclick: async () => { if (await post(`api/cases/${code}/reassign`, { person: picker.value })) { toast(L.done); openCase(code); } } },
        L.reassign));
    }
    const details = el("div", { "data-testid": "details" });
    const ask = !data.may_read_details ? el("p", { class: "hint" }, L.details_owner_only) : el("button", { class: "secondary", onclick: () => {
      details.replaceChildren(el("p", { class: "warning" }, L.details_warning),
        el("button", { class: "primary", "data-action": "confirm-details", onclick: async () => {
          // Refused when the case changed hands since it was opened.
          const response = await api(`api/cases/${code}/details`, { method: "POST" }).catch(() => null);
          if (!response || !response.ok) { details.replaceChildren(el("p", { class: "hint" }, L.details_owner_only)); return; }
          const body = await response.json();
          details.replaceChildren(el("div", { class: "details" }, body.text),
            body.description ? el("div", { class: "details" }, body.description) : null);
        } }, L.confirm_details));
    } }, L.show_details);
    details.append(ask);
    main.replaceChildren(
      el("button", { class: "secondary", onclick: () => show(state.tab) }, `← ${L.back}`),
      el("section", { "data-testid": "case" },
        el("h2", {}, el("span", { class: "code" }, data.code), " ", urgencyPill(data.urgency)),
        fields.map(([label, value]) => el("div", { class: "row" }, el("span", { class: "hint" }, label), el("span", {}, value))),
        data.owner ? el("div", { class: "row", "data-testid": "owner" }, el("span", {}, `${data.owner.name} (${data.owner_org || ""})`)) : null,
        actions),
      el("section", {}, details),
      el("section", { "data-testid": "timeline" }, el("h2", {}, L.timeline),
        data.timeline.map((e) => el("div", { class: "row" }, el("span", {}, e.what), el("span", { class: "hint" }, `${e.at} · ${e.who}`)))));
    window.scrollTo(0, 0);
  }

  async function showOncall() {
    const organisations = await getJSON("api/oncall");
    const people = organisations.flatMap((o) => o.people);
    const sections = organisations.map((org) => el("section", { "data-org": org.id },
      el("h2", {}, org.name),
      el("div", { class: "row" }, el("span", { class: "hint" }, L.on_call_now), el("span", {}, org.now.join(", ") || L.nobody)),
      el("p", { class: "hint" }, `${L.this_week} (${org.timezone})`),
      org.people.map((p) => el("div", { class: "row" }, el("span", {}, p.name),
        el("span", { class: "hint" }, p.shifts.map((s) => `${L.weekdays[s.weekday]} ${s.start}–${s.end}`).join(", ") || "—"))),
      org.overrides.length ? el("p", { class: "hint" }, L.overrides) : null,
      org.overrides.map((o) => el("div", { class: "row", "data-testid": "override" },
        el("span", {}, (people.find((p) => p.id === o.person) || { name: o.person }).name),
        el("span", { class: "hint" }, `${o.on_call ? L.covering : L.away}: ${o.from.slice(0, 10)} → ${o.to.slice(0, 10)}`)))));
    const today = new Date().toISOString().slice(0, 10);
    const form = el("form", { "data-testid": "override-form", onsubmit: async (event) => {
      event.preventDefault();
      const values = Object.fromEntries(new FormData(form));
      if (await post("api/rota", { person: values.person, from: values.from, to: values.to, on_call: values.kind === "on" })) {
        toast(L.done);
        showOncall();
      }
    } },
      el("label", {}, L.person), el("select", { name: "person" }, people.map((p) => el("option", { value: p.id }, p.name))),
      el("label", {}, L.from), el("input", { type: "date", name: "from", value: today, required: true }),
      el("label", {}, L.to), el("input", { type: "date", name: "to", value: today, required: true }),
      el("label", {}, ""), el("select", { name: "kind" }, el("option", { value: "away" }, L.away), el("option", { value: "on" }, L.covering)),
      el("div", { class: "actions" }, el("button", { class: "primary", type: "submit" }, L.set_override)));
    main.replaceChildren(...sections, el("section", {}, el("h2", {}, L.set_override), form));
  }

  function chartBox(title, node, testid) {
    return el("section", { class: "chart", "data-testid": testid }, el("h2", {}, title), node);
  }

  async function showTrends() {
    const data = await getJSON(`api/trends?days=${state.days}&${scope()}`);
    const windows = el("div", { class: "actions" }, [30, 90, 365].map((d) => el("button", {
      class: d === state.days ? "primary" : "secondary", "data-days": d,
      onclick: () => { state.days = d; showTrends(); } }, L[`days_${d}`])));
    const start = new Date(`${data.start}T00:00:00Z`);
    const dates = data.new_per_day.map((_, i) => {
      const day = new Date(start.getTime() + i * 86400000);
      return day.toLocaleDateString(document.documentElement.lang, { month: "short", day: "numeric", timeZone: "UTC" });
    });
    const empty = !data.new_total && !data.resolved_total;
    const lineChart = empty ? el("p", { class: "hint" }, L.no_data) : [
      el("div", { class: "legend" }, el("span", {}, el("i", { class: "s0" }), `${L.new} ${data.new_total}`),
        el("span", {}, el("i", { class: "s1" }), `${L.resolved} ${data.resolved_total}`)),
      window.CorridorCharts.line([{ name: L.new, values: data.new_per_day }, { name: L.resolved, values: data.resolved_per_day }],
        dates, { title: L.new_vs_resolved })];
    const barsOf = (counts, labels) => {
      const items = Object.entries(counts).map(([code, value]) => ({ label: labels[code] || code, value }));
      return items.length ? window.CorridorCharts.bars(items) : el("p", { class: "hint" }, L.no_data);
    };
    const money = (list) => (list.length ? list.map((m) => el("div", { class: "big" }, m.text)) : el("div", { class: "hint" }, "—"));
    main.replaceChildren(windows,
      chartBox(L.new_vs_resolved, lineChart, "chart-daily"),
      chartBox(L.categories, barsOf(data.categories, L.category), "chart-categories"),
      chartBox(L.outcomes, barsOf(data.outcomes, L.outcome), "chart-outcomes"),
      el("section", { class: "grid" },
        el("div", {}, el("div", { class: "hint" }, L.wages_owed), money(data.wages_owed)),
        el("div", {}, el("div", { class: "hint" }, L.wages_recovered), money(data.wages_recovered)),
        el("div", {}, el("div", { class: "hint" }, L.median_claim), el("div", { class: "big" }, data.median_claim || "—")),
        el("div", {}, el("div", { class: "hint" }, L.median_resolution), el("div", { class: "big" }, data.median_resolution || "—"))));
  }

  function showExport() {
    const corridor = el("select", { name: "corridor" }, state.corridors.map((c) => el("option", { value: c }, c)));
    const format = el("select", { name: "format" }, el("option", { value: "csv" }, "CSV"), el("option", { value: "json" }, "JSON"));
    const button = el("button", { class: "primary", "data-action": "download", onclick: async () => {
      const response = await api(`api/export?corridor=${encodeURIComponent(corridor.value)}&format=${format.value}`);
      if (!response.ok) { toast(L.error); return; }
      const name = (/filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "") || [])[1] || "export";
      const link = el("a", { href: URL.createObjectURL(await response.blob()), download: name });
      document.body.append(link);
      link.click();
      link.remove();
    } }, L.download);
    main.replaceChildren(el("section", {}, el("p", {}, L.export_intro),
      el("label", {}, L.corridor), corridor, el("label", {}, L.format), format,
      el("div", { class: "actions" }, button)));
  }

  const TABS = { board: showBoard, oncall: showOncall, trends: showTrends, export: showExport };

  async function show(tab) {
    state.tab = tab;
    for (const button of document.querySelectorAll("nav button")) {
      button.setAttribute("aria-selected", String(button.dataset.tab === tab));
    }
    document.getElementById("corridor").hidden = state.corridors.length < 2 || tab === "oncall" || tab === "export";
    try {
      await TABS[tab]();
    } catch (error) {
      await fail(error);
    }
  }

  function telegramLanguage() {
    // Only to choose the language of a refusal; the server trusts nothing in it.
    try {
      return JSON.parse(new URLSearchParams(initData).get("user") || "{}").language_code || "";
    } catch (error) {
      return "";
    }
  }

  async function fail(error) {
    let text = L.error || String(error);
    if (error instanceof Refused) {
      text = L.denied;
      if (!text) {
        const lang = telegramLanguage() || navigator.language || "";
        const response = await fetch(`api/refusal?lang=${encodeURIComponent(lang)}`);
        text = (await response.json()).text;
      }
    }
    main.replaceChildren(el("p", { class: "hint", "data-testid": "error" }, text));
  }

  async function start() {
    applyTheme(JSON.parse(hash.get("tgWebAppThemeParams") || "null"));
    if (insideTelegram) await loadTelegramScript();
    try {
      const me = await getJSON("api/me");
      L = me.labels;
      state.corridors = me.corridors;
      document.documentElement.lang = me.language;
      document.documentElement.dir = me.direction;
      document.title = L.title;
      const picker = document.getElementById("corridor");
      picker.replaceChildren(el("option", { value: "" }, L.all_corridors), me.corridors.map((c) => el("option", { value: c }, c)));
      picker.onchange = () => { state.corridor = picker.value; show(state.tab); };
      document.getElementById("tabs").replaceChildren(...Object.keys(TABS).map((tab) =>
        el("button", { "data-tab": tab, onclick: () => show(tab) }, L[`tab_${tab}`])));
      await show("board");
      // Milliseconds from navigation to a drawn board (benchmarks read it).
      document.body.dataset.readyMs = String(Math.round(performance.now()));
      document.body.dataset.ready = "1";
    } catch (error) {
      await fail(error);
      document.body.dataset.ready = "1";
    }
  }

  // Inline handlers are forbidden by the page's policy; everything is wired from here.
  window.addEventListener("error", (event) => fail(event.error || event.message));
  start();
  window.CorridorDashboard = { openCase, show };
})();

// The sandbox page: draws the chats the server describes and sends what people do.
// One long poll (/api/state?after=N) keeps it current; no framework, no CDN.
"use strict";

const state = { version: -1, data: null, open: null, replyTo: {}, drawn: {}, actingAs: {} };
const $ = (selector, root = document) => root.querySelector(selector);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

// The page's words come from the server, in the page's language; English until they arrive.
function t(key, values = {}) {
  const text = (state.data && state.data.ui && state.data.ui[key]) || key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

function translate(root = document) {
  for (const node of root.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of root.querySelectorAll("[data-i18n-title]")) node.title = t(node.dataset.i18nTitle);
  for (const node of root.querySelectorAll("[data-i18n-label]")) node.setAttribute("aria-label", t(node.dataset.i18nLabel));
  for (const node of root.querySelectorAll("[data-i18n-placeholder]")) node.placeholder = t(node.dataset.i18nPlaceholder);
}

function toast(text) {
  const box = $("#toast");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, 3500);
}

async function post(path, body) {
  const response = await fetch(`/api/${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body || {}),
  });
  const answer = await response.json().catch(() => ({ ok: false, error: response.statusText }));
  if (!answer.ok) toast(answer.error || t("failed"));
  return answer;
}

function clockText(iso) {
  const moment = new Date(iso);
  // English as written in most of the corridor's countries: day before month, 24 hours.
  const language = state.data.page_language === "en" ? "en-GB" : state.data.page_language;
  return moment.toLocaleString(language, {
    weekday: "short", day: "2-digit", month: "short", hour: "2-digit", minute: "2-digit",
    timeZone: "UTC",
  }) + " UTC";
}

function chatByKey(key) { return state.data.chats.find((chat) => chat.key === key); }

// -- chat columns -------------------------------------------------------------------------
function actorFor(chat) {
  if (chat.type === "private") return chat.id;
  return state.actingAs[chat.key] || chat.members[0];
}

function renderButtons(chat, message, guideButton) {
  if (!message.buttons.length) return null;
  return el("div", { class: "keyboard" }, message.buttons.map((row) =>
    el("div", { class: "krow" }, row.map((button) => {
      if (button.url) return el("a", { href: button.url, target: "_blank", rel: "noopener" }, button.text);
      const highlighted = guideButton && guideButton.message_id === message.id && guideButton.data === button.data;
      return el("button", {
        type: "button",
        class: highlighted ? "press-me" : null,
        "data-data": button.data,
        onclick: async () => {
          const answer = await post("press", {
            user_id: actorFor(chat), chat_id: chat.id, message_id: message.id, data: button.data,
          });
          if (answer.ok && answer.answer) toast(answer.answer);
        },
      }, button.text);
    }))));
}

function renderMessage(chat, message, guideButton) {
  const mine = !message.from_bot && (chat.type === "private" || message.from_id === actorFor(chat));
  const parts = [];
  if (chat.type !== "private" || !mine) parts.push(el("span", { class: "from" }, message.from_bot ? t("bot") : message.from));
  if (message.reply_to) parts.push(el("span", { class: "quoted" }, message.reply_to));
  if (message.kind === "photo" && message.file_id) {
    parts.push(el("img", { src: `/api/file/${encodeURIComponent(message.file_id)}`, alt: t("photo"), loading: "lazy" }));
  } else if (message.kind === "location" && message.location) {
    parts.push(el("span", { class: "media" }, t("location", { where: `${message.location[0].toFixed(3)}, ${message.location[1].toFixed(3)}` })));
  } else if (message.kind !== "text") {
    parts.push(el("span", { class: "media" }, `${{ voice: t("voice"), document: "📄 " + (message.file_name || t("document")) }[message.kind] || "📎 " + message.kind}`));
  }
  const time = new Date(message.date * 1000).toISOString().slice(11, 16);
  return el("div", { class: `msg${mine ? " mine" : ""}`, "data-message": message.id },
    el("button", {
      type: "button", class: "reply", title: t("reply"), "aria-label": t("reply"),
      onclick: () => { state.replyTo[chat.key] = message; drawComposer(chat.key); $(`[data-chat="${chat.key}"] input[name=text]`).focus(); },
    }, "↩"),
    ...parts,
    message.text ? el("span", { class: "text" }, message.text) : null,
    el("span", { class: "meta" }, (message.edited ? t("edited") + " " : "") + time),
    renderButtons(chat, message, guideButton));
}

function drawComposer(key) {
  const column = $(`[data-chat="${key}"]`);
  if (!column) return;
  const replying = $(".replying", column);
  const message = state.replyTo[key];
  replying.hidden = !message;
  if (message) $("span", replying).textContent = t("replying", { text: (message.text || message.kind).slice(0, 60) });
}

function buildColumn(chat) {
  const node = $("#column-template").content.firstElementChild.cloneNode(true);
  node.dataset.chat = chat.key;
  translate(node);
  $(".title", node).textContent = chat.title;
  $(".subtitle", node).textContent = chat.subtitle;
  const who = $(".who", node);
  if (chat.type === "private") {
    const select = el("select", { "aria-label": t("language_of", { name: chat.title }), name: "language" },
      Object.entries(state.data.languages).map(([code, name]) => el("option", { value: code }, name)));
    select.addEventListener("change", () => post("language", { user_id: chat.id, language: select.value }));
    who.append(select);
  } else {
    const select = el("select", { "aria-label": t("write_as", { chat: chat.title }), name: "as" },
      chat.members.map((id) => el("option", { value: id }, t("as", { name: state.data.names[id] || id }))));
    select.addEventListener("change", () => { state.actingAs[chat.key] = Number(select.value); state.drawn[chat.key] = null; draw(); });
    who.append(select);
  }
  const form = $(".composer", node);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = $("input[name=text]", form);
    const text = input.value;
    if (!text.trim()) return;
    const reply = state.replyTo[chat.key];
    const answer = await post("say", { user_id: actorFor(chat), chat_id: chat.id, text, reply_to: reply ? reply.id : null });
    if (answer.ok) { input.value = ""; delete state.replyTo[chat.key]; drawComposer(chat.key); }
  });
  $(".cancel-reply", form).addEventListener("click", () => { delete state.replyTo[chat.key]; drawComposer(chat.key); });
  for (const button of form.querySelectorAll("[data-send]")) {
    button.addEventListener("click", () => post("send", { user_id: actorFor(chat), chat_id: chat.id, kind: button.dataset.send }));
  }
  return node;
}

function drawColumns(guide) {
  const columns = $("#columns");
  const current = guide && guide.current;
  let previous = null;
  let newTurn = null;
  for (const key of state.open) {
    const chat = chatByKey(key);
    if (!chat) continue;
    let column = $(`[data-chat="${key}"]`, columns);
    if (!column) { column = buildColumn(chat); state.drawn[key] = null; }
    // Moved only when out of order: moving a column resets the row's scroll position.
    const expected = previous ? previous.nextElementSibling : columns.firstElementChild;
    if (expected !== column) columns.insertBefore(column, expected);
    previous = column;
    const turn = current && current.chat_id === chat.id;
    if (turn && !column.classList.contains("turn")) newTurn = column;
    column.classList.toggle("turn", Boolean(turn));
    if (turn && chat.type !== "private" && current.actor_id && chat.members.includes(current.actor_id)) {
      if (state.actingAs[key] !== current.actor_id) { state.actingAs[key] = current.actor_id; state.drawn[key] = null; }
    }
    const select = $(".who select", column);
    if (chat.type === "private" && document.activeElement !== select) select.value = chat.language;
    if (chat.type !== "private") select.value = String(actorFor(chat));
    const guideButton = turn ? current.button : null;
    const signature = JSON.stringify([chat.messages, guideButton, actorFor(chat)]);
    if (state.drawn[key] === signature) continue;
    state.drawn[key] = signature;
    const box = $(".messages", column);
    box.replaceChildren(...chat.messages.map((message) => renderMessage(chat, message, guideButton)));
    const target = $(".press-me", box);
    box.scrollTop = target ? target.offsetTop - box.offsetTop - box.clientHeight / 2 : box.scrollHeight;
  }
  for (const column of [...columns.children]) {
    if (!state.open.includes(column.dataset.chat)) { column.remove(); delete state.drawn[column.dataset.chat]; }
  }
  if (current && current.chat_id) {
    const chat = state.data.chats.find((c) => c.id === current.chat_id);
    if (chat && !state.open.includes(chat.key)) { state.open.push(chat.key); drawColumns(guide); return; }
  }
  // Whose turn it is comes into view (the row scrolls sideways; on a phone, one chat wide).
  if (newTurn) newTurn.scrollIntoView({ block: "nearest", inline: "nearest" });
}

// -- side panels --------------------------------------------------------------------------
function drawChatList() {
  const list = $("#chat-list");
  list.replaceChildren(...state.data.chats.map((chat) => {
    const box = el("input", { type: "checkbox", checked: state.open.includes(chat.key), "data-toggle": chat.key });
    box.addEventListener("change", () => {
      state.open = box.checked ? [...state.open, chat.key] : state.open.filter((key) => key !== chat.key);
      draw();
    });
    return el("li", {}, el("label", {}, box, `${chat.type === "group" ? "👥" : "👤"} ${chat.title}`,
      el("span", { class: "count" }, chat.messages.length ? String(chat.messages.length) : "")));
  }));
}

function drawEvents() {
  const list = $("#events");
  list.replaceChildren(...state.data.events.slice().reverse().map((event) =>
    el("li", {}, el("time", {}, event.at.slice(5, 16).replace("T", " ")), event.text)));
}

function drawGuide(guide) {
  const stories = $("#stories");
  stories.replaceChildren(...guide.stories.map((story) => el("button", {
    type: "button",
    class: [story.done ? "done" : "", guide.story === story.key ? "active" : ""].join(" ").trim() || null,
    "data-story": story.key,
    onclick: () => post("guide", { action: "choose", story: story.key }),
  }, story.title)));
  const step = $("#step");
  step.hidden = !guide.story;
  if (!guide.story) return;
  const current = guide.current;
  $("#progress").textContent = current
    ? t("step", { story: guide.title, n: guide.position + 1, count: guide.count })
    : t("finished", { story: guide.title, count: guide.count });
  $("#beat").textContent = current ? current.beat : t("pick");
  const who = current && (current.actor === "clock" ? t("the_clock") : state.data.names[current.actor_id] || current.actor);
  $("#hint").textContent = current ? `${who}: ${current.hint}` : "";
  const error = $("#guide-error");
  error.hidden = !guide.error;
  error.textContent = guide.error || "";
  $("#do-step").disabled = !current || guide.playing;
  $("#next-step").disabled = !current || guide.playing;
  $("#play").disabled = !current;
  $("#play").textContent = guide.playing ? t("pause") : t("play");
}

function drawLanguage() {
  const data = state.data;
  if (state.language === data.page_language) return;
  // Everything drawn in the old language is drawn again.
  state.language = data.page_language;
  document.documentElement.lang = data.page_language;
  document.documentElement.dir = data.dir;
  document.title = t("title");
  translate();
  for (const column of [...$("#columns").children]) column.remove();
  state.drawn = {};
  const select = $("#page-language");
  if (!select.options.length) {
    select.append(...Object.entries(data.languages).map(([code, name]) => el("option", { value: code }, name)));
    select.addEventListener("change", () => post("page_language", { language: select.value }));
  }
  select.value = data.page_language;
}

function draw() {
  if (!state.data) return;
  drawLanguage();
  $("#now").textContent = clockText(state.data.now);
  if (state.open === null) state.open = state.data.open.slice();
  drawGuide(state.data.guide);
  drawChatList();
  drawEvents();
  drawColumns(state.data.guide);
}

async function poll() {
  for (;;) {
    try {
      const response = await fetch(`/api/state?after=${state.version}`);
      if (!response.ok) throw new Error(response.statusText);
      state.data = await response.json();
      state.version = state.data.version;
      draw();
      document.body.dataset.version = String(state.version);
    } catch (error) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

for (const button of document.querySelectorAll("[data-clock]")) {
  button.addEventListener("click", async () => {
    button.disabled = true;
    try { await post("clock", { step: button.dataset.clock }); } finally { button.disabled = false; }
  });
}
$("#reset").addEventListener("click", async () => {
  if (!confirm(t("reset_confirm"))) return;
  state.open = null; state.replyTo = {}; state.drawn = {}; state.actingAs = {};
  $("#columns").replaceChildren();
  await post("reset");
});
$("#do-step").addEventListener("click", () => post("guide", { action: "step" }));
$("#next-step").addEventListener("click", () => post("guide", { action: "next" }));
$("#play").addEventListener("click", () => post("guide", { action: state.data.guide.playing ? "stop" : "play" }));
poll();

// Lotse web chat: no framework, no tracking. The token in localStorage is random and
// identifies only this browser's conversation; the transcript stays in this browser.
(function () {
  "use strict";
  var cfg = window.LOTSE;
  var log = document.getElementById("log");
  var form = document.getElementById("composer");
  var input = document.getElementById("message");
  var keyToken = "lotse.token." + cfg.municipality;
  var keyLog = "lotse.log." + cfg.municipality;
  var token = localStorage.getItem(keyToken);
  var history = [];
  try { history = JSON.parse(sessionStorage.getItem(keyLog) || "[]"); } catch (e) { history = []; }

  function eventId() {
    var a = new Uint8Array(12); crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function link(href, label, dir) {
    var a = el("a", null, label); a.href = href;
    // URLs, numbers and addresses keep their own direction inside right-to-left text.
    a.dir = dir || "auto";
    if (/^https?:/.test(href)) { a.target = "_blank"; a.rel = "noopener"; }
    return a;
  }
  function isolated(text) { var s = el("span", null, text); s.dir = "auto"; return s; }
  function save() { sessionStorage.setItem(keyLog, JSON.stringify(history.slice(-60))); }

  function renderUser(text) {
    var li = el("li", "msg user", text); li.dir = "auto"; log.appendChild(li); li.scrollIntoView();
  }
  function renderReply(r) {
    var li = el("li", "msg bot" + (r.urgent ? " urgent" : ""));
    li.lang = r.language; li.dir = r.dir;
    if (r.title) li.appendChild(el("h2", null, r.title));
    li.appendChild(el("div", "text", r.text));
    (r.contacts || []).forEach(function (c) {
      var box = el("div", "contact");
      var name = el("strong"); name.appendChild(isolated(c.name)); box.appendChild(name);
      if (c.address) { var p = el("div"); p.appendChild(c.map_url ? link(c.map_url, c.address) : isolated(c.address)); box.appendChild(p); }
      if (c.phone) { var t = el("div"); t.appendChild(link(c.tel_url, "☎ " + c.phone, "ltr")); box.appendChild(t); }
      if (c.email) { var m = el("div"); m.appendChild(link("mailto:" + c.email, c.email, "ltr")); box.appendChild(m); }
      if (c.opening_hours && c.opening_hours.length) { var h = el("div"); h.appendChild(isolated(c.opening_hours.join("; "))); box.appendChild(h); }
      if (c.website) { var w = el("div"); w.appendChild(link(c.website, c.website, "ltr")); box.appendChild(w); }
      if (c.booking_url) { var b = el("div"); b.appendChild(link(c.booking_url, c.booking_url, "ltr")); box.appendChild(b); }
      li.appendChild(box);
    });
    if (r.checklist && r.checklist.length) {
      if (r.checklist_title) li.appendChild(el("strong", null, r.checklist_title));
      var ul = el("ul"); r.checklist.forEach(function (i) { ul.appendChild(el("li", null, i)); }); li.appendChild(ul);
    }
    (r.links || []).forEach(function (l) { var d = el("div", "note"); d.appendChild(link(l.url, l.label)); li.appendChild(d); });
    (r.notes || []).forEach(function (n) { li.appendChild(el("div", "note", n)); });
    if (r.attachment) {
      var a = link("data:" + r.attachment.mime_type + ";base64," + r.attachment.data_base64, "⬇ " + r.attachment.filename);
      a.download = r.attachment.filename; a.removeAttribute("target"); li.appendChild(a);
    }
    if (r.buttons && r.buttons.length) {
      var box2 = el("div", "buttons"); box2.setAttribute("role", "group");
      r.buttons.forEach(function (row) { row.forEach(function (b) {
        var btn = el("button", null, b.label); btn.type = "button";
        btn.addEventListener("click", function () {
          send({kind: "action", action: b.action}, b.label).then(function (ok) { if (ok) followLanguage(b.action); });
        });
        box2.appendChild(btn);
      }); });
      li.appendChild(box2);
    }
    log.appendChild(li); li.scrollIntoView();
  }
  // After a language is chosen, reload once so the page itself (buttons, direction) follows;
  // the token and transcript survive in the browser's storage.
  function followLanguage(action) {
    var code = /^lang:([a-z]{2,3})$/.exec(action);
    if (!code || code[1] === cfg.language) return;
    var url = new URL(location.href); url.searchParams.set("lang", code[1]); location.replace(url.toString());
  }
  function render(entry) { if (entry.user !== undefined) renderUser(entry.user); else renderReply(entry.reply); }

  function post(url, body) {
    return fetch(url, {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)})
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); });
  }
  function ensureToken() {
    if (token) return Promise.resolve(token);
    return post("/api/chat/session", {}).then(function (s) { token = s.token; localStorage.setItem(keyToken, token); return token; });
  }
  function send(event, echo) {
    if (echo) { history.push({user: echo}); renderUser(echo); save(); }
    return ensureToken().then(function () {
      event.token = token; event.event_id = eventId();
      event.municipality = cfg.municipality; event.language = cfg.language; event.ref = cfg.ref || null;
      return post("/api/chat/events", event);
    }).then(function (data) {
      data.replies.forEach(function (r) { history.push({reply: r}); renderReply(r); });
      save();
      return true;
    }).catch(function () {
      renderReply({text: "⚠ Network problem – please try again. In an emergency call 112.", dir: "ltr", language: "en"});
      return false;
    });
  }
  function poll() {
    if (!token) return;
    fetch("/api/chat/inbox", {headers: {"X-Chat-Token": token}}).then(function (r) { return r.ok ? r.json() : {replies: []}; })
      .then(function (data) { data.replies.forEach(function (r) { history.push({reply: r}); renderReply(r); }); if (data.replies.length) save(); })
      .catch(function () {});
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim(); if (!text) return;
    input.value = ""; send({kind: "text", text: text}, text);
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
  });
  document.querySelectorAll("[data-command]").forEach(function (b) {
    b.addEventListener("click", function () { send({kind: "command", command: b.dataset.command}, b.textContent); });
  });
  document.querySelectorAll("[data-action]").forEach(function (b) {
    b.addEventListener("click", function () { send({kind: "action", action: b.dataset.action}, b.textContent); });
  });

  if (history.length && token) { history.forEach(render); }
  else { history = []; send({kind: "start"}); }
  setInterval(poll, 20000);
})();

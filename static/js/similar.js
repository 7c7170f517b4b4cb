// Similar ideas while someone types a new idea's title: progressive enhancement of the
// "Check for similar ideas" button. Answers are listed in place, in an aria-live region; each
// "Vote for this instead" is a plain submit button posting to the vote URL, as without JS.
(function () {
  "use strict";

  var box = document.querySelector("[data-similar]");
  if (!box || !window.fetch || !window.URLSearchParams) { return; }
  var form = box.closest("form");
  var title = form.querySelector("[name=title]");
  var body = form.querySelector("[name=body]");
  var results = box.querySelector("[data-similar-results]");
  var check = box.querySelector("[data-similar-check]");
  var DELAY_MS = 350;
  var MIN_CHARS = 4;
  var timer = null;
  var asked = "";
  var pending = null;

  if (check) { check.hidden = true; }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function withId(template, id) {
    return template.replace("/0/", "/" + id + "/").replace(/\/0$/, "/" + id);
  }

  function render(items) {
    results.textContent = "";
    if (items === null) { return; }
    if (!items.length) {
      results.appendChild(el("p", "muted", box.dataset.msgNone));
      return;
    }
    results.appendChild(el("p", "visually-hidden",
      box.dataset.msgFound.replace("{n}", String(items.length))));
    var list = el("ul", "similar-list");
    items.forEach(function (item) {
      var row = el("li");
      var link = el("a", null, item.title);
      link.href = item.url;
      row.appendChild(link);
      row.appendChild(document.createTextNode(" "));
      var badge = el("span", "badge", item.status_name);
      badge.setAttribute("data-status", item.status);
      row.appendChild(badge);
      var votes = item.votes === 1 ? box.dataset.msgVoteOne : box.dataset.msgVoteMany;
      row.appendChild(el("span", "muted", " " + votes.replace("{n}", String(item.votes)) + " "));
      if (item.voted) {
        row.appendChild(el("span", "muted", box.dataset.msgVoted));
      } else if (item.voting_open) {
        var button = el("button", null, box.dataset.msgVote);
        button.type = "submit";
        button.formNoValidate = true;
        var next = new URL(withId(box.dataset.ideaUrl, item.id), window.location.href).pathname;
        button.setAttribute("formaction",
          withId(box.dataset.voteUrl, item.id) + "?" +
          new URLSearchParams({ next: next, from: "similar" }));
        row.appendChild(button);
      }
      list.appendChild(row);
    });
    results.appendChild(list);
  }

  function lookup() {
    var text = title.value.trim();
    var details = body ? body.value.slice(0, 2000) : "";
    if (text.length < MIN_CHARS) {
      asked = "";
      render(null);
      return;
    }
    var key = text + "\n" + details;
    if (key === asked) { return; }
    asked = key;
    if (pending) { pending.abort(); }
    pending = window.AbortController ? new AbortController() : null;
    var params = new URLSearchParams({ title: text, body: details, limit: "5" });
    results.setAttribute("aria-busy", "true");  // the last answer stays, dimmed, until the next
    var mine = pending;
    fetch(box.dataset.similarUrl + "?" + params, {
      headers: { "Accept": "application/json" },
      credentials: "same-origin",
      signal: pending ? pending.signal : undefined
    }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.json();
    }).then(render).catch(function () {
      // A failed or superseded lookup leaves the last answer; posting still works.
    }).finally(function () {
      if (pending === mine) { results.removeAttribute("aria-busy"); }
    });
  }

  function schedule() {
    window.clearTimeout(timer);
    timer = window.setTimeout(lookup, DELAY_MS);
  }

  title.addEventListener("input", schedule);
  if (body) { body.addEventListener("change", schedule); }
  if (title.value.trim()) { schedule(); }
})();

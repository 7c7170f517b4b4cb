// Keyboard shortcuts for the triage list. Progressive enhancement: the checkboxes and the
// bulk form above the list do everything without this file. Shortcuts are listed on the page.
(function () {
  "use strict";
  var list = document.querySelector("[data-triage-list]");
  var form = document.getElementById("bulk-form");
  if (!list || !form) { return; }
  var rows = Array.prototype.slice.call(list.querySelectorAll("[data-triage-row]"));
  var current = -1;

  function focusRow(index) {
    if (!rows.length) { return; }
    current = Math.max(0, Math.min(rows.length - 1, index));
    rows.forEach(function (row, i) { row.classList.toggle("current", i === current); });
    rows[current].focus();
  }

  // Keys typed into a field, or pressed on a link or button, keep their usual meaning.
  function typing(target) {
    return target.closest("a, button, summary, input, textarea, select, [contenteditable]") !== null;
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) { return; }
    var row = rows[current];
    switch (event.key) {
      case "j": focusRow(current + 1); break;
      case "k": focusRow(current - 1); break;
      case "x":
        if (row) { var box = row.querySelector("input[type=checkbox]"); box.checked = !box.checked; }
        break;
      case "o": case "Enter":
        if (row) { row.querySelector("[data-open]").click(); }
        break;
      case "r":
        if (!form.querySelector("input[name=ids]:checked") && row) {
          row.querySelector("input[type=checkbox]").checked = true;
        }
        form.querySelector("#bulk-action").value = "reviewed";
        form.requestSubmit();
        break;
      case "a": form.querySelector("#bulk-action").focus(); break;
      case "/": document.getElementById("f-board").focus(); break;
      case "?":
        var help = document.getElementById("shortcuts");
        help.open = !help.open;
        break;
      default: return;
    }
    event.preventDefault();
  });
})();

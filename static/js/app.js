// Progressive enhancement only: every form works without this file.
(function () {
  "use strict";

  function announce(text) {
    var live = document.getElementById("live");
    if (live) { live.textContent = text; }
  }

  // Vote and unvote in place: optimistic toggle, rolled back if the server refuses.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("form[data-vote]")) { return; }
    var button = form.querySelector("button");
    if (!window.fetch || !button || button.disabled) { return; }
    event.preventDefault();
    var count = form.querySelector("[data-vote-count]");
    var wasVoted = button.getAttribute("aria-pressed") === "true";
    var before = parseInt(count.textContent, 10) || 0;
    var url = wasVoted ? form.dataset.unvoteUrl : form.dataset.voteUrl;
    render(!wasVoted, before + (wasVoted ? -1 : 1));
    button.setAttribute("aria-busy", "true");
    fetch(url, {
      method: "POST",
      body: new FormData(form),
      headers: { "Accept": "application/json" },
      credentials: "same-origin"
    }).then(function (response) {
      // A refusal carries the server's sentence (e.g. "Voting is closed…"); anything that is
      // not our JSON (network down, proxy page) gets the generic, translated message.
      return response.json().catch(function () { return {}; })
        .then(function (data) { return { ok: response.ok, status: response.status, data: data }; });
    }).then(function (result) {
      if (result.status === 401) {
        // A visitor: sign in first, then come back to this page to vote.
        render(wasVoted, before);
        window.location.assign(form.dataset.signinUrl);
        return;
      }
      if (!result.ok) { throw new Error(result.data.message || form.dataset.msgFailed); }
      render(result.data.voted, result.data.votes);
      announce(form.dataset[result.data.voted ? "msgVoted" : "msgUnvoted"] || (result.data.votes + ""));
    }).catch(function (error) {
      render(wasVoted, before);
      announce(error instanceof TypeError ? form.dataset.msgFailed : error.message);
    }).finally(function () {
      button.removeAttribute("aria-busy");
    });

    function render(voted, votes) {
      button.setAttribute("aria-pressed", voted ? "true" : "false");
      button.classList.toggle("voted", voted);
      count.textContent = votes;
      form.action = voted ? form.dataset.unvoteUrl : form.dataset.voteUrl;
    }
  });

  // Other forms: show that the post is under way, and ignore a second press meanwhile
  // (a double click must not post the same comment twice).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || form.matches("form[data-vote]")) { return; }
    if (form.getAttribute("aria-busy") === "true") { event.preventDefault(); return; }
    form.setAttribute("aria-busy", "true");
  });
  // Coming back with the Back button restores the page as it was left: busy. Undo that.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[aria-busy]").forEach(function (form) {
      form.removeAttribute("aria-busy");
    });
  });

  // Messages that arrive with a page (after a form post) sit in a live region that existed
  // before the text did only if we put it there: screen readers ignore regions filled at load.
  var flashes = document.querySelector(".flashes");
  if (flashes) {
    window.setTimeout(function () {
      announce(flashes.textContent.replace(/\s+/g, " ").trim());
    }, 300);
  }

  // Submitting the language form on change saves a click; the button stays for no-JS use.
  var locale = document.getElementById("locale-select");
  if (locale) {
    locale.addEventListener("change", function () { locale.form.submit(); });
  }
})();

// reportdraft review pages: keyboard shortcuts and source highlighting (no framework).
// Alt+N: next item needing attention; Ctrl+S: save; Ctrl+Enter: sign dialog.
(function () {
  "use strict";
  function attention() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-attention]"));
  }
  function nextAttention() {
    var items = attention();
    if (!items.length) { return; }
    var active = document.activeElement;
    var next = items.find(function (el) {
      return active && (active.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING);
    }) || items[0];
    next.focus();
    next.scrollIntoView({block: "center"});
  }
  document.addEventListener("keydown", function (ev) {
    var body = document.body;
    if (ev.altKey && !ev.ctrlKey && (ev.key === "n" || ev.key === "N" || ev.code === "KeyN")) {
      ev.preventDefault();
      nextAttention();
    } else if ((ev.ctrlKey || ev.metaKey) && (ev.key === "s" || ev.key === "S")) {
      var form = document.getElementById("save-form");
      if (form) { ev.preventDefault(); form.requestSubmit(); }
    } else if ((ev.ctrlKey || ev.metaKey) && ev.key === "Enter") {
      var url = body.getAttribute("data-sign-url");
      if (url) { ev.preventDefault(); window.location.assign(url); }
    }
  });
  function highlight(ev, on) {
    var chip = ev.target.closest ? ev.target.closest("[data-src]") : null;
    if (!chip) { return; }
    var target = document.getElementById("src-" + chip.getAttribute("data-src"));
    if (target) { target.classList.toggle("hl", on); }
  }
  document.addEventListener("mouseover", function (ev) { highlight(ev, true); });
  document.addEventListener("mouseout", function (ev) { highlight(ev, false); });
  document.addEventListener("focusin", function (ev) { highlight(ev, true); });
  document.addEventListener("focusout", function (ev) { highlight(ev, false); });
  document.addEventListener("DOMContentLoaded", function () {
    var dialog = document.getElementById("sign-dialog");
    if (dialog && dialog.open && dialog.showModal) {
      dialog.close();
      dialog.showModal();
      var first = dialog.querySelector("[autofocus]") || dialog.querySelector("button, a");
      if (first) { first.focus(); }
    }
  });
})();

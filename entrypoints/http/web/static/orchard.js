// Orchard's only script: copy buttons (progressive enhancement; the text stays selectable
// without it). Loaded from this server, so the Content-Security-Policy allows it.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var target = document.getElementById(button.getAttribute("data-copy"));
    if (!target) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = target.textContent.trim();
      var done = function (label) {
        var original = button.textContent;
        button.textContent = label;
        setTimeout(function () { button.textContent = original; }, 1500);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(function () { done("Copied"); },
          function () { select(target); done("Press Ctrl+C"); });
      } else {
        select(target);
        done("Press Ctrl+C");
      }
    });
  });
  function select(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }
});

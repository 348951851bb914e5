// The scenario list's filters, in place: without this script the filter links open
// failures.html and differences.html, which hold only those rows; with it, the page of all
// scenarios hides the other rows instead, and the address keeps the choice (#failures).
"use strict";
(function () {
  var bar = document.querySelector(".filters");
  var all = bar && bar.querySelector('a.current[data-filter="all"]');
  if (!all) return;
  var links = bar.querySelectorAll("a[data-filter]");
  function apply(name) {
    var shown = 0;
    document.querySelectorAll("section.area").forEach(function (section) {
      var left = 0;
      section.querySelectorAll("tbody tr").forEach(function (row) {
        var keep = name === "failures" ? row.hasAttribute("data-failing")
          : name === "differences" ? row.hasAttribute("data-differs") : true;
        row.hidden = !keep;
        if (keep) left++;
      });
      section.hidden = left === 0;
      shown += left;
    });
    var count = document.querySelector(".shown");
    if (count) count.textContent = String(shown);
    links.forEach(function (link) {
      var current = link.getAttribute("data-filter") === name;
      link.classList.toggle("current", current);
      if (current) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    });
  }
  links.forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      var name = link.getAttribute("data-filter");
      history.replaceState(null, "", name === "all" ? location.pathname : "#" + name);
      apply(name);
    });
  });
  var wanted = location.hash.slice(1);
  if (wanted === "failures" || wanted === "differences") apply(wanted);
})();

// The work queue: the header box ticks or unticks every person on the page.
(function () {
  var all = document.getElementById("tick-all");
  if (!all) return;
  all.addEventListener("change", function () {
    document.querySelectorAll('#queue-table input[name="person"]').forEach(function (box) { box.checked = all.checked; });
  });
})();

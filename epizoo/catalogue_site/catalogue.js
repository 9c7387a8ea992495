// The index's search and filters. The query string holds them (?q=FOXA1&genome=hg19), so a
// filtered view is a link; every control updates it.
(function () {
  const controls = ["q", "method", "task", "genome", "origin"].map((name) => document.getElementById(name));
  const rows = Array.from(document.querySelectorAll("#entries tbody tr"));
  const count = document.getElementById("count");

  function matches(row) {
    const [q, method, task, genome, origin] = controls.map((c) => c.value.trim().toLowerCase());
    const text = row.dataset.search;
    return (!q || q.split(/\s+/).every((word) => text.includes(word)))
      && (!method || row.dataset.method === method)
      && (!task || row.dataset.tasks.split("|").includes(task))
      && (!genome || row.dataset.genome === genome)
      && (!origin || row.dataset.origin === origin);
  }

  function apply() {
    let shown = 0;
    for (const row of rows) {
      const keep = matches(row);
      row.hidden = !keep;
      shown += keep;
    }
    count.textContent = `${shown} of ${rows.length} entries`;
    const params = new URLSearchParams();
    for (const c of controls) if (c.value) params.set(c.id, c.value);
    history.replaceState(null, "", params.toString() ? `?${params}` : location.pathname);
  }

  const given = new URLSearchParams(location.search);
  for (const c of controls) {
    if (given.has(c.id)) c.value = given.get(c.id).toLowerCase();
    c.addEventListener("input", apply);
  }
  apply();
})();

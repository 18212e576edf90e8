// Repeated rows (partners, members, milestones, budget lines) added in place, and the budget
// totals kept up to date while typing. Progressive enhancement: without this file the "add"
// buttons post the form and the server re-renders it with one more blank row.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-rows]").forEach((container) => {
    const kind = container.dataset.rows;
    const template = container.querySelector("template[data-row-template]");
    const button = container.closest("form").querySelector(`button[name=intent][value="add:${kind}"]`);
    if (!template || !button) return;
    button.addEventListener("click", (event) => {
      event.preventDefault();
      // Row numbers only name the fields (the server renumbers what it receives): take a free one.
      const used = Array.from(container.querySelectorAll("[name]"))
        .map((el) => Number((el.name.match(new RegExp(`^${kind}-(\\d+)-`)) || [])[1]))
        .filter((n) => !Number.isNaN(n));
      const index = used.length ? Math.max(...used) + 1 : 0;
      const shown = container.querySelectorAll(":scope > [data-row]").length + 1;
      const html = template.innerHTML.replaceAll("__i__", String(index)).replaceAll("__n__", String(shown));
      template.insertAdjacentHTML("beforebegin", html);
      const row = template.previousElementSibling;
      const first = row && row.querySelector("input:not([type=hidden]), select");
      if (first) first.focus();
    });
  });

  const table = document.querySelector("[data-budget]");
  if (table) {
    const suffix = table.dataset.suffix || "";
    const format = (value) => value.toLocaleString("en-US", { maximumFractionDigits: 2 }) + suffix;
    const update = () => {
      const sums = { own: 0, requested: 0 };
      table.querySelectorAll("[data-row]").forEach((row) => {
        if (row.querySelector("input[type=checkbox][name$='-remove']:checked")) return;
        row.querySelectorAll("[data-amount]").forEach((input) => {
          const value = Number(input.value.replace(/,/g, ""));
          if (Number.isFinite(value) && value > 0) sums[input.dataset.amount] += value;
        });
      });
      const totals = { ...sums, total: sums.own + sums.requested };
      Object.entries(totals).forEach(([name, value]) => {
        const out = table.querySelector(`[data-total="${name}"]`);
        if (out) out.textContent = format(Math.round(value * 100) / 100);
      });
    };
    table.addEventListener("input", update);
    table.addEventListener("change", update);
  }
});

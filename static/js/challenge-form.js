// Challenge and amendment forms: add rows in place, show the rubric total, show stages only for 赛马.
// Progressive enhancement: without this file the "add rows" buttons re-render the form on the server.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("fieldset[data-rows]").forEach((fieldset) => {
    const group = fieldset.dataset.rows;
    const count = fieldset.querySelector("[data-row-count]");
    const body = fieldset.querySelector("tbody");
    const button = fieldset.querySelector(`button[value="add_${group}"]`);
    if (!count || !body || !button) return;
    button.addEventListener("click", (event) => {
      event.preventDefault();
      const template = body.querySelector("tr[data-row]:last-child");
      if (!template) return;
      const index = Number(count.value);
      const row = template.cloneNode(true);
      row.querySelectorAll("input, label").forEach((el) => {
        ["name", "id", "for", "aria-describedby"].forEach((attr) => {
          const value = el.getAttribute(attr);
          if (value) el.setAttribute(attr, value.replace(new RegExp(`${group}-\\d+-`), `${group}-${index}-`));
        });
        if (el.tagName === "INPUT") {
          if (el.type === "hidden") el.remove();
          else if (el.type === "checkbox") el.checked = false;
          else { el.value = ""; el.removeAttribute("aria-invalid"); }
        }
      });
      row.querySelectorAll(".field-error").forEach((el) => el.remove());
      body.appendChild(row);
      count.value = String(index + 1);
      const first = row.querySelector("input:not([type=hidden])");
      if (first) first.focus();
    });
  });

  // Running total of rubric weights.
  const total = document.querySelector("[data-weight-total]");
  if (total) {
    const update = () => {
      let sum = 0;
      document.querySelectorAll("[data-weight]").forEach((input) => {
        const row = input.closest("tr");
        const removed = row && row.querySelector("input[type=checkbox][name$='-remove']:checked");
        if (!removed) sum += Number(input.value) || 0;
      });
      total.hidden = false;
      total.textContent = `${total.dataset.label}${sum}${sum === 100 ? total.dataset.ok : total.dataset.bad}`;
    };
    document.addEventListener("input", (event) => { if (event.target.matches("[data-weight]")) update(); });
    document.addEventListener("change", update);
    update();
  }

  // Stages only matter for 赛马.
  const stages = document.querySelector("[data-horse-race]");
  const radios = document.querySelectorAll("input[name=mechanism]");
  if (stages && radios.length) {
    const toggle = () => {
      const chosen = document.querySelector("input[name=mechanism]:checked");
      stages.hidden = !chosen || chosen.value !== "horse_race";
    };
    radios.forEach((radio) => radio.addEventListener("change", toggle));
    toggle();
  }
});

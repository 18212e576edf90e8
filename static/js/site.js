// Progressive enhancement only: every page works without this file.
document.documentElement.classList.add("js");

document.addEventListener("DOMContentLoaded", () => {
  // Language switch submits on change.
  document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
    select.addEventListener("change", () => select.form.submit());
  });

  // Move focus to an error summary so screen readers announce it.
  const summary = document.querySelector("[data-focus]");
  if (summary) summary.focus();

  // Filters fold away on a phone: a <details data-fold-below="640"> is open in the HTML (so it
  // stays usable without JS) and closed here when the screen is narrower.
  document.querySelectorAll("details[data-fold-below]").forEach((details) => {
    if (window.matchMedia(`(max-width: ${details.dataset.foldBelow}px)`).matches) details.open = false;
  });

  // Text areas with a limit count what is typed (the hint under them is the aria-live region).
  document.querySelectorAll("textarea[maxlength]").forEach((area) => {
    const counter = document.querySelector(`[data-count-for="${area.id}"]`);
    if (!counter) return;
    const update = () => {
      counter.textContent = counter.dataset.template.replace("{n}", area.value.length).replace("{max}", area.maxLength);
    };
    area.addEventListener("input", update);
    update();
  });

  // Confirm destructive actions.
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });

  // Buttons wait while a form is being sent, so a second click does not send it twice (the
  // server ignores a repeated create form anyway: challenge/web/once.py). Disabled after the
  // browser has taken the clicked button's value; enabled again when Back shows the page.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (event.defaultPrevented || (form.getAttribute("method") || "").toLowerCase() !== "post") return;
    setTimeout(() => {
      form.querySelectorAll("button[type=submit], button:not([type]), input[type=submit]").forEach((button) => {
        button.disabled = true;
      });
      form.setAttribute("aria-busy", "true");
    }, 0);
  });
  window.addEventListener("pageshow", () => {
    document.querySelectorAll("form[aria-busy]").forEach((form) => {
      form.removeAttribute("aria-busy");
      form.querySelectorAll("button, input[type=submit]").forEach((button) => { button.disabled = false; });
    });
  });

  // Refuse files over the limit before they are sent.
  document.querySelectorAll("input[type=file][data-max-bytes]").forEach((input) => {
    input.addEventListener("change", () => {
      const limit = Number(input.dataset.maxBytes);
      const tooBig = Array.from(input.files).filter((f) => f.size > limit);
      input.setCustomValidity(tooBig.length ? `${tooBig[0].name}: ${Math.round(limit / 1048576)} MB max` : "");
      input.reportValidity();
    });
  });

  // Print buttons (hidden without JavaScript: the browser's own print works everywhere).
  document.querySelectorAll("[data-print]").forEach((button) => {
    button.hidden = false;
    button.addEventListener("click", () => window.print());
  });

  // Live countdowns to deadlines (the page shows the full date without JS).
  const countdowns = document.querySelectorAll("[data-countdown]");
  const en = document.documentElement.lang === "en";
  const tick = () => {
    countdowns.forEach((el) => {
      const target = el.dataset.target || el.getAttribute("data-countdown");
      const left = new Date(target).getTime() - Date.now();
      let out = el.nextElementSibling && el.nextElementSibling.classList.contains("countdown") ? el.nextElementSibling : null;
      if (!out) {
        out = document.createElement("span");
        out.className = "countdown meta";
        out.setAttribute("aria-live", "off");
        el.after(out);
      }
      if (left <= 0) { out.textContent = en ? " (closed)" : "（已截止）"; return; }
      const d = Math.floor(left / 86400000), h = Math.floor(left / 3600000) % 24,
        m = Math.floor(left / 60000) % 60, s = Math.floor(left / 1000) % 60;
      out.textContent = en ? ` (${d}d ${h}h ${m}m ${s}s left)` : `（剩余 ${d} 天 ${h} 小时 ${m} 分 ${s} 秒）`;
    });
  };
  if (countdowns.length) { tick(); setInterval(tick, 1000); }

  // Upload progress: send multipart forms with XHR so the bar can move.
  document.querySelectorAll("form[data-upload]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      const submitter = event.submitter;
      const hasFiles = Array.from(form.querySelectorAll("input[type=file]")).some((i) => i.files.length);
      if (!hasFiles || !window.FormData) return;
      event.preventDefault();
      const data = new FormData(form);
      if (submitter && submitter.name) data.append(submitter.name, submitter.value);
      const bar = form.querySelector("progress") || form.appendChild(document.createElement("progress"));
      bar.className = "progress"; bar.max = 100; bar.value = 0; bar.hidden = false;
      const xhr = new XMLHttpRequest();
      // getAttribute: a control named "action" would shadow form.action.
      xhr.open("POST", form.getAttribute("action") || window.location.href);
      xhr.setRequestHeader("X-CSRF-Token", data.get("csrf_token"));
      xhr.upload.addEventListener("progress", (e) => { if (e.lengthComputable) bar.value = (e.loaded / e.total) * 100; });
      xhr.addEventListener("load", () => {
        // Show the server's answer (after its redirect) as a normal navigation would.
        if (xhr.responseURL) history.replaceState(null, "", xhr.responseURL);
        document.open(); document.write(xhr.responseText); document.close();
      });
      xhr.addEventListener("error", () => { bar.hidden = true; form.submit(); });
      xhr.send(data);
    });
  });
  // "Select all" for the checkboxes of a bulk form (hidden without JavaScript: tick each box).
  document.querySelectorAll("input[data-select-all]").forEach((all) => {
    const boxes = Array.from(all.form ? all.form.querySelectorAll(`input[name="${all.dataset.selectAll}"]`) : []);
    all.hidden = false;
    const sync = () => {
      const ticked = boxes.filter((box) => box.checked).length;
      all.checked = ticked === boxes.length && ticked > 0;
      all.indeterminate = ticked > 0 && ticked < boxes.length;
    };
    all.addEventListener("change", () => { boxes.forEach((box) => { box.checked = all.checked; }); sync(); });
    boxes.forEach((box) => box.addEventListener("change", sync));
    sync();
  });
});

// Relance web app: the little JavaScript htmx does not cover. No inline script anywhere (CSP).
"use strict";
document.addEventListener("click", (event) => {
  // Copy to clipboard: <button data-copy="text">.
  const copy = event.target.closest("[data-copy]");
  if (copy && navigator.clipboard) {
    navigator.clipboard.writeText(copy.dataset.copy).then(() => {
      const status = document.getElementById(copy.dataset.copyStatus || "copy-status");
      if (status) status.textContent = "Copied to the clipboard.";
    });
  }
  // Select every row: <input type=checkbox data-select-all="name">.
  const all = event.target.closest("[data-select-all]");
  if (all) {
    document.querySelectorAll(`input[type=checkbox][name="${all.dataset.selectAll}"]`).forEach((box) => { box.checked = all.checked; });
  }
});

// Column order by drag and drop: <ol data-sortable> of <li draggable=true> holding hidden inputs;
// the move up/down buttons do the same from the keyboard (and without JavaScript, on the server).
let dragged = null;
document.addEventListener("dragstart", (event) => {
  const item = event.target.closest("[data-sortable] > li");
  if (item) { dragged = item; item.classList.add("dragging"); event.dataTransfer.effectAllowed = "move"; }
});
document.addEventListener("dragover", (event) => {
  const over = event.target.closest("[data-sortable] > li");
  if (!dragged || !over || over === dragged || over.parentNode !== dragged.parentNode) return;
  event.preventDefault();
  const box = over.getBoundingClientRect();
  over.parentNode.insertBefore(dragged, event.clientY < box.top + box.height / 2 ? over : over.nextSibling);
});
document.addEventListener("dragend", () => {
  if (!dragged) return;
  dragged.classList.remove("dragging");
  const list = dragged.closest("[data-sortable]");
  dragged = null;
  if (list && list.form && list.dataset.submitOnDrop !== undefined) list.form.requestSubmit();
  else if (list && list.closest("form") && list.dataset.submitOnDrop !== undefined) list.closest("form").requestSubmit();
});

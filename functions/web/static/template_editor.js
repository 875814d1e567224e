// The template editor's variables: <button data-insert="{{ customer.name }}" data-insert-into="f-text"> puts
// its text at the cursor of the field last focused among [data-insert-target] (else of data-insert-into).
// Loaded by the editor's page alone; no inline script anywhere (CSP).
"use strict";
let insertTarget = null;
document.addEventListener("focusin", (event) => {
  if (event.target.matches("[data-insert-target]")) insertTarget = event.target;
});
document.addEventListener("click", (event) => {
  const variable = event.target.closest("[data-insert]");
  if (!variable) return;
  const field = insertTarget && insertTarget.isConnected ? insertTarget : document.getElementById(variable.dataset.insertInto);
  if (!field) return;
  const start = field.selectionStart ?? field.value.length;
  const end = field.selectionEnd ?? start;
  field.setRangeText(variable.dataset.insert, start, end, "end");
  field.focus();
  field.dispatchEvent(new Event("input", { bubbles: true })); // the live preview follows
});
// A refused preview (422: the template does not render) is shown in place, like a rendered one.
document.addEventListener("htmx:beforeSwap", (event) => {
  if (event.detail.xhr.status === 422 && event.detail.target.closest("[data-swap-refusals]")) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});

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

// Files on a form (<form data-max-files data-max-bytes>): counted and weighed before sending, refused
// with the limit named. A note's files (<form data-note-files>) go straight to S3: the form declares
// them, Relance answers a presigned POST per file, the browser posts each file to its own. Without
// JavaScript the form sends the files through Relance itself (4 MB together at most).
const MB = 1024 * 1024;
const chosenFiles = (form) => Array.from(form.querySelectorAll("input[type=file]")).flatMap((input) => Array.from(input.files));
const weight = (bytes) => `${(bytes / MB).toFixed(1)} MB`;
function sayFiles(form, text) {
  const input = form.querySelector("input[type=file]");
  const status = input && document.getElementById(input.getAttribute("aria-describedby"));
  if (status) status.textContent = text;
}
function filesProblem(form) {
  const files = chosenFiles(form);
  const total = files.reduce((sum, file) => sum + file.size, 0);
  const maxFiles = Number(form.dataset.maxFiles);
  const maxBytes = Number(form.dataset.maxBytes);
  if (files.length > maxFiles) return `Too many files: ${files.length}, at most ${maxFiles} here.`;
  if (total > maxBytes) return `Too large: ${weight(total)} together, at most ${weight(maxBytes)} here.`;
  return "";
}
function checkFiles(form) {
  const problem = filesProblem(form);
  const files = chosenFiles(form);
  form.querySelectorAll("input[type=file]").forEach((input) => input.setCustomValidity(problem));
  const total = files.reduce((sum, file) => sum + file.size, 0);
  sayFiles(form, problem || (files.length ? `${files.length} file${files.length > 1 ? "s" : ""} chosen, ${weight(total)}.` : ""));
  return problem;
}
document.addEventListener("change", (event) => {
  const form = event.target.closest("form[data-max-files]");
  if (form && event.target.type === "file") checkFiles(form);
});

// Drop files on the note (<textarea data-drop-files="input id">): they join the files chosen.
document.addEventListener("dragover", (event) => {
  const area = event.target.closest("[data-drop-files]");
  if (area && event.dataTransfer && Array.from(event.dataTransfer.types).includes("Files")) {
    event.preventDefault();
    area.classList.add("drop-target");
  }
});
document.addEventListener("dragleave", (event) => {
  const area = event.target.closest("[data-drop-files]");
  if (area) area.classList.remove("drop-target");
});
document.addEventListener("drop", (event) => {
  const area = event.target.closest("[data-drop-files]");
  const input = area && document.getElementById(area.dataset.dropFiles);
  if (!input || !event.dataTransfer || !event.dataTransfer.files.length) return;
  event.preventDefault();
  area.classList.remove("drop-target");
  const all = new DataTransfer();
  [...input.files, ...event.dataTransfer.files].forEach((file) => all.items.add(file));
  input.files = all.files;
  input.dispatchEvent(new Event("change", { bubbles: true }));
});

async function uploadNoteFiles(form, submitter, files) {
  const buttons = form.querySelectorAll("button");
  const data = new FormData(form);
  if (submitter && submitter.name) data.set(submitter.name, submitter.value);
  data.delete("attachments");
  files.forEach((file) => {
    data.append("fileName", file.name);
    data.append("fileType", file.type);
    data.append("fileSize", String(file.size));
  });
  buttons.forEach((button) => { button.disabled = true; });
  sayFiles(form, "Saving…");
  const answer = await fetch(form.action, { method: "POST", body: data, headers: { "X-Relance-Uploads": "presigned" } });
  const result = await answer.json().catch(() => ({ message: "Relance did not answer: try again." }));
  if (!answer.ok) {
    buttons.forEach((button) => { button.disabled = false; });
    sayFiles(form, [result.message, ...Object.values(result.fields || {})].join(" — "));
    return;
  }
  const failed = [];
  for (const [index, upload] of result.uploads.entries()) {
    sayFiles(form, `Uploading ${files[index].name} (${index + 1} of ${files.length})…`);
    const post = new FormData();
    Object.entries(upload.fields).forEach(([name, value]) => post.append(name, value));
    post.append("file", files[index]);
    const sent = await fetch(upload.url, { method: "POST", body: post }).catch(() => null);
    if (!sent || !sent.ok) failed.push(files[index].name);
  }
  if (failed.length) {
    sayFiles(form, `The note is saved, but these files did not upload: ${failed.join(", ")}. Reload the page and add them to the note again.`);
    return;
  }
  window.history.replaceState(null, "", result.next);
  window.location.reload();
}
document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-max-files]");
  if (!form) return;
  if (checkFiles(form)) { event.preventDefault(); return; }
  const files = chosenFiles(form);
  if (form.dataset.noteFiles === undefined || !files.length || !window.fetch) return;
  event.preventDefault();
  uploadNoteFiles(form, event.submitter, files);
});

// ---------------------------------------------------------------- the template editor
// A variable <button data-insert="{{ customer.name }}" data-insert-into="f-text"> puts its text at the
// cursor of the field last focused among [data-insert-target] (else of data-insert-into).
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

// ---------------------------------------------------------------- mentions typed as @Name
// <textarea data-mention-from="<select of the people>" aria-controls="<listbox>">: typing "@" and the
// start of a name lists the people who see the customer; arrows move, Enter or Tab picks, Escape
// closes. The server turns "@Full Name" into the mention, so typing it in full works without this.
function mentionQuery(field) {
  const before = field.value.slice(0, field.selectionStart);
  const match = /(?:^|\s)@([^\s@]*(?: [^\s@]*)?)$/.exec(before);
  return match ? { text: match[1].toLowerCase(), start: field.selectionStart - match[1].length - 1 } : null;
}
function mentionList(field) { return document.getElementById(field.getAttribute("aria-controls")); }
function closeMentions(field) {
  const list = mentionList(field);
  list.hidden = true;
  list.replaceChildren();
  field.removeAttribute("aria-activedescendant");
}
function showMentions(field) {
  const query = mentionQuery(field);
  const list = mentionList(field);
  const people = query ? [...document.getElementById(field.dataset.mentionFrom).options].filter((option) => {
    const name = option.text.toLowerCase();
    return name.startsWith(query.text) || name.split(" ").some((part) => part.startsWith(query.text));
  }).slice(0, 8) : [];
  if (!people.length) { closeMentions(field); return; }
  list.replaceChildren(...people.map((option, index) => {
    const item = document.createElement("li");
    item.id = `${list.id}-${index}`;
    item.setAttribute("role", "option");
    item.setAttribute("aria-selected", String(index === 0));
    item.className = "list-group-item list-group-item-action py-1 small";
    item.dataset.name = option.text;
    item.textContent = option.text;
    return item;
  }));
  list.hidden = false;
  field.setAttribute("aria-activedescendant", `${list.id}-0`);
}
function pickMention(field, item) {
  const query = mentionQuery(field);
  if (query) field.setRangeText(`@${item.dataset.name} `, query.start, field.selectionStart, "end");
  closeMentions(field);
  field.focus();
}
document.addEventListener("input", (event) => {
  if (event.target.matches("textarea[data-mention-from]")) showMentions(event.target);
});
document.addEventListener("keydown", (event) => {
  const field = event.target.closest("textarea[data-mention-from]");
  if (!field || mentionList(field).hidden) return;
  const items = [...mentionList(field).children];
  const current = items.findIndex((item) => item.getAttribute("aria-selected") === "true");
  if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    event.preventDefault();
    const next = (current + (event.key === "ArrowDown" ? 1 : items.length - 1)) % items.length;
    items.forEach((item, index) => item.setAttribute("aria-selected", String(index === next)));
    field.setAttribute("aria-activedescendant", items[next].id);
  } else if (event.key === "Enter" || event.key === "Tab") {
    event.preventDefault();
    pickMention(field, items[Math.max(current, 0)]);
  } else if (event.key === "Escape") {
    closeMentions(field);
  }
});
document.addEventListener("mousedown", (event) => {
  const item = event.target.closest("[role=option][data-name]");
  if (!item) return;
  event.preventDefault(); // the note keeps the focus
  const field = document.querySelector(`textarea[aria-controls="${item.parentNode.id}"]`);
  if (field) pickMention(field, item);
});
document.addEventListener("focusout", (event) => {
  if (event.target.matches("textarea[data-mention-from]")) closeMentions(event.target);
});

// Enhancements only: every action works without this script.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // The secret's copy button (shown only when the clipboard can be used).
  document.querySelectorAll("button[data-copy]").forEach(function (btn) {
    var field = document.getElementById(btn.getAttribute("data-copy"));
    if (!field || !navigator.clipboard) { return; }
    btn.hidden = false;
    btn.addEventListener("click", function () {
      var note = document.getElementById("copied");
      navigator.clipboard.writeText(field.value).then(function () {
        if (note) { note.textContent = "Copied to the clipboard."; }
      }, function () {
        field.select();
        if (note) { note.textContent = "Press Ctrl+C (or Cmd+C) to copy."; }
      });
    });
  });
  // Menus: one open at a time; Escape or a click elsewhere closes them.
  var menus = document.querySelectorAll("details.menu");
  function closeAll(except) {
    menus.forEach(function (m) { if (m !== except) { m.open = false; } });
  }
  menus.forEach(function (m) {
    m.addEventListener("toggle", function () { if (m.open) { closeAll(m); } });
  });
  document.addEventListener("click", function (e) {
    if (!e.target.closest("details.menu")) { closeAll(null); }
  });
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") { return; }
    menus.forEach(function (m) {
      if (m.open) { m.open = false; m.querySelector("summary").focus(); }
    });
  });
});

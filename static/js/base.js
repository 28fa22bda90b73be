// Shared behaviour for every page. No inline scripts: the CSP forbids them.
document.addEventListener("htmx:responseError", (event) => {
  const status = event.detail.xhr.status;
  window.alert(status === 403 ? "You may not change this." : `The server answered ${status}. Nothing was saved.`);
});

// A data table wider than its panel scrolls inside its own box, never the page (static/css/phone.css).
// The box is focusable only while it scrolls, so a keyboard user can scroll it too.
function wrapTables(root) {
  for (const table of root.querySelectorAll("table.table:not(.cards-on-phone)")) {
    if (table.parentElement.classList.contains("table-scroll")) continue;
    const box = document.createElement("div");
    box.className = "table-scroll";
    table.parentElement.insertBefore(box, table);
    box.appendChild(table);
  }
  markScrollableTables();
}
function markScrollableTables() {
  for (const box of document.querySelectorAll(".table-scroll")) {
    if (box.scrollWidth > box.clientWidth + 1) {
      const table = box.querySelector("table");
      const label = table.querySelector("caption")?.textContent || table.getAttribute("aria-label")
        || box.closest("section")?.querySelector("h1, h2, h3")?.textContent || "Table";
      box.setAttribute("tabindex", "0");
      box.setAttribute("role", "region");
      box.setAttribute("aria-label", `${label.trim()} (scrolls sideways)`);
    } else {
      box.removeAttribute("tabindex");
      box.removeAttribute("role");
      box.removeAttribute("aria-label");
    }
  }
}
document.addEventListener("DOMContentLoaded", () => wrapTables(document));
document.addEventListener("htmx:afterSettle", () => wrapTables(document));
window.addEventListener("resize", markScrollableTables);

// "/" focuses the search box (as on most sites).
document.addEventListener("keydown", (event) => {
  const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement.tagName);
  if (event.key === "/" && !typing) {
    event.preventDefault();
    document.getElementById("id_q")?.focus();
  }
});

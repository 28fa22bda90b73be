// Renewal board: choosing a stage moves the card at once; the Move button is the no-JS fallback.
document.documentElement.classList.add("js");
document.addEventListener("change", (event) => {
  const select = event.target.closest("select.js-autosubmit");
  if (select) select.form.requestSubmit();
});

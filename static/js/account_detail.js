// Ctrl+Enter (or Cmd+Enter) in the touchpoint form logs it; after htmx swaps the form back,
// focus returns to its first field so the next touchpoint is a few keys away.
document.addEventListener("keydown", (event) => {
  const form = event.target.closest?.("form.touchpoint-form");
  if (form && event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    form.requestSubmit();
  }
});
document.addEventListener("htmx:afterSwap", (event) => {
  if (event.detail.target.id === "touchpoint-form") {
    const field = event.detail.target.querySelector("[aria-invalid], .errorlist + *, select, input:not([type=hidden])");
    field?.focus();
  }
});

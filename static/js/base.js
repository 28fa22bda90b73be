// Shared behaviour for every page. No inline scripts: the CSP forbids them.
document.addEventListener("htmx:responseError", (event) => {
  const status = event.detail.xhr.status;
  window.alert(status === 403 ? "You may not change this." : `The server answered ${status}. Nothing was saved.`);
});

// Renewal board: drag a card to another open stage; its own form (stage + Move) does the move,
// so dragging and the keyboard take the same path. A stage with consequences asks first.
document.documentElement.classList.add("js");
let dragged = null;
document.addEventListener("dragstart", (event) => {
  dragged = event.target.closest(".board-card[draggable]");
  if (dragged) event.dataTransfer.setData("text/plain", dragged.dataset.stage);
});
document.addEventListener("dragover", (event) => {
  const column = event.target.closest(".board-col");
  const select = dragged && column && dragged.querySelector("select[name=stage]");
  if (select && [...select.options].some((o) => o.value === column.dataset.stage)) event.preventDefault();
});
document.addEventListener("drop", (event) => {
  const column = event.target.closest(".board-col");
  if (!dragged || !column || column.dataset.stage === dragged.dataset.stage) return;
  event.preventDefault();
  const card = dragged;
  dragged = null;
  if (column.dataset.confirm && !window.confirm(column.dataset.confirm)) return;
  card.querySelector("select[name=stage]").value = column.dataset.stage;
  card.querySelector("form.board-move").submit();
});

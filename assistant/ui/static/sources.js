// js_on_load of the sources panel. A click on an [n] marker in the chat scrolls its card into view (or
// asks the server for the sources of that earlier answer); "Show in article" opens the article view.
const focusCard = (id) => {
  const card = document.getElementById(id);
  if (!card) return false;
  card.scrollIntoView({ block: "nearest", behavior: "smooth" });
  card.classList.remove("flash");
  void card.offsetWidth; // restart the animation
  card.classList.add("flash");
  return true;
};
window.briefingTrigger = trigger; // the latest panel's trigger, for the one document-level handler
if (!window.briefingCites) {
  window.briefingCites = true;
  document.addEventListener("click", (event) => {
    const link = event.target.closest && event.target.closest("a.cite");
    const match = link && link.getAttribute("href").match(/^#source-(\d+)-(\d+)$/);
    if (!match) return;
    event.preventDefault();
    const id = `source-${match[1]}-${match[2]}`;
    if (!focusCard(id)) {
      window.briefingPending = id;
      window.briefingTrigger("click", { action: "show", turn: Number(match[1]), n: Number(match[2]) });
    }
  });
}
element.addEventListener("click", (event) => {
  const button = event.target.closest("button.open-article");
  if (button) {
    trigger("click", { action: "open", source: button.dataset.source, n: Number(button.dataset.n) });
  }
});
watch("value", () => {
  if (window.briefingPending && focusCard(window.briefingPending)) window.briefingPending = null;
});

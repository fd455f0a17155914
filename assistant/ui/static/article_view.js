// js_on_load of the article view: after each render, bring the focused citation into view.
const reveal = (tries) => {
  const mark = element.querySelector("mark.focus");
  if (!mark) return;
  if (mark.offsetParent === null && tries > 0) {
    setTimeout(() => reveal(tries - 1), 100); // the tab is still being shown
    return;
  }
  mark.scrollIntoView({ block: "center", behavior: "smooth" });
};
watch("value", () => reveal(20));

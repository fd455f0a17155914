// js_on_load of the article list: a click on a row opens that article.
element.addEventListener("click", (event) => {
  const row = event.target.closest("button.article-row");
  if (row) trigger("click", { source: row.dataset.source });
});

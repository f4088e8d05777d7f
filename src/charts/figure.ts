/** The `<figure class="fw-chart" data-fw-chart>` every chart helper returns, with its title as text. */
export function chartFigure(doc: Document, id: string, title?: string): HTMLElement {
  const figure = doc.createElement("figure");
  figure.className = "fw-chart";
  figure.dataset.fwChart = id;
  if (title) {
    const heading = doc.createElement("h3");
    heading.textContent = title;
    figure.append(heading);
  }
  return figure;
}

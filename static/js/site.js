// Small enhancements only: the site works without this file.
//
// It is loaded in the head, before the first paint, to set these classes: with them the stylesheet lays
// the page out as the enhancements below will leave it, so that nothing moves once they run.
document.documentElement.classList.add("js");
if (navigator.clipboard) document.documentElement.classList.add("js-clipboard");

const FACET_VISIBLE = 5; // as in site.css: .js .facet li:nth-child(n+6)

function copyButton(button) {
  const source = document.getElementById(button.dataset.copy);
  if (!source || !navigator.clipboard) return;
  button.hidden = false;
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(source.value);
      button.textContent = "Copied";
    } catch (error) {
      source.select();
      button.textContent = "Press Ctrl+C to copy";
    }
    setTimeout(() => { button.textContent = "Copy citation"; }, 2500);
  });
}

// A long facet list shows its first values and a button for the rest; a chosen value is never hidden.
// Without this script every value is listed.
function facetList(list, index) {
  const extra = Array.from(list.children).slice(FACET_VISIBLE).filter((item) => !item.classList.contains("active"));
  if (extra.length === 0) return;
  const label = list.closest(".facet").querySelector("h3").textContent.trim();
  const button = document.createElement("button");
  button.type = "button";
  button.className = "facet-more";
  list.id = list.id || `facet-list-${index}`;
  button.setAttribute("aria-controls", list.id);
  const show = (expanded) => {
    list.classList.toggle("expanded", expanded);
    button.setAttribute("aria-expanded", String(expanded));
    button.textContent = expanded ? "Show fewer" : `Show ${extra.length} more`;
    const context = document.createElement("span");
    context.className = "visually-hidden";
    context.textContent = ` (${label})`;
    button.append(context);
  };
  button.addEventListener("click", () => show(!list.classList.contains("expanded")));
  show(false);
  list.after(button);
  list.classList.add("with-more");
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll(".copy-button[data-copy]").forEach(copyButton);
  document.querySelectorAll(".facet ul").forEach(facetList);
});

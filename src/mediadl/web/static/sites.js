// The list of sites: a filter that narrows it as you type.
import { $ } from './dom.js';
import { number, t } from './i18n.js';

const filter = $('filter');
const shown = $('shown');
const none = $('none');
const items = [...document.querySelectorAll('.all-sites > li')];
const texts = items.map((li) => li.textContent.toLowerCase());
const count = Number(shown.dataset.count);

function apply() {
  const words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
  let visible = 0;
  items.forEach((li, i) => {
    const match = words.every((w) => texts[i].includes(w));
    li.hidden = !match;
    if (match) visible += 1;
  });
  shown.textContent = t('sitespage.shown', { shown: number(visible), count: number(count) });
  none.hidden = visible > 0;
}

filter.addEventListener('input', apply);
apply();

// The link in the address bar: `/?url=…` (bookmarklets, the share target's `url` or `text`) and
// `/#…` bring a link in; a link that was read goes back into the address, so back, refresh and the
// language switch find it again, and the choice made for it is kept for this tab.

/** The link the address carries, or ''. */
export function linkInAddress() {
  const query = new URLSearchParams(location.search);
  const given = query.get('url') || query.get('text') || '';
  if (given.trim()) return given;
  try {
    return decodeURIComponent(location.hash.slice(1));
  } catch {
    return location.hash.slice(1);
  }
}

/** Put `url` (or nothing) in the address without a new history entry, and in the language links. */
export function keepLink(url) {
  const query = new URLSearchParams(location.search);
  query.delete('text');
  query.delete('title');
  query.delete('lang');
  if (url) query.set('url', url);
  else query.delete('url');
  const search = query.toString();
  history.replaceState(history.state, '', `${location.pathname}${search ? `?${search}` : ''}`);
  for (const link of document.querySelectorAll('a[hreflang]')) {
    const lang = new URL(link.href).searchParams.get('lang');
    const target = new URLSearchParams({ lang });
    if (url) target.set('url', url);
    link.href = `?${target}`;
  }
}

const choiceKey = (url, item) => `mediadl.choice:${item || 0}:${url}`;

/** The choice last made for this link in this tab ({value, mute}), or null. */
export function rememberedChoice(url, item = null) {
  try {
    return JSON.parse(sessionStorage.getItem(choiceKey(url, item)) || 'null');
  } catch {
    return null;
  }
}

export function rememberChoice(url, item, choice) {
  try {
    sessionStorage.setItem(choiceKey(url, item), JSON.stringify(choice));
  } catch {
    // storage refused: the choice isn't kept, nothing else changes
  }
}

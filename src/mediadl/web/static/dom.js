// Building DOM nodes without innerHTML: every text from a server or a site goes in as text.

/** h('p', {class: 'x', onclick: f}, 'text', node, …) */
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else if (name === 'class') node.className = value;
    else if (name in node && typeof value !== 'string') node[name] = value;
    else node.setAttribute(name, value === true ? '' : value);
  }
  node.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

export const $ = (id) => document.getElementById(id);

/** Show or hide `node` (the hidden attribute, so it also leaves the accessibility tree). */
export function show(node, visible = true) {
  node.hidden = !visible;
  return node;
}

/** Text from a stranger, safe to show: no bidi overrides or control characters to reorder it. */
export function plain(text) {
  return String(text ?? '').replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, '');
}

// Small DOM helpers for the console: elements from data (text only, never HTML), tables, pagers.

/**
 * `h('a', {href: '#/jobs', class: 'x'}, 'text', child)`: an element. Props starting with `on`
 * are listeners, `class` is the class name, `aria-*`, `data-*` and others are attributes; text
 * children are text nodes, null and false children are skipped.
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else if (key in el && !key.includes('-') && typeof value !== 'string') el[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** A link to a console route (`#/jobs/…`). */
export const link = (route, text, label) => h('a', { href: `#${route}`, 'aria-label': label }, text);

/** A table with a caption (its accessible name), column headers and rows of cells (text or nodes). */
export function table(caption, headers, rows, { id, empty = 'Nothing to show.' } = {}) {
  if (!rows.length) return h('p', { class: 'hint', id }, empty);
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { id },
      h('caption', { class: 'visually-hidden' }, caption),
      h('thead', {}, h('tr', {}, headers.map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, rows.map((cells) => h('tr', {}, cells.map((c) => h('td', {}, c ?? ''))))),
    ),
  );
}

/** A definition list of [label, value] pairs (value text or a node); `ids` gives each value an id. */
export const facts = (pairs, prefix) =>
  h('dl', { class: 'counts' }, pairs.flatMap(([label, value, key]) => [h('dt', {}, label), h('dd', { id: prefix && key ? `${prefix}-${key}` : undefined }, value ?? '—')]));

/**
 * Keyset pagination over an API list: `load(cursor)` resolves with `{items, next_cursor}`; `render(page)`
 * draws a page. Keeps the cursors seen so that "Previous" goes back. Returns the pager's element
 * (its buttons) and `reload()`.
 */
export function pager(load, render, { label = 'page' } = {}) {
  const cursors = [null];
  let index = 0;
  const status = h('span', { class: 'hint', 'aria-live': 'polite' });
  const prev = h('button', { type: 'button', class: 'secondary small', onclick: () => go(index - 1) }, 'Previous page');
  const next = h('button', { type: 'button', class: 'secondary small', onclick: () => go(index + 1) }, 'Next page');
  prev.setAttribute('aria-label', `Previous ${label}`);
  next.setAttribute('aria-label', `Next ${label}`);
  const el = h('div', { class: 'row pager' }, prev, next, status);
  async function go(i) {
    const page = await load(cursors[i]);
    index = i;
    if (page.next_cursor) cursors[i + 1] = page.next_cursor;
    cursors.length = page.next_cursor ? i + 2 : i + 1;
    prev.disabled = index === 0;
    next.disabled = !page.next_cursor;
    status.textContent = index > 0 || page.next_cursor ? `Page ${index + 1}` : '';
    render(page);
  }
  return { el, reload: () => go(0), refresh: () => go(index) };
}

/** Replaces the children of element `id` (or an element). */
export function fill(target, ...children) {
  const el = typeof target === 'string' ? document.getElementById(target) : target;
  el.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

let viewController = null;
/** A signal for the page being shown: the previous page's follows and polls are aborted. */
export function viewSignal() {
  viewController?.abort();
  viewController = new AbortController();
  return viewController.signal;
}

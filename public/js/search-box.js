const SEARCH_DELAY_MS = 150;

/**
 * The search form over a log: typing searches (after a short pause), Enter and the ↓ button
 * go to the next match, Shift+Enter and ↑ to the previous one, both wrapping around; the
 * count says "3 of 17". Matches are drawn by LogView from the same LogSearch.
 */
export class SearchBox {
  constructor(form, { search, lines, onMove, onChange }) {
    this.search = search;
    this.lines = lines;
    this.onMove = onMove;
    this.onChange = onChange;
    this.input = form.querySelector('input[type="search"]');
    this.count = form.querySelector('output');
    this.timer = null;
    form.addEventListener('submit', (event) => event.preventDefault());
    form.querySelector('[data-role="search-next"]').addEventListener('click', () => this.move(1));
    form.querySelector('[data-role="search-previous"]').addEventListener('click', () => this.move(-1));
    this.input.addEventListener('input', () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.runQuery(), SEARCH_DELAY_MS);
    });
    this.input.addEventListener('keydown', (event) => {
      if (event.key !== 'Enter') return;
      event.preventDefault();
      clearTimeout(this.timer);
      this.move(event.shiftKey ? -1 : 1);
    });
  }

  runQuery() {
    this.search.setQuery(this.input.value, this.lines());
    if (this.search.count > 0) this.move(1);
    this.renderCount();
    this.onChange();
  }

  move(direction) {
    if (this.search.query !== this.input.value) this.search.setQuery(this.input.value, this.lines());
    const match = direction > 0 ? this.search.next() : this.search.previous();
    if (match) this.onMove(match.line);
    this.renderCount();
    this.onChange();
  }

  /** Shows the count and position; called again whenever lines arrive. */
  renderCount() {
    const { search } = this;
    const text = search.query === '' ? '' : search.count === 0 ? 'No matches' : `${search.position} of ${search.count.toLocaleString('en')}`;
    if (this.count.textContent !== text) this.count.textContent = text;
  }
}

/**
 * The sidebar's tabs (Builds, Workers), as the WAI-ARIA tabs pattern has them: one tab in the
 * Tab order, arrow keys, Home and End move between tabs and show their panel at once.
 * `onSelect` gets the `data-view` of the tab shown.
 */
export class SidebarTabs {
  constructor(tablist, { onSelect }) {
    this.tabs = [...tablist.querySelectorAll('[role="tab"]')];
    this.onSelect = onSelect;
    for (const tab of this.tabs) tab.addEventListener('click', () => this.select(tab));
    tablist.addEventListener('keydown', (event) => {
      const index = this.tabs.indexOf(event.target);
      if (index === -1) return;
      const last = this.tabs.length - 1;
      const moves = { ArrowRight: index === last ? 0 : index + 1, ArrowLeft: index === 0 ? last : index - 1, Home: 0, End: last };
      if (!(event.key in moves)) return;
      event.preventDefault();
      const tab = this.tabs[moves[event.key]];
      this.select(tab);
      tab.focus();
    });
  }

  /** The `data-view` of the tab shown now. */
  get current() {
    return this.tabs.find((tab) => tab.getAttribute('aria-selected') === 'true')?.dataset.view ?? null;
  }

  select(chosen) {
    for (const tab of this.tabs) {
      const isChosen = tab === chosen;
      tab.setAttribute('aria-selected', String(isChosen));
      tab.tabIndex = isChosen ? 0 : -1;
      document.getElementById(tab.getAttribute('aria-controls')).hidden = !isChosen;
    }
    this.onSelect(chosen.dataset.view);
  }
}

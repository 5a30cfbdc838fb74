/** Where `needle` (already lower case) occurs in `text`, ignoring case; non-overlapping. */
export function findAll(text, needle) {
  const starts = [];
  if (needle === '') return starts;
  const haystack = text.toLowerCase();
  let at = haystack.indexOf(needle);
  while (at !== -1) {
    starts.push(at);
    at = haystack.indexOf(needle, at + needle.length);
  }
  return starts;
}

/**
 * A case-insensitive plain-text search over the lines of a log (their text as shown, without
 * colours), kept current as lines arrive and change, with a current match for next/previous.
 * `lines` are objects with a `text`; they are named by their index.
 */
export class LogSearch {
  constructor() {
    this.query = '';
    this.needle = '';
    /** Matches per line index, for the lines that have any. */
    this.counts = new Map();
    /** The indexes of the lines with matches, ascending. */
    this.matchLines = [];
    this.total = 0;
    /** The current match: its line index and its number within the line. */
    this.current = null;
    this.prefix = null;
    /** Bumped on every change, so that a view knows when to draw matches again. */
    this.version = 0;
  }

  get count() {
    return this.total;
  }

  /** The 1-based position of the current match among all matches, or 0. */
  get position() {
    if (!this.current) return 0;
    const order = this.lowerBound(this.current.line);
    return this.prefixSums()[order] + this.current.k + 1;
  }

  /** Starts a new search over all lines. */
  setQuery(query, lines) {
    this.query = query;
    this.needle = query.toLowerCase();
    this.counts = new Map();
    this.matchLines = [];
    this.total = 0;
    this.current = null;
    this.prefix = null;
    this.version += 1;
    if (this.needle === '') return;
    for (let i = 0; i < lines.length; i += 1) {
      const n = findAll(lines[i].text, this.needle).length;
      if (n === 0) continue;
      this.counts.set(i, n);
      this.matchLines.push(i);
      this.total += n;
    }
  }

  /** The log was cleared: the query stays, the matches go. */
  clearLines() {
    this.setQuery(this.query, []);
  }

  /** Counts again the lines that were added or changed. */
  update(lines, lineIndexes) {
    if (this.needle === '') return;
    for (const index of lineIndexes) {
      const line = lines[index];
      if (!line) continue;
      const before = this.counts.get(index) ?? 0;
      const after = findAll(line.text, this.needle).length;
      if (after === before) continue;
      this.total += after - before;
      this.prefix = null;
      this.version += 1;
      if (after === 0) {
        this.counts.delete(index);
        this.matchLines.splice(this.lowerBound(index), 1);
        if (this.current?.line === index) this.current = null;
        continue;
      }
      this.counts.set(index, after);
      if (before === 0) this.insertLine(index);
      if (this.current?.line === index && this.current.k >= after) this.current = { line: index, k: after - 1 };
    }
  }

  /** Where the matches of one line start. */
  matchesIn(lineIndex, lines) {
    if (!this.counts.has(lineIndex)) return [];
    return findAll(lines[lineIndex].text, this.needle);
  }

  /** Moves to the next match (wrapping around) and returns it, or null when there is none. */
  next() {
    return this.step(1);
  }

  /** Moves to the previous match (wrapping around) and returns it, or null when there is none. */
  previous() {
    return this.step(-1);
  }

  step(direction) {
    if (this.total === 0) return null;
    const lines = this.matchLines;
    let { current } = this;
    if (!current) {
      const line = direction > 0 ? lines[0] : lines[lines.length - 1];
      current = { line, k: direction > 0 ? 0 : this.counts.get(line) - 1 };
    } else {
      const k = current.k + direction;
      if (k >= 0 && k < this.counts.get(current.line)) {
        current = { line: current.line, k };
      } else {
        const order = (this.lowerBound(current.line) + direction + lines.length) % lines.length;
        const line = lines[order];
        current = { line, k: direction > 0 ? 0 : this.counts.get(line) - 1 };
      }
    }
    this.current = current;
    this.version += 1;
    return current;
  }

  /** Index in matchLines of the first line at or after `lineIndex`. */
  lowerBound(lineIndex) {
    let low = 0;
    let high = this.matchLines.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (this.matchLines[mid] < lineIndex) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  insertLine(index) {
    const last = this.matchLines[this.matchLines.length - 1];
    if (last === undefined || last < index) this.matchLines.push(index);
    else this.matchLines.splice(this.lowerBound(index), 0, index);
  }

  /** Matches before each entry of matchLines, rebuilt only after a change. */
  prefixSums() {
    if (this.prefix) return this.prefix;
    const prefix = new Array(this.matchLines.length);
    let sum = 0;
    for (let i = 0; i < this.matchLines.length; i += 1) {
      prefix[i] = sum;
      sum += this.counts.get(this.matchLines[i]);
    }
    this.prefix = prefix;
    return prefix;
  }
}

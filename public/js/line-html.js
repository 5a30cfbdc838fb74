import { AnsiUp } from '/vendor/ansi_up.js';

/**
 * Colours through ansi_up (SGR: the 16 colours as classes themed in style.css, 256 and true
 * colour as inline rgb, bold, faint, italic, underline). ansi_up escapes every character of
 * text it outputs (& < > " '), so a log line can never become markup.
 */
const ansiUp = new AnsiUp();
ansiUp.use_classes = true;
ansiUp.escape_html = true;

/** HTML for a line's text with SGR sequences (TerminalLine.ansi), from and back to a reset state. */
export function lineToHtml(ansi) {
  return ansiUp.ansi_to_html(`\x1b[0m${ansi}\x1b[0m`);
}

import { loadPageModule, type LineHtmlModule, type TerminalLineApi, type TerminalLineModule } from '../../helpers/page-modules.js';

const { TerminalLine, TerminalWriter, applySgr, PLAIN } = await loadPageModule<TerminalLineModule>('terminal-line');
const { lineToHtml } = await loadPageModule<LineHtmlModule>('line-html');

/** What a terminal shows after `pieces` are written to one line, as text and as SGR-only ANSI. */
function show(...pieces: string[]): TerminalLineApi {
  const line = new TerminalLine();
  const writer = new TerminalWriter();
  for (const piece of pieces) writer.write(line, piece);
  return line;
}

/** The HTML that the page makes of a line (public/js/line-html.js, through ansi_up). */
function html(line: TerminalLineApi): string {
  return lineToHtml(line.ansi);
}

describe('TerminalLine and TerminalWriter (public/js/terminal-line.js)', () => {
  it('keeps plain text as it is, tabs included', () => {
    expect(show('hello\tworld').text).toBe('hello\tworld');
  });

  it('keeps SGR sequences for ansi_up and takes them out of the text', () => {
    const line = show('\x1b[1;36mdemo\x1b[0m building');
    expect(line.text).toBe('demo building');
    expect(line.ansi).toBe('\x1b[1;36mdemo\x1b[0m building');
  });

  it('draws a \\r progress bar as its last state', () => {
    expect(show('\rRendering 10%', '\rRendering 50%', '\rRendering 100%').text).toBe('Rendering 100%');
  });

  it('overwrites cell by cell after \\r, as a terminal does, so \\r\\n output keeps its text', () => {
    expect(show('abcdef\rXY').text).toBe('XYcdef');
    expect(show('windows line\r').text).toBe('windows line');
  });

  it("clears and rewinds the line on yarn's ESC[2K ESC[1G", () => {
    const line = show('\x1b[2K\x1b[1Gspinner |', '\x1b[2K\x1b[1Gspinner /', '\x1b[2K\x1b[1G\x1b[32msuccess\x1b[39m done');
    expect(line.text).toBe('success done');
    expect(html(line)).toBe('<span class="ansi-green-fg">success</span> done');
  });

  it('erases to the end with ESC[K and to the start with ESC[1K', () => {
    expect(show('abcdef\x1b[3G\x1b[K').text).toBe('ab');
    expect(show('abcdef\x1b[3G\x1b[1K').text).toBe('   def');
  });

  it('moves with ESC[nC, ESC[nD and backspace, padding with spaces past the end', () => {
    expect(show('ab\x1b[3Cc').text).toBe('ab   c');
    expect(show('abc\x1b[2DX').text).toBe('aXc');
    expect(show('abc\bX').text).toBe('abX');
  });

  it('drops escape sequences it does not draw: OSC links keep their text, private modes vanish', () => {
    expect(show('\x1b]8;;https://example.com\x07link\x1b]8;;\x07 \x1b[?25lhidden cursor\x1b[?25h \x1b(Bok').text).toBe('link hidden cursor ok');
  });

  it('joins an escape sequence cut between two writes (a partial line flushed mid-sequence)', () => {
    const line = show('before \x1b[3', '2mgreen\x1b[0m');
    expect(line.text).toBe('before green');
    expect(line.ansi).toBe('before \x1b[32mgreen\x1b[0m');
  });

  it('never lets a control character through as text', () => {
    expect(show('a\x07b\x00c\x1bd\x7fe').text).toBe('abce');
  });

  it('carries the SGR state across writes, as a terminal keeps colours across lines', () => {
    const writer = new TerminalWriter();
    const first = new TerminalLine();
    writer.write(first, '\x1b[31mred starts');
    writer.endLine();
    const second = new TerminalLine();
    writer.write(second, 'still red\x1b[0m plain');
    expect(second.ansi).toBe('\x1b[31mstill red\x1b[0m plain');
  });

  it('keeps 256-colour and true-colour parameters whole', () => {
    expect(html(show('\x1b[38;5;208mA\x1b[48;2;1;2;3mB'))).toBe(
      '<span style="color:rgb(255,135,0)">A</span><span style="color:rgb(255,135,0);background-color:rgb(1,2,3)">B</span>',
    );
  });

  it('escapes text that looks like markup', () => {
    expect(html(show('\x1b[31m<img src=x onerror=alert(1)>\x1b[0m & "q"'))).toBe(
      '<span class="ansi-red-fg">&lt;img src=x onerror=alert(1)&gt;</span> &amp; &quot;q&quot;',
    );
  });

  it('applySgr: a reset empties the state and the state stays bounded', () => {
    expect(applySgr(['1', '31'], '0')).toBe(PLAIN);
    expect(applySgr(['1'], '')).toBe(PLAIN);
    expect(applySgr(['1'], '0;32')).toEqual(['0;32']);
    let state = PLAIN;
    for (let i = 0; i < 100; i += 1) state = applySgr(state, '1');
    expect(state.length).toBeLessThanOrEqual(32);
  });
});

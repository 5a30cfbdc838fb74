import { loadPageModule, type LineHtmlModule } from '../../helpers/page-modules.js';

const { lineToHtml } = await loadPageModule<LineHtmlModule>('line-html');

describe('lineToHtml (public/js/line-html.js)', () => {
  it('escapes every character that could start markup or leave an attribute', () => {
    expect(lineToHtml(`<script>alert('x')</script> & "q"`)).toBe('&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;q&quot;');
  });

  it('makes the 16 colours classes that style.css themes, bold an inline style', () => {
    expect(lineToHtml('\x1b[1;36mdemo\x1b[0m building')).toBe('<span style="font-weight:bold" class="ansi-cyan-fg">demo</span> building');
  });

  it('starts each line from the reset state, so a colour left open never spills into the next line', () => {
    expect(lineToHtml('\x1b[31mred, never reset')).toBe('<span class="ansi-red-fg">red, never reset</span>');
    expect(lineToHtml('plain')).toBe('plain');
  });
});

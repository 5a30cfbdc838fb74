// Pretends to bundle an app: a few seconds of the output a real build prints, with colours,
// a progress line redrawn with \r, and warnings on stderr. Needs nothing but Node.
const color = (code, text) => `\x1b[${code}m${text}\x1b[0m`;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const modules = ['src/index.ts', 'src/app.tsx', 'src/router.ts', 'src/store/index.ts', 'src/store/builds.ts',
  'src/components/Header.tsx', 'src/components/LogView.tsx', 'src/components/Badge.tsx', 'src/styles/main.css',
  'src/api/client.ts', 'src/api/stream.ts', 'src/utils/format.ts'];

async function main() {
  console.log(color('1;36', 'demo-bundler v3.2.0') + ' building for production...');
  await sleep(300);
  console.log(`Resolving ${modules.length} entry modules`);
  for (let i = 0; i < modules.length; i += 1) {
    await sleep(150);
    console.log(`  ${color('2', `[${String(i + 1).padStart(2)}/${modules.length}]`)} transforming ${modules[i]}`);
    if (modules[i].endsWith('Badge.tsx')) {
      console.error(color('33', 'warning') + ` ${modules[i]}:14:7 'status' is declared but its value is never read`);
    }
  }
  for (let percent = 0; percent <= 100; percent += 10) {
    process.stdout.write(`\rRendering chunks ${'#'.repeat(percent / 10).padEnd(10, '.')} ${percent}%`);
    await sleep(80);
  }
  process.stdout.write('\n');
  console.error(color('33', 'warning') + ' chunk vendor.js is 612.4 kB after minification (limit 500 kB)');
  const files = [['dist/index.html', '0.46 kB'], ['dist/assets/index.css', '8.12 kB'], ['dist/assets/index.js', '143.90 kB'], ['dist/assets/vendor.js', '612.40 kB']];
  for (const [file, size] of files) console.log(`  ${color('2', file.padEnd(26))} ${color('1', size)}`);
  console.log(color('32', '✓') + ` built in ${(2.9 + Math.random() / 2).toFixed(2)}s — ${color('1;32', 'héllo wörld 🎉')}`);
}

main();

// Pretends to type-check a project and fail, the way tsc reports errors (exit code 2).
const color = (code, text) => `\x1b[${code}m${text}\x1b[0m`;
setTimeout(() => {
  console.log('Type-checking 58 files...');
  setTimeout(() => {
    console.error(`${color('36', 'src/server.ts')}:${color('33', '42')}:${color('33', '9')} - ${color('31', 'error')} TS2345: Argument of type 'string' is not assignable to parameter of type 'number'.`);
    console.error('');
    console.error(`42   listen(process.env.PORT);`);
    console.error(`     ${color('31', '~~~~~~~~~~~~~~~~')}`);
    console.error('');
    console.log(`Found ${color('31', '1 error')} in src/server.ts:42`);
    process.exit(2);
  }, 700);
}, 300);

/**
 * Asks the user for the server's access token, once: concurrent requests share one dialog,
 * and a token that arrives from another tab closes it. Resolves with the token, or null when
 * the user dismissed the dialog.
 */
export function createTokenPrompt({ dialog, tokens }) {
  const form = dialog.querySelector('form');
  const input = dialog.querySelector('input');
  const message = dialog.querySelector('[data-role="token-message"]');
  dialog.querySelector('[data-role="token-cancel"]').addEventListener('click', () => dialog.close());
  let asking = null;

  function ask(wasRefused) {
    message.textContent = wasRefused ? 'The server refused that token. Enter the right one.' : 'This server needs an access token.';
    input.value = '';
    if (!dialog.open) dialog.showModal();
    input.focus();
    return new Promise((resolve) => {
      const finish = (token) => {
        form.removeEventListener('submit', onSubmit);
        dialog.removeEventListener('close', onClose);
        if (dialog.open) dialog.close();
        resolve(token);
      };
      const onSubmit = (event) => {
        event.preventDefault();
        const token = input.value.trim();
        if (token !== '') tokens.set(token);
      };
      const onClose = () => finish(null);
      form.addEventListener('submit', onSubmit);
      dialog.addEventListener('close', onClose);
      tokens.next().then(finish);
    });
  }

  return async function askToken(wasRefused = false) {
    asking ??= (async () => (await tokens.fromOtherTabs()) ?? ask(wasRefused))().finally(() => {
      asking = null;
    });
    return asking;
  };
}

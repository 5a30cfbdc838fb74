/**
 * The "Download raw log" link (GET /api/builds/:id/log?raw=1). A plain link cannot send the
 * Authorization header, so when the server needs a token the log is fetched with it and saved
 * from memory instead; the token never goes into a URL here.
 */
export function wireRawLogDownload(link, { tokens, readRawLog, onError }) {
  link.addEventListener('click', async (event) => {
    const buildId = link.dataset.build;
    if (!tokens.get() || !buildId) return;
    event.preventDefault();
    let blob;
    try {
      blob = await readRawLog(buildId);
    } catch (error) {
      onError(error.status === undefined ? `Could not download the log: ${error.message}` : `Could not download the log (HTTP ${error.status}).`);
      return;
    }
    const url = URL.createObjectURL(blob);
    const saving = document.createElement('a');
    saving.href = url;
    saving.download = link.download;
    saving.click();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  });
}

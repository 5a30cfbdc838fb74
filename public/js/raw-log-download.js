/**
 * The "Download raw log" link (GET /api/builds/:id/log?raw=1). A plain link cannot send the
 * Authorization header, so when the server needs a token the log is fetched with it and saved
 * from memory instead; the token never goes into a URL here.
 */
export function wireRawLogDownload(link, { tokens, fetchRawLog, onError }) {
  link.addEventListener('click', async (event) => {
    const buildId = link.dataset.build;
    if (!tokens.get() || !buildId) return;
    event.preventDefault();
    const response = await fetchRawLog(buildId);
    if (!response.ok) {
      onError(`Could not download the log (HTTP ${response.status}).`);
      return;
    }
    const url = URL.createObjectURL(await response.blob());
    const saving = document.createElement('a');
    saving.href = url;
    saving.download = link.download;
    saving.click();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  });
}

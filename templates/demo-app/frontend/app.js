// Shows the live health status of the server next to the built version.
const status = document.getElementById('status');
try {
  const res = await fetch('/api/health', { cache: 'no-store' });
  const body = await res.json();
  status.textContent = res.ok ? `${body.status} (${body.version})` : `error (HTTP ${res.status})`;
} catch (err) {
  status.textContent = `unreachable: ${err.message}`;
}

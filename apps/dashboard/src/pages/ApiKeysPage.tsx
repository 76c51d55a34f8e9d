export function ApiKeysPage() {
  return <p className="muted">Coming soon.</p>;
}

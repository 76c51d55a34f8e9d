export function LayersPage() {
  return <p className="muted">Coming soon.</p>;
}

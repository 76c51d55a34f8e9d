export function MetricsPage() {
  return <p className="muted">Coming soon.</p>;
}
